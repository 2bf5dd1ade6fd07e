#!/usr/bin/env bash
# run_experiments.sh --server-host on one machine: the server host is a network namespace of this
# test, reached (1) through tests/fixtures/fakebin/fake-ssh (a stand-in ssh whose remote side runs
# like sshd's: in that namespace, with a host name of its own, as no child of the sweep, stdin from
# the connection) and (2) through a real sshd on 127.0.0.1 in that namespace (openssh-server; SKIP
# lines without it). Checks the rows and the machine file, --sync into a scratch directory, a
# remote server that dies mid-run, an unreachable host, perf missing on the server host, Ctrl-C,
# and that nothing is left behind on either "host": no process, no file, no ssh connection.
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
need_root
cd "$ROOT" || exit 1
need_programs A1_server A1_client A3_server A3_client

export CB_NS_SERVER="cbth_s$$" CB_NS_CLIENT="cbth_c$$" CB_SUBNET=10.73.0.0/24
SRV_IP=10.73.0.1
tmp=$(mktemp -d)
SCR=$tmp/scratch          # TMPDIR of every sweep: its scratch directory must be gone at the end
mkdir -p "$SCR" "$tmp/home"
chmod 755 "$tmp"
SSHD_PID=""
cleanup() {
  [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
  bash "$ROOT/setup_netns.sh" down >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
bash setup_netns.sh up >/dev/null || { echo "not ok 1 - setup_netns.sh up"; echo "1..1"; exit 1; }
FAKE=$ROOT/tests/fixtures/fakebin/fake-ssh
NCOL=34
HEADER="impl,mode,msg_size,threads,rep,duration_s,throughput_gbps,msgs_per_s,lat_p50_us,lat_p99_us,lat_max_us,cycles,instructions,l1d_misses,llc_misses,context_switches,cpu_migrations,task_clock_ms,cycles_per_byte,cpu_ns_per_byte,zc_sends,zc_completions,zc_copied,verify_errors,client_cpu_pct,steal_pct,netns,pin,zc_copied_pct,server_host,client_host,path,footprint_bytes,send_cpu_ns_per_byte"
ME=$(uname -n | sed 's/[^A-Za-z0-9._-]/_/g')
have_mpl=0
for p in python3 /usr/bin/python3; do "$p" -c 'import matplotlib' >/dev/null 2>&1 && have_mpl=1; done

# fake_env: the environment of a sweep whose ssh is the fake, its server host the server namespace
fake_env=(env TMPDIR="$SCR" CB_BIN_DIR="$CB_BIN_DIR" CB_SSH="$FAKE" FAKE_SSH_NETNS="$CB_NS_SERVER"
          FAKE_SSH_HOSTNAME=cbth-remote FAKE_SSH_HOME="$tmp/home" FAKE_SSH_LOG="$tmp/fake.log")
# fake_sweep ARGS...: the sweep in the client namespace against the fake server host
fake_sweep() {
  ip netns exec "$CB_NS_CLIENT" "${fake_env[@]}" timeout 150 bash run_experiments.sh --server-host root@fakehost \
    --server-addr "$SRV_IP" --footprints none "$@"
}
col() { awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c }' "$2"; }
all_rows_have() { awk -F, -v n="$2" 'NF != n { bad = 1 } END { exit bad }' "$1"; }
# left_on_server [EXCEPT_PID]: processes in the server namespace ("the server host"), but sshd's listener
left_on_server() { ip netns pids "$CB_NS_SERVER" 2>/dev/null | grep -vx "${1:-none}" | tr '\n' ' '; }
# wait_clean [EXCEPT_PID]: poll (5 s at most) until nothing is left on the server side
wait_clean() { for _ in $(seq 50); do [ -z "$(left_on_server "${1:-}")" ] && return 0; sleep 0.1; done; return 1; }
scratch_left() { find "$SCR" -mindepth 1 | tr '\n' ' '; }
# connected NS: a TCP connection is established in namespace NS, other than ssh's (port 22xx)
connected() { [ -n "$(ip netns exec "$1" ss -Htn state established '( not sport = :2222 and not dport = :2222 )' 2>/dev/null)" ]; }

# --- 0. the server side's wrapper: EOF on its stdin (the connection gone) stops the server -----
SERVER_SH=$(bash -c '. ./run_experiments.sh; printf "%s" "$SERVER_SH"')
# what ssh hands the server host is one string its shell parses: every word must come back whole
# shellcheck disable=SC2016 # (here and below: $ in single quotes, on purpose)
got=$(bash -c '. ./run_experiments.sh; sh -c "for a in $(sh_quote "$@"); do printf \"[%s]\" \"\$a\"; done"' x \
  "it's" 'a b' '$HOME' '' '*' '"q"')
# shellcheck disable=SC2016
is "$got" '[it'"'"'s][a b][$HOME][][*]["q"]' "sh_quote: quotes, spaces, \$, empty, * and \" come through the remote shell as they were"
mkdir -p "$tmp/stub"
cat >"$tmp/stub/A9_server" <<'STUB'
#!/bin/sh
trap 'echo "result impl=A9 side=server stopped=1"; exit 0' TERM
echo "listening addr=0.0.0.0 port=1"
while :; do sleep 0.05; done
STUB
chmod +x "$tmp/stub/A9_server"
t0=$(date +%s%N)
out=$( (sleep 0.3) | sh -c "$SERVER_SH" cbsrv "$tmp/stub" "" "" "" A9_server 2>"$tmp/wrap.err"); rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is "$rc" 0 "server wrapper: returns once its stdin reached EOF"
like "$out" "result impl=A9 side=server stopped=1" "server wrapper: EOF on stdin stopped the server with TERM (it printed its summary)"
like "$(cat "$tmp/wrap.err")" "cbsrv:exit=0" "server wrapper: says the server's exit status"
check "server wrapper: within 5 s of the EOF (${ms} ms)" test "$ms" -lt 5300
out=$(sh -c "$SERVER_SH" cbsrv "$tmp/nowhere" "" "" "" A9_server </dev/null 2>&1); rc=$?
like "$rc $(tr '\n' ' ' <<<"$out")" "^111 cbsrv: no directory $tmp/nowhere \(on .*\) cbsrv:exit=111" "server wrapper: a missing directory is said, exit 111"

# --- 1. --quick against the fake, with --sync into a scratch directory ---------------------------
: >"$tmp/fake.log"
out=$tmp/f1/results.csv
log=$(fake_sweep --server-dir cb --sync --quick --impls A1,A3 --sizes 64K --threads 1 --out "$out" 2>&1); rc=$?
want=0; [ "$have_mpl" = 1 ] || want=1
is "$rc" "$want" "fake ssh: --server-host --sync --quick exits $want"
[ "$rc" = "$want" ] || printf '%s\n' "$log" | tail -n 15 | sed 's/^/#   /'
like "$log" "copying the sources to root@fakehost:cb \\(--sync" "--sync copies the sources"
like "$log" "building on root@fakehost in cb \\(make\\)" "the programs are built on the server host"
like "$log" "server on root@fakehost \\(cbth-remote, $SRV_IP via cbveth_c: path veth\\), client here" "says where each side runs and the path"
check "--sync: the sources are in DIR, relative to the remote home" cmp -s "$tmp/home/cb/A3_server.c" A3_server.c
check "--sync: and built there" test -x "$tmp/home/cb/A3_server"
is "$(head -n 1 "$out" 2>/dev/null)" "$HEADER" "CSV header: the new columns at the end"
is "$(($(wc -l <"$out") - 1))" 4 "4 rows (2 impls x stream + rr)"
check "every row has $NCOL columns" all_rows_have "$out" "$NCOL"
is "$(col server_host "$out" | sort -u)|$(col client_host "$out" | sort -u)|$(col path "$out" | sort -u)|$(col netns "$out" | sort -u)" \
  "cbth-remote|$ME|veth|0" "server_host = the server host's name, client_host = this one's, path veth, netns 0"
check "stream rows: one-way latency cells empty (two clocks)" bash -c \
  "awk -F, 'NR > 1 && \$2 == \"stream\" && (\$9 != \"\" || \$10 != \"\" || \$11 != \"\") { bad = 1 } END { exit bad }' '$out'"
check "rr rows: round trips measured" bash -c "awk -F, 'NR > 1 && \$2 == \"rr\" && !(\$9 > 0 && \$10 >= \$9) { bad = 1 } END { exit bad }' '$out'"
check "throughput and the server host's task-clock (perf over ssh) in every row" bash -c \
  "awk -F, 'NR > 1 && !(\$7 > 0 && \$18 > 0 && \$20 > 0) { bad = 1 } END { exit !(NR == 5 && !bad) }' '$out'"
check "zc_copied_pct = zc_copied / zc_completions x 100 in A3 rows, empty in A1 rows" bash -c \
  "awk -F, 'NR > 1 && ((\$1 == \"A3\" && \$29 != sprintf(\"%.2f\", 100 * \$23 / \$22)) || (\$1 == \"A1\" && \$29 != \"\")) { bad = 1 } END { exit bad }' '$out'"
m=$(cat "$tmp/f1/results.machine.txt" 2>/dev/null)
like "$m" "^host: cbth-remote$" "machine file: the measured (server) host's name"
like "$m" "server_dir: $tmp/home/cb" "machine file: the server directory"
like "$m" "server_sources: the same as the client's" "machine file: both sides built from the same sources"
like "$m" "one_way_latency: not recorded: .*two CLOCK_MONOTONIC clocks" "machine file says why stream latency is empty"
like "$m" "zc_copied_note: " "machine file says what zc_copied means on two hosts"
like "$m" "client_host: $ME" "machine file: the client host"
if command -v ethtool >/dev/null 2>&1; then
  like "$m" "server_nic: cbveth_s, driver veth .*scatter-gather on, MTU 1500" "machine file: the server's NIC from ethtool -i / -k"
  like "$m" "client_nic: cbveth_c, driver veth" "machine file: the client's NIC"
else
  ok 0 "machine file: NICs from ethtool # SKIP ethtool not installed"; ok 0 "machine file: client NIC # SKIP ethtool not installed"
fi
if [ "$have_mpl" = 1 ]; then
  like "$(cat "$tmp/f1/plots/report.md" 2>/dev/null)" "Stream one-way latency is not valid (in this run|here)" "report.md: stream latency not valid across hosts"
else
  ok 0 "report.md from a two-host CSV # SKIP no Python with matplotlib"
fi
f=$(cat "$tmp/fake.log")
is "$(grep -c '^master ' <<<"$f"):$(grep -c '^ctl-exit ' <<<"$f")" "1:1" "one ControlMaster connection, opened once and closed at the end"
is "$(grep '^exec ' <<<"$f" | grep -vc "ctl=$SCR/copybench\.[^ ]*/ssh\.ctl ")" 0 "every server-side command went over it"
is "$(left_on_server)" "" "nothing left running on the server host"
is "$(scratch_left)" "" "nothing left in the sweep's scratch directory (control socket included)"

# --- 2. the remote server dies mid-run: that run fails, the sweep goes on ------------------------
out=$tmp/f2/results.csv
fake_sweep --server-dir cb --impls A1 --sizes 64K --threads 1 --no-rr --reps 2 --duration 3 --no-plots \
  --out "$out" >"$tmp/f2.log" 2>&1 &
pid=$!
killed=""
for _ in $(seq 150); do
  if connected "$CB_NS_SERVER"; then
    for p in $(ip netns pids "$CB_NS_SERVER"); do
      [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$tmp/home/cb/A1_server" ] && { kill -KILL "$p"; killed=$p; }
    done
    [ -n "$killed" ] && break
  fi
  sleep 0.1
done
wait "$pid"; rc=$?
check "the remote server was found and killed mid-run (pid ${killed:-none})" test -n "$killed"
is "$rc" 1 "a run whose remote server died: the sweep ends with exit 1"
l=$(cat "$tmp/f2.log")
like "$l" "A1 client failed \\(exit 1\\) for stream size 65536 threads 1; no row written" "the failed run is reported"
like "$(tr '\n' ' ' <<<"$l")" "the server on root@fakehost said: .*A1_server: Killed" "with the server side's end of it (perf: the server was killed)"
like "$l" "1 run\\(s\\) failed" "and counted"
is "$(($(wc -l <"$out") - 1))" 1 "the other run's row is written"
check "the CSV stays whole ($NCOL columns)" all_rows_have "$out" "$NCOL"
check "nothing left running on the server host" wait_clean
is "$(scratch_left)" "" "nothing left in the scratch directory"

# --- 3. an unreachable host: one line, exit 1, nothing written ----------------------------------
o=$(ip netns exec "$CB_NS_CLIENT" "${fake_env[@]}" bash run_experiments.sh --server-host nosuchhost --quick \
  --out "$tmp/f3/results.csv" 2>&1 >/dev/null); rc=$?
is "$rc" 1 "unreachable host: exit 1"
is "$(wc -l <<<"$o" | tr -d ' ')" 1 "unreachable host: one line on stderr"
like "$o" "^run_experiments: --server-host nosuchhost: cannot connect with ssh: ssh: Could not resolve hostname nosuchhost" "unreachable host: the line names the option and ssh's reason"
check "unreachable host: no results directory made" test ! -e "$tmp/f3"
is "$(scratch_left)" "" "unreachable host: nothing left in the scratch directory"

# --- 4. perf missing on the server host: runs without it, says so once, cells empty --------------
out=$tmp/f4/results.csv
log=$(ip netns exec "$CB_NS_CLIENT" "${fake_env[@]}" CB_PERF=/nonexistent/perf bash run_experiments.sh \
  --server-host fakehost --server-addr "$SRV_IP" --server-dir cb --impls A1 --sizes 4K --threads 1 --no-rr --footprints none \
  --reps 1 --duration 0.5 --pin 0:0 --no-plots --out "$out" 2>&1); rc=$?
is "$rc" 0 "perf missing on the server host: the sweep still runs"
is "$(grep -c 'perf is missing or cannot count on fakehost' <<<"$log")" 1 "and says so once"
is "$(col task_clock_ms "$out")|$(col context_switches "$out")" "|" "and leaves the counter cells empty"
like "$(cat "$tmp/f4/results.machine.txt")" "perf: unavailable" "the machine file says perf is unavailable"
is "$(col pin "$out")" "0:0" "--pin with two hosts: recorded (server CPUs on the server host)"
o=$(ip netns exec "$CB_NS_CLIENT" "${fake_env[@]}" bash run_experiments.sh --server-host fakehost --server-addr "$SRV_IP" \
  --server-dir cb --impls A1 --pin 64:0 --out "$tmp/f4b/results.csv" 2>&1 >/dev/null); rc=$?
like "$rc $o" "^2 run_experiments: --pin: no CPU 64 on fakehost" "--pin: a CPU the server host lacks is a usage error (exit 2), checked there"

# --- usage errors and --dry-run: one line naming the option, nothing contacted -------------------
n0=$(wc -l <"$tmp/fake.log")
for args in "--server-host -oProxyCommand=x" "--server-host a,b" "--server-host h --server-addr a;b" "--server-addr 10.0.0.1" \
            "--server-dir d" "--sync" "--server-host h --no-netns" "--server-host="; do
  # shellcheck disable=SC2086
  o=$(CB_SSH="$FAKE" FAKE_SSH_LOG="$tmp/fake.log" bash run_experiments.sh $args --out "$tmp/bad.csv" 2>&1); rc=$?
  like "$rc:$(wc -l <<<"$o" | tr -d ' '):$o" "^2:1:run_experiments: --(server-host|server-addr|server-dir|sync|no-netns)" "'$args': exit 2, one line naming the option"
done
o=$(CB_SSH="$FAKE" FAKE_SSH_LOG="$tmp/fake.log" bash run_experiments.sh --server-host fakehost --quick --dry-run 2>&1); rc=$?
like "$rc $(tr '\n' ' ' <<<"$o")" "^0 .*[0-9]+ runs planned.*dry run: results would go to" "--dry-run with --server-host: the plan"
is "$(wc -l <"$tmp/fake.log")" "$n0" "--dry-run and usage errors contact no host"

# --- 5. Ctrl-C in the middle of a two-host sweep ------------------------------------------------
# interrupt NAME PID OUT LOG EXCEPT: SIGINT once a run is under way, then the checks
interrupt() {
  local name=$1 pid=$2 out=$3 log=$4 except=$5 rc
  for _ in $(seq 300); do
    [ "$(wc -l 2>/dev/null <"$out" || echo 0)" -ge 2 ] && connected "$CB_NS_SERVER" && break
    sleep 0.1
  done
  kill -INT "$pid"
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then ok 1 "$name: interrupted sweep exits within 20 s"; kill -KILL "$pid"; else ok 0 "$name: interrupted sweep exits within 20 s"; fi
  wait "$pid"; rc=$?
  is "$rc" 130 "$name: interrupted sweep exits 130"
  like "$(cat "$log")" "interrupted" "$name: it says it was interrupted"
  check "$name: the CSV stays whole ($NCOL columns, a row at least)" bash -c "[ \$(wc -l <'$out') -ge 2 ] && awk -F, 'NF != $NCOL { bad = 1 } END { exit bad }' '$out'"
  # The server host's side of the run is gone before the sweep exits (it waits for it); sshd's
  # own session processes may take a moment longer to go.
  check "$name: no process left on the server host" wait_clean "$except"
  [ -z "$(left_on_server "$except")" ] || diag "left: $(left_on_server "$except")"
  is "$(scratch_left)" "" "$name: nothing left in the scratch directory"
}
exits0=$(grep -c '^ctl-exit ' "$tmp/fake.log")
set -m   # job control on: a background job of a script would otherwise start with SIGINT ignored
ip netns exec "$CB_NS_CLIENT" "${fake_env[@]}" bash run_experiments.sh --server-host root@fakehost --server-addr "$SRV_IP" \
  --server-dir cb --impls A1,A3 --sizes 64K --threads 2 --duration 1 --rr-duration 1 --reps 2 --footprints none --no-plots \
  --out "$tmp/f5/results.csv" >"$tmp/f5.log" 2>&1 &
pid=$!
set +m
interrupt "fake ssh, Ctrl-C" "$pid" "$tmp/f5/results.csv" "$tmp/f5.log" none
is "$(grep -c '^ctl-exit ' "$tmp/fake.log")" "$((exits0 + 1))" "fake ssh, Ctrl-C: the ControlMaster connection is closed too"

# --- 6. a real sshd on 127.0.0.1 in the server namespace ----------------------------------------
SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)
REAL_CHECKS=("real sshd: --server-host --quick exits 0" "real sshd: 2 rows of $NCOL columns"
  "real sshd: server_host from the server host, path loopback" "real sshd: stream latency empty, rr measured, perf counts back"
  "real sshd: machine file names the server host" "real sshd: unreachable port: exit 1, one line"
  "real sshd, Ctrl-C: interrupted sweep exits within 20 s" "real sshd, Ctrl-C: interrupted sweep exits 130"
  "real sshd, Ctrl-C: it says it was interrupted" "real sshd, Ctrl-C: the CSV stays whole ($NCOL columns, a row at least)"
  "real sshd, Ctrl-C: no process left on the server host" "real sshd, Ctrl-C: nothing left in the scratch directory"
  "real sshd: only the listener left after the sweeps")
if [ ! -x "$SSHD" ] || ! command -v ssh-keygen >/dev/null 2>&1; then
  for c in "${REAL_CHECKS[@]}"; do ok 0 "$c # SKIP openssh-server is not installed (tests/install_deps.sh installs it)"; done
else
  k=$tmp/ssh; mkdir -p "$k"
  ssh-keygen -q -t ed25519 -N '' -f "$k/host_key" && ssh-keygen -q -t ed25519 -N '' -f "$k/client_key"
  cp "$k/client_key.pub" "$k/authorized_keys"
  cat >"$k/sshd_config" <<EOF
ListenAddress 127.0.0.1:2222
HostKey $k/host_key
AuthorizedKeysFile $k/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
LogLevel ERROR
EOF
  cat >"$k/ssh_config" <<EOF
Host *
  Port 2222
  IdentityFile $k/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $k/known_hosts
  StrictHostKeyChecking accept-new
  LogLevel ERROR
EOF
  # sshd's privilege separation directory. Made if missing and left in place, as the package's
  # tmpfiles.d does: removing it at exit broke a second sshd still running (another copy of this
  # test, beside it, failed its Ctrl-C scene with "kex_exchange_identification: Connection reset").
  mkdir -p /run/sshd
  # sshd in the server namespace, with a host name of its own (the sessions it starts inherit both)
  # shellcheck disable=SC2016 # $0 $1: expanded by that sh
  ip netns exec "$CB_NS_SERVER" unshare -u sh -c 'hostname cbth-sshd && exec "$0" -D -e -f "$1"' "$SSHD" "$k/sshd_config" \
    2>"$tmp/sshd.log" &
  SSHD_PID=$!
  for _ in $(seq 100); do
    [ -n "$(ip netns exec "$CB_NS_SERVER" ss -Htln '( sport = :2222 )' 2>/dev/null)" ] && break
    kill -0 "$SSHD_PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$tmp/sshd.log" ] && diag "sshd: $(sed -n 1,3p "$tmp/sshd.log")"
  real_env=(env TMPDIR="$SCR" CB_BIN_DIR="$CB_BIN_DIR" CB_SSH="ssh -F $k/ssh_config")
  # One technique, one stream and one rr run: what the fake's sweep checked above, now through a real
  # ssh (the CSV from two hosts, perf's counts and the machine file back over it).
  out=$tmp/r1/results.csv
  log=$(ip netns exec "$CB_NS_SERVER" "${real_env[@]}" timeout 150 bash run_experiments.sh --server-host root@127.0.0.1 \
    --server-dir "$CB_BIN_DIR" --quick --impls A3 --sizes 64K --threads 1 --footprints none --no-plots --out "$out" 2>&1); rc=$?
  is "$rc" 0 "${REAL_CHECKS[0]}"
  [ "$rc" = 0 ] || printf '%s\n' "$log" | tail -n 15 | sed 's/^/#   /'
  check "${REAL_CHECKS[1]}" bash -c "[ \$(wc -l <'$out') = 3 ] && awk -F, 'NF != $NCOL { bad = 1 } END { exit bad }' '$out'"
  is "$(col server_host "$out" | sort -u)|$(col path "$out" | sort -u)" "cbth-sshd|loopback" "${REAL_CHECKS[2]}"
  check "${REAL_CHECKS[3]}" bash -c "awk -F, 'NR > 1 && ((\$2 == \"stream\" && \$9 != \"\") || (\$2 == \"rr\" && !(\$9 > 0)) || !(\$18 > 0)) { bad = 1 } END { exit bad }' '$out'"
  m=$(cat "$tmp/r1/results.machine.txt" 2>/dev/null)
  like "$(grep -c -e '^host: cbth-sshd$' -e '^server_sources: the same' <<<"$m")" "^2$" "${REAL_CHECKS[4]}"
  o=$(ip netns exec "$CB_NS_SERVER" env TMPDIR="$SCR" CB_SSH="ssh -F $k/ssh_config -p 2299" bash run_experiments.sh \
    --server-host root@127.0.0.1 --quick --out "$tmp/r2/results.csv" 2>&1 >/dev/null); rc=$?
  like "$rc:$(wc -l <<<"$o" | tr -d ' '):$o" "^1:1:run_experiments: --server-host root@127.0.0.1: cannot connect with ssh: .*Connection refused" "${REAL_CHECKS[5]}"
  set -m
  ip netns exec "$CB_NS_SERVER" "${real_env[@]}" bash run_experiments.sh --server-host root@127.0.0.1 --server-dir "$CB_BIN_DIR" \
    --impls A1,A3 --sizes 64K --threads 2 --duration 1 --rr-duration 1 --reps 2 --no-plots --out "$tmp/r3/results.csv" \
    >"$tmp/r3.log" 2>&1 &
  pid=$!
  set +m
  interrupt "real sshd, Ctrl-C" "$pid" "$tmp/r3/results.csv" "$tmp/r3.log" "$SSHD_PID"
  is "$(left_on_server "$SSHD_PID")" "" "${REAL_CHECKS[12]}"
fi

check "t_twohost.sh is shellcheck-clean" shellcheck tests/t_twohost.sh
done_testing
