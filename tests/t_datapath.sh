#!/usr/bin/env bash
# analysis/datapath.py: the data-path figures. The five PNGs are written; the figures' CONTENT is
# checked on the description the drawing consumes (who copies, where, how often, what is pinned,
# how the completion comes back), the measured-share annotation, and plots.py's guarded call.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import matplotlib' >/dev/null 2>&1; then PY=$p; break; fi
done
[ -n "$PY" ] || skip_all "no Python with matplotlib (apt-get install python3-matplotlib)"
diag "using $PY"

FIGS="data_path_A1 data_path_A2 data_path_A3 data_path_A3_loopback_vs_nic data_path_A4"
png_size() { # png_size FILE: "WIDTHxHEIGHT" from the IHDR chunk, or nothing when not a PNG
  [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
  local w h
  w=$(od -An -tu1 -j 16 -N 4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
  h=$(od -An -tu1 -j 20 -N 4 "$1" | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
  echo "${w}x${h}"
}

# --- the CLI writes the five figures, at README width, with no layout problem reported
out=$("$PY" -m analysis.datapath --out-dir "$tmp/figs" 2>"$tmp/err"); rc=$?
is "$rc" 0 "python3 -m analysis.datapath: exit 0"
like "$out" "wrote .*data_path_A4.png" "says what it wrote"
is "$(cat "$tmp/err")" "" "no overflowing or overlapping text reported while drawing"
for f in $FIGS; do
  is "$(png_size "$tmp/figs/$f.png")" "1100x650" "$f.png is a 1100x650 PNG"
done
o=$("$PY" -m analysis.datapath --bogus 2>&1); rc=$?
is "$rc" 2 "unknown option: exit 2"
like "$o" "unrecognized arguments: --bogus" "unknown option: named"
: >"$tmp/afile"
o=$("$PY" -m analysis.datapath --out-dir "$tmp/afile/sub" 2>&1); rc=$?
is "$rc" 1 "out-dir that cannot be made: exit 1"
is "$(printf '%s\n' "$o" | wc -l | tr -d ' ')" 1 "out-dir that cannot be made: one line"

# --- the content: facts about each description, one per line, compared below
facts=$("$PY" - <<'PY' 2>&1
from analysis import datapath as d

figs = {f["name"]: f for f in d.describe_all()}
panels = {p["name"]: p for f in figs.values() for p in f["panels"]}

def say(k, v):
    print(f"{k}={v}")

say("figures", " ".join(f["file"] for f in figs.values()))
say("panels", " ".join(panels))
say("problems", "; ".join(x for f in figs.values() for x in d.problems(f)) or "none")
for name, p in panels.items():
    st = d.steps(p)
    recv = [b for b in st if b["category"] == d.RECV_COPY]
    say(f"{name}.recv_copy", ",".join(f"{b['actor']}/{b['side']}/{b['copy']}" for b in recv))
    send = d.cpu_copies(p, "send")
    say(f"{name}.send_cpu_copies", len(send))
    say(f"{name}.send_copy_actors", ",".join(f"{b['actor']}:{b['copy']}" for b in send))
    say(f"{name}.dma_steps", ",".join(b["side"] for b in st if b["actor"] == "nic_dma"))
    say(f"{name}.fields", ",".join(str(b["fields"]) for b in p["boxes"]
                                   if b["kind"] == "buffer" and b["side"] == "send" and b["fields"] and not b["contiguous"]))
    say(f"{name}.pinned", ",".join(b["id"] for b in p["boxes"] if b["pinned"]))
    say(f"{name}.pin_step", ",".join(f"{b['actor']}/{b['copy']}" for b in st if b["category"] == d.PINNING))
    say(f"{name}.deferred", ",".join(f"{b['actor']}/{b['cpu_of']}/{b['copy']}" for b in st
                                     if b["category"] == d.DEFERRED_COPY))
    say(f"{name}.completion_codes", ",".join(str(b["completion_code"]) for b in st
                                             if b["category"] == d.COMPLETION))
    # the way back, in step order: completion queued -> recvmsg(MSG_ERRQUEUE) -> the slot reused
    order = [b["id"] for b in st if b["id"] in ("complete", "errqueue", "reuse")]
    say(f"{name}.way_back", ",".join(order))
    say(f"{name}.errqueue_label", " ".join(b["label"] for b in st if b["id"] == "errqueue").replace("\n", " "))
    say(f"{name}.arrows_into_slot", ",".join(f"{a['src']}:{a['kind']}" for a in p["arrows"] if a["dst"] == "slot"))
    say(f"{name}.dma_reads", ",".join(a["src"] for a in p["arrows"] if a["kind"] == "dma" and a["dst"] == "tx_dma"))
    say(f"{name}.sender_pays", len(d.copies_paid_by(p, "sender")))
    say(f"{name}.submit", ",".join(f"{b['step']}:{b['actor']}:{b['category']}" for b in st if b["id"] == "submit"))
    say(f"{name}.cqring", ",".join(b["kind"] for b in p["boxes"] if b["id"] == "cqring"))
    say(f"{name}.tally", d.tally(p))

# a broken description is caught before anything is drawn
bad = d.describe_a1()
bad["panels"][0]["boxes"][1]["x"] = bad["panels"][0]["boxes"][0]["x"]   # memcpy on top of the fields
bad["panels"][0]["arrows"].append(d._arrow("memcpy", "nowhere", "copy"))
say("bad_problems", "; ".join(d.problems(bad)))
PY
)
fact() { printf '%s\n' "$facts" | sed -n "s/^$1=//p"; }
[ -n "$(fact figures)" ] || { diag "description script failed:"; printf '%s\n' "$facts" | sed 's/^/#   /' | sed -n 1,20p; }

is "$(fact figures)" "data_path_A1.png data_path_A2.png data_path_A3.png data_path_A3_loopback_vs_nic.png data_path_A4.png" "five figures, in file order"
is "$(fact panels)" "A1 A2 A3 A3_local A3_nic A4_local A4_nic" "A3 and A4 on loopback/veth and on a NIC are two panels each"
is "$(fact problems)" "none" "every description is consistent (ids, arrow ends, steps 1..n, actors, no overlapping boxes)"
for p in A1 A2 A3 A3_local A3_nic A4_local A4_nic; do
  is "$(fact "$p.recv_copy")" "cpu_kernel/receive/kernel -> user" "$p: one receive-side copy, kernel -> user, by the CPU in the kernel"
  is "$(fact "$p.fields")" "8" "$p: the message is 8 separately allocated fields"
done
is "$(fact A1.send_cpu_copies)" 2 "A1: exactly two CPU copies on the send side"
is "$(fact A1.send_copy_actors)" "cpu_user:user -> user,cpu_kernel:user -> kernel" "A1: memcpy in user space, then user -> kernel in the kernel"
is "$(fact A2.send_cpu_copies)" 1 "A2: exactly one CPU copy on the send side"
is "$(fact A2.send_copy_actors)" "cpu_kernel:user -> kernel" "A2: the one copy is user -> kernel, by the kernel"
for p in A3 A3_nic A4_nic; do
  is "$(fact "$p.send_cpu_copies")" 0 "$p (NIC): no CPU copy on the send side"
  is "$(fact "$p.dma_steps")" "send,receive" "$p (NIC): the NIC's DMA reads on the send side, writes on the receive side"
  is "$(fact "$p.dma_reads")" "slot" "$p (NIC): the DMA reads the pinned user pages themselves"
  is "$(fact "$p.completion_codes")" "None,None" "$p (NIC): the completion is not flagged COPIED"
  is "$(fact "$p.sender_pays")" 0 "$p (NIC): the sender's CPU copies nothing"
done
for p in A3 A3_local A3_nic; do
  is "$(fact "$p.pinned")" "slot" "$p: the message's user pages are what is pinned"
  is "$(fact "$p.pin_step")" "cpu_kernel/None" "$p: the kernel pins the pages and copies nothing there"
  is "$(fact "$p.way_back")" "complete,errqueue,reuse" "$p: completion queued, then read from the error queue, only then the slot reused"
  like "$(fact "$p.errqueue_label")" "recvmsg\(MSG_ERRQUEUE\).*lo\.\.hi" "$p: read with recvmsg(MSG_ERRQUEUE) as a range lo..hi"
  is "$(fact "$p.arrows_into_slot")" "pin:ref,reuse:completion" "$p: the slot is referenced (not copied) and given back by the completion"
done
is "$(fact A3_local.deferred)" "cpu_kernel/sender/user pages -> new kernel pages" "A3 loopback/veth: a deferred copy by the kernel, paid by the sender's CPU"
is "$(fact A3_local.completion_codes)" "SO_EE_CODE_ZEROCOPY_COPIED,None" "A3 loopback/veth: the completion is flagged SO_EE_CODE_ZEROCOPY_COPIED"
is "$(fact A3_local.dma_steps)" "" "A3 loopback/veth: no DMA at all"
is "$(fact A3_nic.deferred)" "" "A3 NIC: no deferred copy"
# A4: A3's pinning and deferred copy; in by a chain of SQEs, back by a CQE read from shared memory.
for p in A4_local A4_nic; do
  is "$(fact "$p.pinned")" "slot" "$p: the message's user pages are what is pinned"
  is "$(fact "$p.pin_step")" "cpu_kernel/None" "$p: the kernel pins the pages and copies nothing there"
  is "$(fact "$p.submit")" "1:cpu_kernel:io_uring submission (SQEs, io_uring_enter, issuing)" "$p: step 1 is the chain's submission, one io_uring_enter"
  is "$(fact "$p.way_back")" "complete,reuse" "$p: the notification is posted, then read in user space; only then the slot reused"
  is "$(fact "$p.cqring")" "buffer" "$p: the notification travels through the completion ring, memory shared with the kernel (no error-queue read)"
  is "$(fact "$p.arrows_into_slot")" "submit:ref,reuse:completion" "$p: the slot is referenced by the sends (not copied) and given back by the notification"
done
is "$(fact A4_local.deferred)" "cpu_kernel/sender/user pages -> new kernel pages" "A4 loopback/veth: the same deferred copy, paid by the sender's CPU"
is "$(fact A4_local.completion_codes)" "IORING_NOTIF_USAGE_ZC_COPIED,None" "A4 loopback/veth: the notification reports IORING_NOTIF_USAGE_ZC_COPIED"
is "$(fact A4_local.tally)" "CPU copies of each byte: 0 on the send path, 1 deferred (paid by the sender), 1 on the receive path" "A4 loopback tally"
is "$(fact A4_nic.deferred)" "" "A4 NIC: no deferred copy"
for p in A1 A2; do
  is "$(fact "$p.pinned")" "" "$p: nothing pinned"
  is "$(fact "$p.completion_codes")" "" "$p: no completion notifications"
  is "$(fact "$p.dma_steps")" "send,receive" "$p: the NIC's DMA moves the bytes between the hosts"
done
is "$(fact A1.tally)" "CPU copies of each byte: 2 on the send path, 1 on the receive path" "A1 tally printed on the figure"
is "$(fact A3_local.tally)" "CPU copies of each byte: 0 on the send path, 1 deferred (paid by the sender), 1 on the receive path" "A3 loopback tally"
bp=$(fact bad_problems)
like "$bp" "boxes fields and memcpy overlap" "consistency check: overlapping boxes are caught"
like "$bp" "arrow end 'nowhere' is not a box" "consistency check: a dangling arrow is caught"

# --- measured shares: which boxes get a number, and what it says
shares=$("$PY" - <<'PY' 2>&1
from analysis import datapath as d

sh = {("A1", 1024): {"user-space copy": 15.0, "copy from user into the kernel": 31.4, "copy to user on receive": 7.0,
                     "wake-ups, scheduling and locks": 35.2, "other": 0.2},
      ("A1", 65536): {"user-space copy": 4.0},
      ("A3", 1024): {"deferred copy (zero-copy fallback)": 9.0, "page pinning and unpinning": 4.3,
                     "completion notification and error-queue reads": 3.0}}
a1 = d.annotate(d.describe_a1(), sh, prefer_size=1024)
notes = {b["id"]: b["share_note"] for b in a1["panels"][0]["boxes"] if b["share_note"]}
print("a1_notes=" + "; ".join(f"{k}: {v}" for k, v in sorted(notes.items())))
print("a1_foot=" + a1["share_footnote"])
print("a1_default=" + str(d.pick_size(sh, "A1")))
print("a2_none=" + str(d.annotate(d.describe_a2(), sh)["share_footnote"]))
cmp = d.annotate(d.describe_a3_loopback_vs_nic(), sh)
for p in cmp["panels"]:
    print(p["name"] + "=" + "; ".join(f"{b['id']}: {b['share_note']}" for b in p["boxes"] if b["share_note"]))
sh4 = dict(sh)
sh4[("A4", 1024)] = {"deferred copy (zero-copy fallback)": 8.0, "page pinning and unpinning": 5.0,
                     "completion notification and error-queue reads": 2.0,
                     "io_uring submission (SQEs, io_uring_enter, issuing)": 6.0, "TCP/IP processing": 40.0}
a4 = d.annotate(d.describe_a4(), sh4)
for p in a4["panels"]:
    print(p["name"] + "=" + "; ".join(f"{b['id']}: {b['share_note']}" for b in p["boxes"] if b["share_note"]))
print("a4_foot=" + a4["share_footnote"])
print("unannotated_has_no_notes=" + str(all(b["share_note"] is None for b in d.describe_a3()["panels"][0]["boxes"])))
a3 = d.annotate(d.describe_a3(), sh, measured_on="veth")
print("a3_nic_fig=" + "; ".join(b["id"] for p in a3["panels"] for b in p["boxes"] if b["share_note"]))
print("a3_nic_foot=" + a3["share_footnote"])
sh2 = {**sh, ("A1", 65536): {"user-space copy": 4.0, "TCP/IP processing": 18.0}}
a1v = d.annotate(d.describe_a1(), sh2, prefer_size=65536, measured_on="veth")
print("a1_tcp_note=" + str([b["share_note"] for b in a1v["panels"][0]["boxes"] if b["id"] == "tx_tcp"][0]))
print("a1_tcp_foot=" + a1v["share_footnote"])
shn = {("A3", 1024): {"page pinning and unpinning": 4.3, "TCP/IP processing": 20.0,
                      "completion notification and error-queue reads": 3.0}}
out = []
for f in (d.describe_a3(), d.describe_a3_loopback_vs_nic()):
    for p in d.annotate(f, shn, measured_on="nic")["panels"]:
        out.append(p["name"] + ": " + ",".join(b["id"] for b in sorted(p["boxes"], key=lambda b: b["step"] or 0)
                                                if b["share_note"]))
print("nic_run=" + "|".join(out))
PY
)
sfact() { printf '%s\n' "$shares" | sed -n "s/^$1=//p"; }
is "$(sfact a1_notes)" "memcpy: 15% of sender CPU (1 KiB); tx_copy: 31% of sender CPU (1 KiB)" \
  "A1 at 1 KiB: the two send copies carry their share; the receiver's copy (not the sender's CPU) does not"
like "$(sfact a1_foot)" "1 KiB messages; not in a box above: wake-ups, scheduling and locks 35%, copy to user on receive 7\.0%$" \
  "the rest of the sender's profile is listed, largest first, under 0.5% left out"
is "$(sfact a1_default)" 1024 "default size: the largest measured for every technique"
is "$(sfact a2_none)" "None" "no shares for A2: no numbers on its figure"
is "$(sfact A3_local)" "pin: 4.3% of sender CPU (1 KiB); rx_deferred: 9.0% of sender CPU (1 KiB); complete: steps 5-6: 3.0% of sender CPU" \
  "A3 loopback panel: pinning, the deferred copy (paid by the sender), and the completion once for its two steps"
is "$(sfact A3_nic)" "" "A3 NIC panel of the comparison: no number measured over veth on the NIC path"
is "$(sfact a3_nic_fig)" "" "A3 NIC figure: no number in any box when the profiles were taken over veth"
like "$(sfact a3_nic_foot)" "^Shares not measured here: the profiles were taken over veth.*two-host run" "A3 NIC figure: says 'not measured here'"
is "$(sfact a1_tcp_note)" "None" "A1 over veth: no TCP/IP share in the send-path box (it holds the receiver's softirq too)"
like "$(sfact a1_tcp_foot)" "TCP/IP processing 18% \(the send path plus the receiver's receive softirq, which over veth runs on the sender's CPU\)" \
  "A1 over veth: the TCP/IP share in the footnote, saying what it holds"
is "$(sfact nic_run)" "A3: pin,tx_tcp,complete|A3_local: |A3_nic: pin,tx_tcp,complete" "profiles from a two-host run: numbers on the NIC panels (TCP/IP included), none on the loopback panel"
is "$(sfact A4_local)" "submit: 6.0% of sender CPU (1 KiB); pin: 5.0% of sender CPU (1 KiB); rx_deferred: 8.0% of sender CPU (1 KiB); complete: steps 5-6: 2.0% of sender CPU" \
  "A4 loopback panel: submission, pinning, the deferred copy, and the notification once for its two steps"
is "$(sfact A4_nic)" "" "A4 NIC panel: no measured share (nothing was measured over a NIC)"
like "$(sfact a4_foot)" "not in a box above: TCP/IP processing 40%" "A4: what no box shows is in the footnote"
is "$(sfact unannotated_has_no_notes)" "True" "without shares the figures carry no numbers"

o=$("$PY" - "$tmp/shared" <<'PY' 2>&1
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from analysis.datapath import draw_data_paths
sh = {(i, 65536): {"user-space copy": 2.0, "copy from user into the kernel": 22.0, "TCP/IP processing": 18.0,
                   "deferred copy (zero-copy fallback)": 14.0, "page pinning and unpinning": 7.5,
                   "completion notification and error-queue reads": 3.5, "wake-ups, scheduling and locks": 30.0,
                   "syscall entry and exit": 4.0, "other": 9.0,
                   "io_uring submission (SQEs, io_uring_enter, issuing)": 3.0} for i in ("A1", "A2", "A3", "A4")}
print(len(draw_data_paths(plt, sys.argv[1], sh)))
PY
); rc=$?
is "$rc" 0 "drawing with shares: exit 0"
is "$o" 5 "drawing with shares: five figures, no layout problem reported"

# --- the layout check itself sees text cut off by the figure's edge (what the CLI check above relies on)
o=$("$PY" - <<'PY' 2>&1
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from analysis import datapath as d
f = plt.figure(figsize=(11, 6.5))
f.text(0.9, 0.5, "a line that runs off the right edge")
f.legend(handles=d._legend_handles(d.describe_a3()), ncol=10, loc="upper center")
print(" | ".join(d.layout_problems(f, [])))
PY
)
like "$o" "runs off the right edge' is cut off.*the legend' is cut off" "layout check: text and a legend past the figure's edge are reported"

# --- plots.py draws them too, and a broken analysis module cannot cost it its own figures
head -n 40 results.csv >"$tmp/small.csv"   # a slice of the real sweep: plots.py's speed is not under test
"$PY" plots.py "$tmp/small.csv" --out-dir "$tmp/plots" >"$tmp/p.out" 2>"$tmp/p.err"; rc=$?
is "$rc" 0 "plots.py on rows of the real results.csv: exit 0"
n=0; for f in $FIGS; do [ -n "$(png_size "$tmp/plots/$f.png")" ] && n=$((n + 1)); done
is "$n" 5 "plots.py writes the five data-path figures next to the others"
mkdir -p "$tmp/broken"
cp plots.py "$tmp/broken/"
cp -r analysis "$tmp/broken/"
echo 'raise RuntimeError("simulated breakage")' >"$tmp/broken/analysis/datapath.py"
"$PY" "$tmp/broken/plots.py" "$tmp/small.csv" --out-dir "$tmp/bplots" >"$tmp/b.out" 2>"$tmp/b.err"; rc=$?
is "$rc" 0 "plots.py with a broken analysis/datapath.py: still exit 0"
like "$(cat "$tmp/b.err")" "data-path figures skipped: RuntimeError: simulated breakage" "plots.py says the data-path figures were skipped, and why"
check "plots.py with a broken analysis/datapath.py: its own figures and summary.md are written" \
  test -s "$tmp/bplots/throughput_vs_size.png" -a -s "$tmp/bplots/cycles_per_byte_vs_size.png" -a -s "$tmp/bplots/summary.md"

# --- a Python without matplotlib: exit 1 with the install hint
nompl=""
for p in python3 /usr/local/bin/python3 "$HOME/.pyenv/shims/python3"; do
  if command -v "$p" >/dev/null 2>&1 && ! "$p" -c 'import matplotlib' >/dev/null 2>&1; then nompl=$p; break; fi
done
if [ -n "$nompl" ]; then
  o=$("$nompl" -m analysis.datapath --out-dir "$tmp/x" 2>&1); rc=$?
  is "$rc" 1 "Python without matplotlib: exit 1"
  like "$o" "install python3-matplotlib" "Python without matplotlib: says install python3-matplotlib"
else
  diag "every python3 here has matplotlib: the missing-matplotlib check is skipped"
fi
check "t_datapath.sh is shellcheck-clean" shellcheck -S warning tests/t_datapath.sh
done_testing
