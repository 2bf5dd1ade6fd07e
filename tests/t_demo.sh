#!/usr/bin/env bash
# tools/demo.sh (make demo): run detached in tmux on a private socket, read both panes with
# capture-pane, and check that whatever way it ends (Enter at the end, the session killed, Ctrl-C
# in a pane, --linger running out) nothing it started is left: no namespace it created, no
# process, no tmux server, no scratch directory.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
command -v tmux >/dev/null 2>&1 || skip_all "tmux is missing (apt-get install tmux, or make deps)"
for i in A1 A2 A3; do
  [ -x "$BIN/${i}_server" ] && [ -x "$BIN/${i}_client" ] || skip_all "programs not built (make)"
done
tmp=$(mktemp -d)
SOCKS=()
cleanup() { # only what this test made: its own tmux sockets and namespaces
  local s
  for s in "${SOCKS[@]}"; do tmux -L "$s" kill-server 2>/dev/null; done
  if [ "$(id -u)" = 0 ]; then
    CB_NS_SERVER=$NS_S CB_NS_CLIENT=$NS_C bash "$ROOT/setup_netns.sh" down >/dev/null 2>&1
  fi
  rm -rf "$tmp"
}
NS_S=cbdp_s$$ NS_C=cbdp_c$$
export CB_SUBNET=10.72.0.0/24
trap cleanup EXIT
DEMO=(bash tools/demo.sh)
S=copybench-demo

# --- options: one line, exit 2, the option named
bad() { # bad REGEX ARGS...
  local re=$1 o rc; shift
  o=$("${DEMO[@]}" "$@" 2>&1 </dev/null); rc=$?
  is "$rc" 2 "demo.sh $* : exit 2"
  like "$o" "$re" "demo.sh $* : says why"
  is "$(printf '%s\n' "$o" | wc -l | tr -d ' ')" 1 "demo.sh $* : one line"
}
bad "unknown option '--bogus'" --bogus
bad "unknown option 'extra'" --loopback extra
bad "--impls: 'A4' is not A1, A2 or A3" --impls A1,A4
bad "--impls: A2 given twice" --impls A2,A2
bad "--impls: '' is not" --impls A1,,A2
bad "--impls: empty" --impls ""
bad "--size: '1G' is not a size" --size 1G
bad "--size: '8' is outside 16..64M" --size 8
bad "--size: '128M' is outside" --size=128M
bad "--threads: '0' is not" --threads 0
bad "--threads: '1025' is not" --threads 1025
bad "--threads: 'two' is not" --threads two
bad "--duration: '0' is not" --duration 0
bad "--duration: '-1' is not" --duration -1
bad "--duration: 'nan' is not" --duration nan
bad "--linger: '1.5' is not" --linger 1.5
bad "--size needs a value" --size
bad "--detach takes no value" --detach=yes
o=$("${DEMO[@]}" --help 2>&1); rc=$?
is "$rc" 0 "--help: exit 0"
like "$o" "--impls LIST .*default A1,A2,A3" "--help lists the options with defaults"
o=$(CB_DEMO_TMUX_SOCKET=cbdemo_t$$ "${DEMO[@]}" --loopback 2>&1 </dev/null); rc=$?
is "$rc" 1 "no terminal and no --detach: exit 1"
like "$o" "no terminal .* --detach" "no terminal and no --detach: says to use --detach"
check "no terminal: no tmux server was started" bash -c "! tmux -L cbdemo_t$$ has-session 2>/dev/null"

