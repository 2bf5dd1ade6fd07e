#!/usr/bin/env bash
# demo.sh: the two-terminal viva in one command. Opens tmux with the server in the left pane and
# the client (-i 1: a live line per second) in the right one, and runs the techniques one after
# another, each after a title line saying what it shows. Cleans up when it ends.
#
#   tools/demo.sh [options]            (make demo DEMO_ARGS="...")
#
#   --impls LIST      techniques to show, comma-separated (default A1,A2,A3)
#   --size SIZE       message size, K/M suffixes, 16..64M (default 64K)
#   --threads N       client connections, 1..1024 (default 2)
#   --duration SEC    each client's measured window, 0.01..86400 s (default 5)
#   --loopback        server and client on 127.0.0.1: no namespaces, no root needed
#   --detach          start tmux detached and print how to attach (and how to stop it)
#   --linger SEC      after the last technique keep the panes this long (default 0: until Enter)
#   -h, --help        this help
#
# Without --loopback it needs root: the server runs in the server namespace and the client in the
# client namespace of setup_netns.sh (CB_NS_SERVER, CB_NS_CLIENT, CB_SUBNET are honoured; the
# defaults are the sweep's cb_srv / cb_cli on 10.77.0.0/24). A pair made by hand with
# setup_netns.sh up is used and left alone; a pair a sweep or another demo holds is never touched
# (with the default names the demo makes cb_srv_PID / cb_cli_PID instead); a pair it creates is
# removed at the end.
# Ctrl-C in either pane ends the demo; so does killing the tmux session. Either way the programs,
# the namespaces it created, the tmux server and its scratch directory are removed.
# Exit: 0 ok, 1 cannot run (no tmux, not root, not built), 2 bad option.
# The tmux server has its own socket (tmux -L NAME; NAME = $CB_DEMO_TMUX_SOCKET or cbdemo_PID),
# so no other tmux session is ever touched.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/tools/demo.sh"
SESSION=copybench-demo

err() { echo "demo.sh: $*" >&2; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "$SELF"; }

# tmux on the demo's private socket, never with the user's configuration
tm() { tmux -L "$SOCK" -f /dev/null "$@"; }

# ---------------------------------------------------------------------------------------------
# Internal: the two panes, and the supervisor that cleans up when the session ends.

pane_title() { # pane_title IMPL: what this technique shows, in one line
  case "$1" in
    A1) echo "A1 two-copy: memcpy the 8 fields into one buffer, then send(): two CPU copies of every byte on the send side" ;;
    A2) echo "A2 one-copy: sendmsg() with an 8-entry iovec: the kernel gathers the fields in one copy" ;;
    A3) echo "A3 zero-copy: sendmsg(MSG_ZEROCOPY), completions read from the error queue; watch zc_copied: on loopback/veth the kernel copies anyway" ;;
  esac
}

banner() { printf '\n\033[1m=== %s ===\033[0m\n' "$*"; }

