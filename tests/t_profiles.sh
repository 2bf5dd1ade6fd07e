#!/usr/bin/env bash
# Profiles (docs/profiles.md): analysis/profiles.py on recorded real `perf script` outputs
# (tests/fixtures/profiles, via tests/profiles_checks.py), then run_experiments.sh --profile end to
# end in namespaces of its own: profiles.csv, the figures, the shares the kernel shows, and the
# ways a machine can refuse (kernel symbols unresolved, perf record unusable).
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
tmp=$(mktemp -d)
cleanup() { [ -n "${CB_NS_SERVER:-}" ] && bash "$ROOT/setup_netns.sh" down >/dev/null 2>&1; rm -rf "$tmp"; }
trap cleanup EXIT

# --- 1. unit checks on the fixtures --------------------------------------------------------------
PY="" FIG=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import matplotlib' >/dev/null 2>&1; then PY=$p FIG=--figures; break; fi
done
[ -n "$PY" ] || PY=python3
# Without matplotlib the figure checks print SKIP lines and the sweep runs with --no-plots
# (its plots step would otherwise end it with exit 1, as it should for a user).
NOPLOTS=(); [ -n "$FIG" ] || NOPLOTS=(--no-plots)
"$PY" tests/profiles_checks.py $FIG >"$tmp/unit.out" 2>"$tmp/unit.err"; rc=$?
n_unit=0
while IFS=$'\t' read -r status what detail; do
  n_unit=$((n_unit + 1))
  case $status in
    ok) ok 0 "$what" ;;
    skip) ok 0 "$what # SKIP $detail" ;;
    *) ok 1 "$what"; [ -n "$detail" ] && diag "  $detail" ;;
  esac
done <"$tmp/unit.out"
is "$rc" 0 "profiles_checks.py ran to the end ($n_unit checks)"
[ "$rc" = 0 ] || sed 's/^/#   /' "$tmp/unit.err" | tail -n 5
check "t_profiles.sh is shellcheck-clean" shellcheck -S warning -x -P SCRIPTDIR tests/t_profiles.sh
check "perf-no-kallsyms is shellcheck-clean" shellcheck -S warning tests/fixtures/profiles/perf-no-kallsyms

# --- 2. end to end --------------------------------------------------------------------------------
skip_e2e() { ok 0 "run_experiments.sh --profile end to end # SKIP $*"; done_testing; exit; }
[ "$(id -u)" = 0 ] || skip_e2e "needs root (network namespaces, perf record of the kernel)"
command -v perf >/dev/null 2>&1 || skip_e2e "no perf (make deps)"
perf record -q -g -e cpu-clock -o "$tmp/probe.data" -- true >/dev/null 2>&1 || skip_e2e "perf record -g -e cpu-clock does not work here"
CB_BIN_DIR=$(cd "${BIN:-$ROOT}" && pwd); export CB_BIN_DIR
for b in A1_server A1_client A2_server A2_client A3_server A3_client; do
  [ -x "$CB_BIN_DIR/$b" ] || skip_e2e "$CB_BIN_DIR/$b is not built (make)"
done
export CB_NS_SERVER="cbtp_s$$" CB_NS_CLIENT="cbtp_c$$" CB_SUBNET=10.71.1.0/24 CB_PORT_BASE=$((20000 + $$ % 20000))
# reno, not the machine's bbr (a namespace may only choose an allowed one: reno, bbr): without an fq qdisc bbr paces with a timer per burst, and those
# samples (half of them over veth, docs/profiles.md) drown the copies this test compares.
export CB_TCP_CC=reno
mkdir -p "$tmp/work"
export TMPDIR=$tmp/work   # the script's scratch dir ($WORK, with the perf.data files) goes here

col() { awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c }' "$2"; }
share() { # share IMPL SIZE SIDE CATEGORY CSV
  awk -F, -v i="$1" -v s="$2" -v d="$3" -v c="$4" '$1 == i && $2 == s && $3 == d && $4 == c { print $5 }' "$5"
}
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 > b + 0) }'; }
ns_left() { ip netns list | awk '{print $1}' | grep -cxE "$CB_NS_SERVER|$CB_NS_CLIENT"; }