# --- helpers for a detached run
wait_until() { # wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -ge "$end" ] && return 1; sleep 0.1; done
}
pane() { tmux -L "$1" capture-pane -p -J -S - -t "$S:0.$2" 2>/dev/null; }
# unwrap: the demo's deliberate wrapping undone (a continuation is indented by four spaces)
unwrap() { awk '/^    [^ ]/ && n { buf = buf " " substr($0, 5); next } n { print buf } { buf = $0; n = 1 } END { if (n) print buf }'; }
# too_wide SOCK PANE: the pane's lines wider than the pane (-J joins what tmux wrapped)
too_wide() { pane "$1" "$2" | awk -v w="$(tmux -L "$1" display-message -p -t "$S:0.$2" '#{pane_width}')" 'length > w { n++ } END { print n + 0 }'; }
both_finished() { [[ "$(pane "$1" 0)" == *"=== demo finished ==="* && "$(pane "$1" 1)" == *"=== demo finished ==="* ]]; }
# what_is_left SOCK TMPDIR [NS...]: prints anything of that demo still there, nothing when clean
what_is_left() {
  local sock=$1 dir=$2 ns f; shift 2
  tmux -L "$sock" has-session 2>/dev/null && echo "tmux session"
  # every process the demo starts carries CB_DEMO_TAG=<its socket> in its environment
  for f in $(grep -lsxzF "CB_DEMO_TAG=$sock" /proc/[0-9]*/environ); do
    f=${f#/proc/}; echo "process ${f%/environ}: $(tr '\0' ' ' 2>/dev/null <"/proc/${f%/environ}/cmdline")"
  done
  [ -z "$(ls -A "$dir" 2>/dev/null)" ] || echo "scratch: $(ls -A "$dir")"
  for ns in "$@"; do [ -e "/run/netns/$ns" ] && echo "namespace $ns"; done
  return 0
}
clean() { [ -z "$(what_is_left "$@")" ]; }
start() { # start NAME ARGS...: a detached demo on its own socket and scratch dir; sets SOCK, DIR, OUT
  SOCK=cbdemo_$1_$$ DIR=$tmp/$1; shift
  SOCKS+=("$SOCK"); mkdir -p "$DIR"
  OUT=$(CB_DEMO_TMUX_SOCKET=$SOCK TMPDIR=$DIR CB_NS_SERVER=$NS_S CB_NS_CLIENT=$NS_C "${DEMO[@]}" --detach "$@" 2>&1)
}
# check_run TAG IMPLS SERVER_ADDR SRV_PANE CLI_PANE: the panes show every technique, end to end
check_run() {
  local tag=$1 addr=$3 sp=$4 cp=$5 i sl cl
  for i in $2; do
    like "$sp" "=== $i [a-z-]+: " "$tag: server pane: $i's title line"
    like "$cp" "=== $i [a-z-]+: " "$tag: client pane: $i's title line"
    sl=$(unwrap <<<"$sp" | grep "^result impl=$i side=server" | tail -n 1)
    cl=$(unwrap <<<"$cp" | grep "^result impl=$i side=client" | tail -n 1)
    like "$sl" "clients=2 rejected=0 errors=0 bytes=[1-9]" "$tag: server pane: $i's result line, 2 clients, no error"
    like "$cl" "threads=2 .*verify_errors=0 errors=0" "$tag: client pane: $i's result line, verify_errors=0 errors=0"
    is "$(field total_bytes "$cl")" "$(field bytes "$sl")" "$tag: $i: the client received every byte the server sent"
    # The first interval ends when the client's main thread wakes: at 1.30 s beside a CPU hog.
    like "$(printf '%s\n' "$cp" | sed -n "/=== $i /,/^result impl=$i/p")" \
      "^\[ +0\.00- +[0-9]+\.[0-9]{2} s\] +[0-9.]+ Gbps +[0-9]+ msg/s$" "$tag: client pane: $i's live line (-i 1)"
  done
  like "$sp" "listening addr=$addr port=" "$tag: the server listens on $addr"
}

# --- loopback: no root needed
start lo --loopback --impls A1,A3 --duration 1.5 --linger 120
like "$OUT" "tmux -L $SOCK attach -t $S" "--detach prints how to attach"
if wait_until 60 both_finished "$SOCK"; then ok 0 "loopback: both panes reach the end"; else ok 1 "loopback: both panes reach the end"; fi
sp=$(pane "$SOCK" 0) cp=$(pane "$SOCK" 1)
check_run loopback "A1 A3" 127.0.0.1 "$sp" "$cp"
like "$sp" "A3: [0-9]+ of [0-9]+ zero-copy completions flagged SO_EE_CODE_ZEROCOPY_COPIED \(zc_copied share 100\.0%\)" \
  "loopback: A3 ends with the zc_copied share (all copied, as the kernel does for a local receiver)"
like "$cp" "=== summary: 64K messages, 2 connections, 1.5 s each" "loopback: client pane ends with a summary"
is "$(too_wide "$SOCK" 0) $(too_wide "$SOCK" 1)" "0 0" "loopback: every line of both panes fits the pane (result lines wrapped at spaces, on purpose)"
like "$cp" $'\n    [a-z_]+=' "loopback: a result line's continuation is indented"
tmux -L "$SOCK" send-keys -t "$S:0.0" Enter
wait_until 20 clean "$SOCK" "$DIR"
is "$(what_is_left "$SOCK" "$DIR")" "" "loopback: Enter at the end closes it and nothing is left"

start lo_int --loopback --impls A2 --duration 30 --linger 120
wait_until 30 bash -c "tmux -L $SOCK capture-pane -p -t $S:0.1 | grep -c Gbps >/dev/null"
tmux -L "$SOCK" send-keys -t "$S:0.1" C-c
wait_until 20 clean "$SOCK" "$DIR"
is "$(what_is_left "$SOCK" "$DIR")" "" "loopback: Ctrl-C in the client pane mid-run ends it and nothing is left"

# a program dies mid-run: both panes say the demo stopped and why, and it still cleans up
stopped() { [[ "$(pane "$1" 0)" == *"=== demo stopped: "* && "$(pane "$1" 1)" == *"=== demo stopped: "* ]]; }
start lo_fault --loopback --impls A1,A2 --duration 30 --linger 120
wait_until 30 bash -c "tmux -L $SOCK capture-pane -p -t $S:0.1 | grep -c Gbps >/dev/null"
for f in $(grep -lsxzF "CB_DEMO_TAG=$SOCK" /proc/[0-9]*/environ); do
  f=${f#/proc/}; f=${f%/environ}
  [[ "$(tr '\0' ' ' 2>/dev/null <"/proc/$f/cmdline")" == *A1_server* ]] && kill -KILL "$f"
done
if wait_until 30 stopped "$SOCK"; then ok 0 "server killed: both panes say the demo stopped"; else ok 1 "server killed: both panes say the demo stopped"; fi
like "$(pane "$SOCK" 1)" "=== demo stopped: A1_(server exited with status 137|client exited with status 1) ===" "server killed: the panes say which program failed, with its status"
is "$(pane "$SOCK" 0 | grep -c 'A2_server -p')" 0 "server killed: A2 is not started"
tmux -L "$SOCK" send-keys -t "$S:0.0" Enter
wait_until 20 clean "$SOCK" "$DIR"
is "$(what_is_left "$SOCK" "$DIR")" "" "server killed: Enter closes it and nothing is left"

if [ "$(id -u)" != 0 ]; then
  echo "ok $((TAP_N + 1)) # SKIP the namespace runs need root"; TAP_N=$((TAP_N + 1))
  check "t_demo.sh is shellcheck-clean" shellcheck -S warning tests/t_demo.sh
  done_testing; exit
fi

# --- the sweep's kind of namespaces, created and removed by the demo
o=$(setpriv --reuid=65534 --regid=65534 --clear-groups "${DEMO[@]}" --detach 2>&1); rc=$?
is "$rc" 1 "not root, no --loopback: exit 1"
like "$o" "needs root .* or use --loopback" "not root, no --loopback: says to use sudo or --loopback"

start ns --impls A1,A2,A3 --duration 2 --linger 120
check "namespaces: it creates $NS_S and $NS_C" test -e "/run/netns/$NS_S" -a -e "/run/netns/$NS_C"
if wait_until 90 both_finished "$SOCK"; then ok 0 "namespaces: both panes reach the end"; else ok 1 "namespaces: both panes reach the end"; fi
sp=$(pane "$SOCK" 0) cp=$(pane "$SOCK" 1)
check_run netns "A1 A2 A3" 10.72.0.1 "$sp" "$cp"
like "$sp" "\\$ ip netns exec $NS_S ./A1_server" "namespaces: the server runs in the server namespace"
like "$cp" "\\$ ip netns exec $NS_C ./A1_client -H 10.72.0.1" "namespaces: the client runs in the client namespace"
like "$sp" "zc_copied share [0-9.]+%" "namespaces: A3 ends with the zc_copied share"
like "$sp" "over veth: the kernel copied" "namespaces: and says why it is copied"
tmux -L "$SOCK" send-keys -t "$S:0.1" Enter
wait_until 20 clean "$SOCK" "$DIR" "$NS_S" "$NS_C"
is "$(what_is_left "$SOCK" "$DIR" "$NS_S" "$NS_C")" "" "namespaces: Enter at the end: namespaces, processes, tmux, scratch all gone"

start ns_kill --impls A3,A1 --duration 30 --linger 120
wait_until 30 bash -c "tmux -L $SOCK capture-pane -p -t $S:0.1 | grep -c Gbps >/dev/null"
n=$(ip netns pids "$NS_S" 2>/dev/null | wc -l)
ok "$([ "$n" -ge 1 ]; echo $?)" "killed mid-run: the server was running in $NS_S"
tmux -L "$SOCK" kill-session -t "$S"
wait_until 20 clean "$SOCK" "$DIR" "$NS_S" "$NS_C"
is "$(what_is_left "$SOCK" "$DIR" "$NS_S" "$NS_C")" "" "session killed mid-run: namespaces, processes, tmux, scratch all gone"

# namespaces that were already up are used and left alone; --linger ends it by itself
CB_NS_SERVER=$NS_S CB_NS_CLIENT=$NS_C bash setup_netns.sh up >/dev/null
start ns_kept --impls A2 --duration 1 --linger 1
like "$OUT" "using the namespaces that are up \($NS_S, $NS_C\)" "existing namespaces: it says it uses them"
wait_until 60 clean "$SOCK" "$DIR"
is "$(what_is_left "$SOCK" "$DIR")" "" "--linger 1: it ends by itself and its processes, tmux and scratch are gone"
check "existing namespaces: still there afterwards" test -e "/run/netns/$NS_S" -a -e "/run/netns/$NS_C"
CB_NS_SERVER=$NS_S CB_NS_CLIENT=$NS_C bash setup_netns.sh down >/dev/null
# one namespace of the pair, not made by setup_netns.sh: refused, and not touched
ip netns add "$NS_S"
start ns_half --impls A1 --duration 1
like "$OUT" "exists but is not a working pair; not touching it" "a half pair: refused with one line"
check "a half pair: the namespace is still there" test -e "/run/netns/$NS_S"
is "$(what_is_left "$SOCK" "$DIR")" "" "a half pair: nothing started, nothing left"
ip netns del "$NS_S"

check "t_demo.sh is shellcheck-clean" shellcheck -S warning tests/t_demo.sh
check "tools/demo.sh is shellcheck-clean" shellcheck -S warning tools/demo.sh
done_testing