# wrap_lines WIDTH: copies stdin to stdout, a line wider than WIDTH columns broken at spaces into
# lines of at most WIDTH, each continuation indented by four spaces (a key=value is never cut).
# The result lines are ~370 columns; a pane is ~110: wrapped here, deliberately, not by the
# terminal in the middle of a field.
wrap_lines() {
  # bash, not awk: mawk reads a pipe in blocks and would hold the live lines back
  local w=$1 line vis out word words
  while IFS= read -r line; do
    vis=$line
    while [[ "$vis" =~ (.*)$'\e'\[[0-9\;]*m(.*) ]]; do vis=${BASH_REMATCH[1]}${BASH_REMATCH[2]}; done
    if [ "${#vis}" -le "$w" ]; then printf '%s\n' "$line"; continue; fi
    read -ra words <<<"$line"
    out=""
    for word in "${words[@]}"; do
      if [ -n "$out" ] && [ $(( ${#out} + 1 + ${#word} )) -gt "$w" ]; then printf '%s\n' "$out"; out="    $word"
      else out=${out:+$out }$word; fi
    done
    printf '%s\n' "$out"
  done
}

# run_logged FILE COMMAND...: starts COMMAND in the background, its output shown in this pane and
# kept in FILE; records its pid for the supervisor; sets RUN_PID and RUN_TEE.
run_logged() {
  local file=$1; shift
  exec {RUN_FD}> >(tee -a "$file")
  RUN_TEE=$!
  "$@" >&"$RUN_FD" 2>&1 &
  RUN_PID=$!
  echo "$RUN_PID" >>"$STATE/pids"
}
# finish_logged: waits for the command started by run_logged; sets RUN_RC.
finish_logged() {
  RUN_RC=0
  wait "$RUN_PID" || RUN_RC=$?
  exec {RUN_FD}>&-
  wait "$RUN_TEE" 2>/dev/null || true
}

result_line() { grep '^result ' "$1" 2>/dev/null | tail -n 1 || true; }
field() { # field KEY LINE
  local kv
  for kv in $2; do [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return 0; }; done
  echo ""
}

# mine PID: true while PID is a process this demo started (its environment carries the demo's
# tag), so a recycled pid is never signalled.
mine() { grep -qszxF "CB_DEMO_TAG=$CB_DEMO_TAG" "/proc/$1/environ"; }

abort() { # abort REASON: stop the demo (the other pane sees the marker), keep the panes to read
  [ -e "$STATE/abort" ] || echo "$*" >"$STATE/abort"
  local p
  while read -r p; do
    if mine "$p"; then kill -TERM "$p" 2>/dev/null || true; fi
  done <"$STATE/pids"
}

# linger_then_close: the end of a pane. The results stay on screen until Enter (or --linger),
# then the session is killed, which hands over to the supervisor.
linger_then_close() {
  if [ -e "$STATE/abort" ]; then
    banner "demo stopped: $(cat "$STATE/abort")"
  else
    banner "demo finished"
  fi
  if [ "$LINGER" = 0 ]; then
    echo "press Enter to close the demo"
    read -r _ || true
  else
    echo "closing in $LINGER s (press Enter to close now)"
    read -r -t "$LINGER" _ || true
  fi
  tm kill-session -t "$SESSION" 2>/dev/null || true
  exit 0
}

pane_server() {
  local impl out line comp copied
  for impl in "${IMPLS[@]}"; do
    [ -e "$STATE/abort" ] && break
    banner "$(pane_title "$impl")"
    echo "\$ ${NS_SERVER_CMD[*]:+${NS_SERVER_CMD[*]} }./${impl}_server -p 0 -b $SERVER_IP -n $THREADS"
    out="$STATE/srv.$impl.out"
    run_logged "$out" "${NS_SERVER_CMD[@]}" "$BIN/${impl}_server" -p 0 -b "$SERVER_IP" -n "$THREADS"
    echo "$RUN_PID" >"$STATE/srv.$impl.pid"
    finish_logged
    line=$(result_line "$out")
    if [ "$RUN_RC" != 0 ] || [ -z "$line" ]; then
      [ -e "$STATE/abort" ] || abort "${impl}_server exited with status $RUN_RC"
      break
    fi
    if [ "$impl" = A3 ]; then
      comp=$(field zc_completions "$line"); copied=$(field zc_copied "$line")
      if [ "${comp:-0}" -gt 0 ]; then
        printf '\033[1mA3: %s of %s zero-copy completions flagged SO_EE_CODE_ZEROCOPY_COPIED (zc_copied share %s%%)\033[0m\n' \
          "$copied" "$comp" "$(awk -v a="$copied" -v b="$comp" 'BEGIN {printf "%.1f", 100 * a / b}')"
        [ "$LOOPBACK" = 1 ] || [ "$copied" = 0 ] || echo "(the receiver is local, over veth: the kernel copied the pinned pages for it)"
        [ "$LOOPBACK" = 0 ] || [ "$copied" = 0 ] || echo "(the receiver is local, over loopback: the kernel copied the pinned pages for it)"
      else
        echo "A3: no zero-copy completions came back"
      fi
    fi
  done
  linger_then_close
}

# wait_listening IMPL: polls the server's output for its 'listening' line (never a fixed sleep);
# sets PORT. Fails when the demo was stopped, or the server died or did not come up in 30 s.
wait_listening() {
  local impl=$1 out="$STATE/srv.$1.out" pidf="$STATE/srv.$1.pid" t0=$SECONDS pid
  PORT=""
  while :; do
    [ -e "$STATE/abort" ] && return 1
    PORT=$(sed -n 's/^listening .*port=\([0-9]*\).*/\1/p' "$out" 2>/dev/null || true)
    [ -n "$PORT" ] && return 0
    if [ -s "$pidf" ]; then
      pid=$(cat "$pidf")
      kill -0 "$pid" 2>/dev/null || { abort "${impl}_server ended before listening"; return 1; }
    fi
    if [ $((SECONDS - t0)) -ge 30 ]; then abort "${impl}_server did not listen within 30 s"; return 1; fi
    sleep 0.05
  done
}

pane_client() {
  local impl out line summary=()
  for impl in "${IMPLS[@]}"; do
    banner "$(pane_title "$impl")"
    wait_listening "$impl" || break
    echo "\$ ${NS_CLIENT_CMD[*]:+${NS_CLIENT_CMD[*]} }./${impl}_client -H $SERVER_IP -p $PORT -s $SIZE -t $THREADS -d $DURATION -i 1"
    out="$STATE/cli.$impl.out"
    run_logged "$out" "${NS_CLIENT_CMD[@]}" "$BIN/${impl}_client" -H "$SERVER_IP" -p "$PORT" -s "$SIZE" \
      -t "$THREADS" -d "$DURATION" -i 1
    finish_logged
    line=$(result_line "$out")
    if [ "$RUN_RC" != 0 ] || [ -z "$line" ]; then
      [ -e "$STATE/abort" ] || abort "${impl}_client exited with status $RUN_RC"
      break
    fi
    summary+=("$(printf '%s %9s Gbit/s  verify_errors=%s  client CPU %s%%' "$impl" "$(field gbps "$line")" \
      "$(field verify_errors "$line")" "$(field cpu_pct "$line")")")
  done
  if [ "${#summary[@]}" -gt 0 ]; then
    banner "summary: $SIZE messages, $THREADS connections, $DURATION s each, ${MODE_LABEL}"
    printf '%s\n' "${summary[@]}"
  fi
  linger_then_close
}

pane_main() { # pane_main server|client STATE
  STATE=$2
  # shellcheck disable=SC1091 # written by the controller
  . "$STATE/conf"
  export CB_DEMO_TAG
  # Every line of the pane fits its width (wrap_lines); Ctrl-C reaches the pane's own processes.
  local width
  width=$(tm display-message -p -t "${TMUX_PANE:-}" '#{pane_width}' 2>/dev/null) || width=""
  [[ "$width" =~ ^[0-9]+$ ]] && [ "$width" -ge 40 ] || width=109
  exec > >(trap '' INT; wrap_lines "$width") 2>&1
  # Ctrl-C in a pane ends the whole demo; the supervisor cleans up once the session is gone.
  trap 'tm kill-session -t "$SESSION" 2>/dev/null; exit 130' INT
  trap 'exit 0' HUP TERM
  case "$1" in
    server) pane_server ;;
    client) pane_client ;;
  esac
}

# The supervisor outlives the panes: it waits for the tmux server to go away (the session ended:
# finished, Ctrl-C, killed), then stops whatever the panes started, removes the namespaces the
# demo created and its scratch directory.
supervise_main() {
  STATE=$1
  # shellcheck disable=SC1091
  . "$STATE/conf"
  if [ "$CREATED_NS" = 1 ]; then
    # the supervisor outlives the controller: the pair is its own from now on
    # shellcheck source-path=SCRIPTDIR source=../setup_netns.sh disable=SC1091
    . "$ROOT/setup_netns.sh"
    cb_netns_claim $$ "tools/demo.sh (make demo), its supervisor" || true
  fi
  trap 'tm kill-server 2>/dev/null || true' TERM INT HUP
  # wait-for returns when the channel is signalled or the tmux server exits; nothing signals it.
  while tm has-session -t "$SESSION" 2>/dev/null; do
    tm wait-for "cbdemo-ended" 2>/dev/null || true
  done
  cleanup_all
}

# cleanup_all: idempotent; also what the controller runs if it fails before the hand-over.
cleanup_all() {
  local p left
  tm kill-server 2>/dev/null || true
  if [ -s "$STATE/pids" ]; then
    while read -r p; do mine "$p" && kill -TERM "$p" 2>/dev/null; done <"$STATE/pids" || true
    for _ in $(seq 40); do
      left=0
      while read -r p; do mine "$p" && left=1; done <"$STATE/pids" || true
      [ "$left" = 0 ] && break
      sleep 0.05
    done
    while read -r p; do mine "$p" && kill -KILL "$p" 2>/dev/null; done <"$STATE/pids" || true
  fi
  if [ "${CREATED_NS:-0}" = 1 ]; then
    CB_NS_SERVER=$CB_NS_SERVER CB_NS_CLIENT=$CB_NS_CLIENT CB_SUBNET=$CB_SUBNET \
      bash "$ROOT/setup_netns.sh" down >/dev/null 2>&1 || true
  fi
  rm -rf "$STATE"
}

case "${1:-}" in
  --_pane) pane_main "$2" "$3"; exit ;;
  --_supervise) supervise_main "$2"; exit ;;
esac

# ---------------------------------------------------------------------------------------------
# The controller: options, checks, namespaces, the tmux session, the hand-over.

IMPLS_ARG=A1,A2,A3 SIZE=64K THREADS=2 DURATION=5 LOOPBACK=0 DETACH=0 LINGER=0
usage_err() { err "$*"; exit 2; }
while [ $# -gt 0 ]; do
  opt=$1 val=""
  case "$opt" in
    --*=*) val=${opt#*=}; opt=${opt%%=*}; has_val=1 ;;
    *) has_val=0 ;;
  esac
  case "$opt" in
    --impls|--size|--threads|--duration|--linger)
      if [ "$has_val" = 0 ]; then
        [ $# -ge 2 ] || usage_err "$opt needs a value (see --help)"
        val=$2; shift
      fi
      case "$opt" in
        --impls) IMPLS_ARG=$val ;;
        --size) SIZE=$val ;;
        --threads) THREADS=$val ;;
        --duration) DURATION=$val ;;
        --linger) LINGER=$val ;;
      esac ;;
    --loopback|--detach|-h|--help)
      [ "$has_val" = 0 ] || usage_err "$opt takes no value"
      case "$opt" in
        --loopback) LOOPBACK=1 ;;
        --detach) DETACH=1 ;;
        *) usage; exit 0 ;;
      esac ;;
    *) usage_err "unknown option '$opt' (see --help)" ;;
  esac
  shift