d1=$tmp/e2e
log=$(timeout 120 bash run_experiments.sh --profile --quick --impls A1,A2,A3 --sizes 1024 --threads 1 --no-rr --footprints none \
  "${NOPLOTS[@]}" --out "$d1/results.csv" 2>&1); rc=$?
is "$rc" 0 "run_experiments.sh --profile --quick (A1,A2,A3, 1 KiB, 1 connection, namespaces) exits 0"
[ "$rc" = 0 ] || printf '%s\n' "$log" | tail -n 15 | sed 's/^/#   /'
like "$log" "profiles: 3 runs of 1s, 1 connection\(s\), server and client under perf record -g -e (cpu-clock|cycles)" \
  "announces the profiled runs and the event"
like "$log" '\[profile 3/3\] A3 1024 B \.\.\. [0-9.]+ Gbps, steal [0-9.]+%' "a progress line per profiled run"
prof=$d1/profiles.csv
if grep -q 'profiles left out: .*unresolved' <<<"$log"; then
  ok 0 "profile shares # SKIP kernel symbols unresolved here: $(printf '%s\n' "$log" | grep -m1 'left out')"
else
  check "profiles.csv written next to results.csv" test -s "$prof"
  is "$(head -n 1 "$prof" 2>/dev/null)" "impl,size,side,category,share,samples,event,threads,steal_pct,netns" "profiles.csv header"
  is "$(($(wc -l <"$prof") - 1))" 78 "78 rows: 3 techniques x 2 sides x 13 categories"
  sums=$(awk -F, 'NR > 1 { s[$1 " " $3] += $5 } END { for (k in s) printf "%s=%.2f\n", k, s[k] }' "$prof" | sort | tr '\n' ' ')
  is "$sums" "A1 client=100.00 A1 server=100.00 A2 client=100.00 A2 server=100.00 A3 client=100.00 A3 server=100.00 " \
    "every profile's shares sum to 100"
  is "$(col netns "$prof" | sort -u)" 1 "netns column is 1"
  fewest=$(awk -F, 'NR > 1 { k = $1 " " $3; if (!(k in n)) n[k] = $6 } END { for (k in n) print n[k], k }' "$prof" | sort -n | sed -n 1p)
  # How many samples and how the shares compare depend on the CPU the programs got (the load
  # beside them): measured and printed here, judged in docs/profiles.md's committed run, not
  # pass/fail. What holds at any load: the categories each technique's code path must or cannot
  # show (A3's deferred copy and pinning are 7-36% and 9-13% of its sender, never near 0).
  a1=$(share A1 1024 server copy_from_user "$prof") a2=$(share A2 1024 server copy_from_user "$prof")
  diag "samples, fewest of a side: $fewest; copy_from_user at 1 KiB: A2 $a2% vs A1 $a1% (A2 above A1 on a quiet machine);" \
    "A1's user-space copy $(share A1 1024 server user_copy "$prof")%"
  ok "$([ "${fewest%% *}" -ge 1 ] 2>/dev/null; echo $?)" "each side has samples (fewest: $fewest)"
  a3=$(share A3 1024 server deferred_copy "$prof")
  check "A3 1 KiB server has a deferred copy on veth (the kernel copies for a local receiver): $a3%" gt "$a3" 0
  check "A3 1 KiB server pins pages: $(share A3 1024 server pin "$prof")%" gt "$(share A3 1024 server pin "$prof")" 0
  is "$(share A1 1024 server pin "$prof") $(share A2 1024 server pin "$prof")" "0.00 0.00" \
    "A1 and A2 do not pin (pinning counts only under their own tcp_sendmsg_locked)"
  # A deferred copy is softirq work, and a sender's softirq also delivers what other programs
  # queued on its CPU: another test's zero-copy skbs can land in A1's profile (0.06%, one sample,
  # beside the suite's other lane; once in two runs beside an A3 loopback stream in another
  # namespace, never without one). A3's own is 7-36%.
  da1=$(share A1 1024 server deferred_copy "$prof") da2=$(share A2 1024 server deferred_copy "$prof")
  ok "$(gt 1 "$da1" && gt 1 "$da2"; echo $?)" \
    "A1 and A2 have no deferred copy of their own: under 1% (A1 $da1%, A2 $da2%)"
  check "the client copies to user: A1 client $(share A1 1024 client copy_to_user "$prof")%" \
    gt "$(share A1 1024 client copy_to_user "$prof")" 0
  check "profiles_top.csv written" test -s "$d1/profiles_top.csv"
  for s in server client; do
    if [ -n "$FIG" ]; then
      is "$(head -c 8 "$d1/plots/profile_$s.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "plots/profile_$s.png is a PNG"
    else
      ok 0 "plots/profile_$s.png is a PNG # SKIP no Python with matplotlib"
    fi
  done
  diag "server shares, % (A1 A2 A3 1 KiB): copy_from_user $a1 $a2 $(share A3 1024 server copy_from_user "$prof"); deferred $a3;" \
    "timers $(share A1 1024 server timers "$prof") $(share A2 1024 server timers "$prof") $(share A3 1024 server timers "$prof")"