done

IMPLS=()
IFS=, read -r -a parts <<<"$IMPLS_ARG"
[ "${#parts[@]}" -gt 0 ] || usage_err "--impls: empty (want a list like A1,A2,A3)"
for i in "${parts[@]}"; do
  case "$i" in
    A1|A2|A3) ;;
    *) usage_err "--impls: '$i' is not A1, A2 or A3" ;;
  esac
  for j in "${IMPLS[@]}"; do [ "$i" = "$j" ] && usage_err "--impls: $i given twice"; done
  IMPLS+=("$i")
done
if ! [[ "$SIZE" =~ ^([0-9]{1,9})([KkMm]?)$ ]]; then
  usage_err "--size: '$SIZE' is not a size like 65536, 64K or 1M"
fi
bytes=$((10#${BASH_REMATCH[1]}))
case "${BASH_REMATCH[2]}" in [Kk]) bytes=$((bytes << 10)) ;; [Mm]) bytes=$((bytes << 20)) ;; esac
if [ "$bytes" -lt 16 ] || [ "$bytes" -gt 67108864 ]; then usage_err "--size: '$SIZE' is outside 16..64M"; fi
if ! [[ "$THREADS" =~ ^[0-9]{1,4}$ ]] || [ "$((10#$THREADS))" -lt 1 ] || [ "$((10#$THREADS))" -gt 1024 ]; then
  usage_err "--threads: '$THREADS' is not a whole number in 1..1024"
fi
THREADS=$((10#$THREADS))
if ! [[ "$DURATION" =~ ^[0-9]{1,5}(\.[0-9]{1,3})?$ ]] ||
   ! awk -v d="$DURATION" 'BEGIN {exit !(d >= 0.01 && d <= 86400)}'; then
  usage_err "--duration: '$DURATION' is not a number of seconds in 0.01..86400"
fi
[[ "$LINGER" =~ ^[0-9]{1,6}$ ]] || usage_err "--linger: '$LINGER' is not a whole number of seconds (0: until Enter)"

if ! command -v tmux >/dev/null 2>&1; then
  err "tmux is missing: install it (apt-get install tmux, or make deps)"; exit 1
fi
BIN=$ROOT
for i in "${IMPLS[@]}"; do
  for side in server client; do
    [ -x "$BIN/${i}_$side" ] || { err "$BIN/${i}_$side is not built: run make first (make demo builds it)"; exit 1; }
  done
done
if [ "$DETACH" = 0 ] && { [ ! -t 0 ] || [ ! -t 1 ]; }; then
  err "no terminal to show tmux in: run it from a terminal, or with --detach"; exit 1
fi
if [ "$LOOPBACK" = 0 ] && [ "$(id -u)" != 0 ]; then
  err "needs root for the network namespaces (sudo make demo), or use --loopback"; exit 1
fi

SOCK=${CB_DEMO_TMUX_SOCKET:-cbdemo_$$}
[[ "$SOCK" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || { err "CB_DEMO_TMUX_SOCKET='$SOCK': letters, digits, _ . - only"; exit 2; }
if tm has-session -t "$SESSION" 2>/dev/null; then
  err "a demo is already running on tmux socket $SOCK (tmux -L $SOCK attach)"; exit 1
fi
CB_DEMO_TAG=$SOCK
STATE=$(mktemp -d "${TMPDIR:-/tmp}/cbdemo.XXXXXX")
: >"$STATE/pids"
CREATED_NS=0
handed_over=0
# Until the supervisor owns the cleanup, this script does it.
trap '[ "$handed_over" = 1 ] || cleanup_all' EXIT
trap 'exit 130' INT TERM HUP

if [ "$LOOPBACK" = 1 ]; then
  SERVER_IP=127.0.0.1 MODE_LABEL="loopback (127.0.0.1)"
  NS_SERVER_CMD=() NS_CLIENT_CMD=()
  CB_NS_SERVER="" CB_NS_CLIENT="" CB_SUBNET=""
else
  # shellcheck source-path=SCRIPTDIR source=../setup_netns.sh disable=SC1091
  . "$ROOT/setup_netns.sh"
  cb_netns_check_names && cb_netns_addrs || exit 1
  holder=$(cb_netns_pair_holder)
  if cb_netns_is_up && [ -n "$holder" ] && [[ "$holder" != *"owned by pid"* ]]; then
    # the user's own pair (setup_netns.sh up): shared, never removed by the demo
    echo "demo.sh: using the namespaces that are up ($CB_NS_SERVER, $CB_NS_CLIENT); they stay after the demo"
  elif [ -n "$holder" ] && [ "$CB_NETNS_DEFAULT_NAMES" = 0 ] && ! cb_netns_is_up; then
    err "namespace $CB_NS_SERVER or $CB_NS_CLIENT exists but is not a working pair; not touching it ($holder)"
    exit 1
  else
    # a pair of its own: an abandoned one is replaced, one in use is left alone (cb_netns_acquire)
    cb_netns_acquire $$ "tools/demo.sh (make demo)" >/dev/null || exit 1
    CREATED_NS=1
    [ -z "$CB_NETNS_NOTE" ] || echo "demo.sh: $CB_NETNS_NOTE"
  fi
  SERVER_IP=$CB_SERVER_IP MODE_LABEL="namespaces $CB_NS_SERVER <-> $CB_NS_CLIENT over veth"
  NS_SERVER_CMD=(ip netns exec "$CB_NS_SERVER") NS_CLIENT_CMD=(ip netns exec "$CB_NS_CLIENT")
fi

declare -p ROOT SELF SESSION SOCK STATE BIN IMPLS SIZE THREADS DURATION LOOPBACK LINGER SERVER_IP \
  MODE_LABEL NS_SERVER_CMD NS_CLIENT_CMD CB_NS_SERVER CB_NS_CLIENT CB_SUBNET CREATED_NS CB_DEMO_TAG \
  >"$STATE/conf"

where=$([ "$LOOPBACK" = 1 ] && echo "loopback" || echo "$CB_NS_SERVER $SERVER_IP")
cwhere=$([ "$LOOPBACK" = 1 ] && echo "loopback" || echo "$CB_NS_CLIENT $CB_CLIENT_IP")
# history-limit is read when a pane is made, so it is set (for this private server only) first.
tm start-server \; set-option -g history-limit 20000 \; \
  new-session -d -s "$SESSION" -x 220 -y 50 -e "CB_DEMO_TAG=$CB_DEMO_TAG" \
  "exec bash '$SELF' --_pane server '$STATE'" \; \
  set-option -t "$SESSION" pane-border-status top \; \
  set-option -t "$SESSION" pane-border-format " #{pane_title} " \; \
  select-pane -t "$SESSION:0.0" -T "server ($where) - Ctrl-C ends the demo" \; \
  split-window -h -t "$SESSION:0" -e "CB_DEMO_TAG=$CB_DEMO_TAG" "exec bash '$SELF' --_pane client '$STATE'" \; \
  select-pane -t "$SESSION:0.1" -T "client ($cwhere, -i 1) - Ctrl-C ends the demo"
setsid -w bash "$SELF" --_supervise "$STATE" </dev/null >/dev/null 2>&1 &
SUP=$!
handed_over=1
trap - EXIT
trap 'tm kill-session -t "$SESSION" 2>/dev/null || true; wait "$SUP" 2>/dev/null || true; exit 130' INT TERM HUP

if [ "$DETACH" = 1 ]; then
  echo "demo.sh: running ${IMPLS[*]} ($MODE_LABEL) in tmux session $SESSION"
  echo "  watch it:  tmux -L $SOCK attach -t $SESSION"
  echo "  stop it:   tmux -L $SOCK kill-session -t $SESSION   (everything it started is then removed)"
  exit 0
fi
TMUX="" tm attach -t "$SESSION" || true
if tm has-session -t "$SESSION" 2>/dev/null; then
  echo "demo.sh: detached; the demo goes on. Back to it: tmux -L $SOCK attach -t $SESSION"
  exit 0
fi
wait "$SUP" 2>/dev/null || true
echo "demo.sh: demo over, everything it started is removed"