fi
is "$(($(wc -l <"$d1/results.csv") - 1))" 3 "the sweep's own rows are all there"
is "$(find "$tmp/work" -mindepth 1 | wc -l)" 0 "scratch dir (perf.data files) removed"
is "$(ns_left)" 0 "no namespace left"

# kernel symbols unresolved: the profiles are left out with one line, the rest runs
log=$(CB_PERF="$ROOT/tests/fixtures/profiles/perf-no-kallsyms" timeout 60 bash run_experiments.sh --profile --quick \
  --impls A2 --sizes 1024 --threads 1 --no-rr --footprints none --no-plots --out "$tmp/e2 e/results.csv" 2>&1); rc=$?
is "$rc" 0 "unresolvable kernel symbols: the sweep still exits 0"
like "$log" "run_experiments: profiles left out: profiles.py: kernel symbols unresolved" "says in one line why the profiles are left out"
check "no profiles.csv then" test ! -e "$tmp/e2 e/profiles.csv"
is "$(($(wc -l <"$tmp/e2 e/results.csv") - 1))" 1 "the sweep's row is there"

# perf that cannot record: one line; the previous profiles are moved aside, not shown with new results
log=$(CB_PERF="$ROOT/tests/fixtures/perf/fake-perf" timeout 60 bash run_experiments.sh --profile --quick \
  --impls A1 --sizes 1024 --threads 1 --no-rr --footprints none --no-plots --out "$d1/results.csv" 2>&1); rc=$?
is "$rc" 0 "perf record unusable: the sweep still exits 0"
like "$log" "profiles left out: perf record -g cannot sample here" "says so in one line"
check "the previous profiles.csv is kept as profiles.csv.prev" test -s "$d1/profiles.csv.prev"
check "and is not left next to the new results" test ! -e "$d1/profiles.csv"
if [ -n "$FIG" ]; then
  check "stale profile figures removed" test ! -e "$d1/plots/profile_server.png"
else
  ok 0 "stale profile figures removed # SKIP no Python with matplotlib: none were drawn"
fi

# --quick without --profile: no profiling at all
log=$(CB_PERF="$ROOT/tests/fixtures/perf/fake-perf" timeout 60 bash run_experiments.sh --quick \
  --impls A1 --sizes 1024 --threads 1 --no-rr --footprints none --no-plots --out "$d1/results.csv" 2>&1); rc=$?
is "$rc" 0 "--quick sweep exits 0"
# The plan names the phase as off; nothing else may speak of profiling, and no profiles.csv appears.
rest=$(grep -v -E '^ +profile +0 ' <<<"$log" || true)
if grep -q -i 'profil' <<<"$rest" || [ -e "$d1/profiles.csv" ]; then
  ok 1 "--quick does not profile unless --profile"
else
  ok 0 "--quick does not profile unless --profile"
fi
like "$log" "profile +0 .*off \\(--profile turns it on\\)" "--quick: the plan says the profile phase is off"
is "$(ns_left)" 0 "no namespace left at the end"
done_testing
