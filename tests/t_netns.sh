#!/usr/bin/env bash
# setup_netns.sh: up, up again, status, down, down again, nothing left; leftovers after a "crash".
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
need_root
cd "$ROOT" || exit 1

export CB_NS_SERVER="cbt_s$$" CB_NS_CLIENT="cbt_c$$"
ns_left() { ip netns list | awk '{print $1}' | grep -cxE "$CB_NS_SERVER|$CB_NS_CLIENT"; }
trap 'bash setup_netns.sh down >/dev/null 2>&1' EXIT

out=$(bash setup_netns.sh status 2>&1); rc=$?
is "$rc" 3 "status before up exits 3"
like "$out" "namespace $CB_NS_SERVER: absent" "status says the server namespace is absent"

out=$(bash setup_netns.sh up 2>&1); rc=$?
is "$rc" 0 "up exits 0"
is "$(ns_left)" 2 "both namespaces exist after up"
out=$(bash setup_netns.sh up 2>&1); rc=$?
is "$rc" 0 "up again exits 0"
like "$out" "already up" "up again says it is already up"
out=$(bash setup_netns.sh status 2>&1); rc=$?
is "$rc" 0 "status when up exits 0"
like "$out" "10\.77\.0\.1/24" "server has 10.77.0.1/24"
like "$out" "10\.77\.0\.2/24" "client has 10.77.0.2/24"

# status and up must be right every time, also on a loaded machine: they once piped `ip` into
# `grep -q` under pipefail, and `ip` dying of SIGPIPE made status say "not up" 17 times in 40
# and `up` rebuild the namespaces under a running server.
ip netns exec "$CB_NS_SERVER" sleep 300 &
inside=$!
# The load: as many busy loops as it takes for every CPU to have a task running beside these
# calls (procs_running less the reader, the fewest of 10 looks 50 ms apart, so a passing kernel worker does not count). On a machine already busy that is
# none: adding two more beside a second suite and a busy loop made 200 calls outlast the
# runner's 300 s, and beside two busy loops and other work one call took 3 s: 30 calls (the
# failure was 17 in 40) and 10 ups keep the check without the runner's timeout.
others=$(tasks_beside)
hogs=$(( $(nproc) - others )); [ "$hogs" -ge 0 ] || hogs=0
diag "load: $others tasks already running, $hogs busy loops added, $(nproc) CPUs"
load=()
for _ in $(seq 1 "$hogs"); do bash -c 'while :; do :; done' & load+=($!); done
bad=0
for _ in $(seq 30); do bash setup_netns.sh status >/dev/null 2>&1 || bad=$((bad + 1)); done
rebuilt=0
for _ in $(seq 10); do
  out=$(bash setup_netns.sh up 2>&1) || rebuilt=$((rebuilt + 1))
  [[ "$out" == *"already up"* ]] || rebuilt=$((rebuilt + 1))
done
[ "${#load[@]}" = 0 ] || { kill "${load[@]}" 2>/dev/null; wait "${load[@]}" 2>/dev/null; }
is "$bad" 0 "status says up 30 times in 30 while up, under CPU load"
is "$rebuilt" 0 "up while up says 'already up' 10 times in 10 under load"
check "a process inside the server namespace survives the repeated ups" kill -0 "$inside"
kill "$inside" 2>/dev/null; wait "$inside" 2>/dev/null

# The veth carries traffic: a TCP listener in the server namespace answers the client's connect.
ip netns exec "$CB_NS_SERVER" python3 -c '
import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 5399)); s.listen(1); s.settimeout(5); c,_=s.accept(); c.sendall(b"hi"); c.close()' &
lp=$!
got=""
for _ in $(seq 50); do
  got=$(ip netns exec "$CB_NS_CLIENT" python3 -c '
import socket; c=socket.create_connection(("10.77.0.1", 5399), timeout=2); print(c.recv(2).decode())' 2>/dev/null) && break
  sleep 0.1
done
wait "$lp" 2>/dev/null
is "$got" "hi" "TCP from client namespace to 10.77.0.1 works over the veth"

# A process left inside (crashed sweep) is killed by down.
ip netns exec "$CB_NS_SERVER" sleep 300 &
sp=$!
sleep 0.2
out=$(bash setup_netns.sh down 2>&1); rc=$?
is "$rc" 0 "down exits 0"
is "$(ns_left)" 0 "no namespace left after down"
sleep 0.2
check "process left in the namespace was killed" bash -c "! kill -0 $sp 2>/dev/null"
wait "$sp" 2>/dev/null
out=$(bash setup_netns.sh down 2>&1); rc=$?
is "$rc" 0 "down again exits 0"
out=$(bash setup_netns.sh status 2>&1); rc=$?
is "$rc" 3 "status after down exits 3"

# A half-built leftover (only the server namespace) is repaired by up.
ip netns add "$CB_NS_SERVER"
out=$(bash setup_netns.sh up 2>&1); rc=$?
is "$rc" 0 "up over a half-built leftover exits 0"
bash setup_netns.sh status >/dev/null 2>&1; is "$?" 0 "and the result is fully up"
bash setup_netns.sh down >/dev/null 2>&1
is "$(ns_left)" 0 "nothing left at the end"

# --- a pair in use is never destroyed (docs/pipeline.md "Namespaces in use") ---------------------
# acquire OWNER: what a sweep or the demo does (cb_netns_acquire), in a process of its own;
# prints its exit status, its note and the pair it ended up with.
acquire() {
  bash -c '. ./setup_netns.sh; rc=0; cb_netns_acquire "$1" "t_netns" >/dev/null || rc=$?
           echo "rc=$rc names=$CB_NS_SERVER/$CB_NS_CLIENT note=$CB_NETNS_NOTE"' _ "$1" 2>&1
}
bash setup_netns.sh up >/dev/null 2>&1
ip netns exec "$CB_NS_SERVER" sleep 300 &
inside=$!
sleep 0.2
out=$(acquire $$)
like "$out" "namespaces $CB_NS_SERVER/$CB_NS_CLIENT are in use, not touching them: .*$inside \(sleep 300\).*made by hand" \
  "a sweep finds the hand-made pair with a process inside: refuses, naming the process and the owner"
like "$out" "rc=1 " "and fails (names of the user's choosing: no pair of its own)"
check "the process inside survives" kill -0 "$inside"
out=$(bash -c '. ./setup_netns.sh; CB_NETNS_DEFAULT_NAMES=1; cb_netns_acquire $$ t_netns >/dev/null; echo "rc=$? names=$CB_NS_SERVER/$CB_NS_CLIENT note=$CB_NETNS_NOTE"
               cb_netns_down >/dev/null' 2>&1)
like "$out" "rc=0 names=${CB_NS_SERVER}_[0-9]+/${CB_NS_CLIENT}_[0-9]+ note=namespaces $CB_NS_SERVER/$CB_NS_CLIENT are in use" \
  "with the default names it runs in a pair of its own instead, and says so"
check "the process inside still survives" kill -0 "$inside"
ip link del cbveth_s netns "$CB_NS_SERVER" 2>/dev/null || ip -n "$CB_NS_SERVER" link del cbveth_s
out=$(bash setup_netns.sh up 2>&1); rc=$?
is "$rc" 1 "up over a half-built pair with a process inside: exit 1"
like "$out" "half built and in use, not touching them: .*$inside" "and it names the process"
check "the process inside survives up" kill -0 "$inside"
kill "$inside" 2>/dev/null; wait "$inside" 2>/dev/null
bash setup_netns.sh down >/dev/null 2>&1
# a live owner (a sweep between two runs: nothing inside) holds it too
sleep 300 &
owner=$!
out=$(acquire "$owner")
like "$out" "rc=0 names=$CB_NS_SERVER/$CB_NS_CLIENT note=$" "a pair of its own is made when none exists"
out=$(bash setup_netns.sh status 2>&1)
like "$out" "namespace $CB_NS_SERVER: exists; owned by pid $owner \(t_netns\)" "status names the owner"
out=$(acquire $$)
like "$out" "in use, not touching them: $CB_NS_SERVER: owned by pid $owner \(t_netns\)" "a live owner with nothing inside: still refused, owner named"
like "$out" "^rc=1 " "and fails"
kill "$owner"; wait "$owner" 2>/dev/null
out=$(acquire $$)
like "$out" "rc=0 names=$CB_NS_SERVER/$CB_NS_CLIENT note=removed the abandoned namespaces" \
  "owner gone and nothing inside: provably abandoned, removed and made anew"
bash setup_netns.sh down >/dev/null 2>&1
is "$(ns_left):$(ls /run/copybench/netns/"$CB_NS_SERVER".owner 2>/dev/null)" "0:" "down removes the pair and its owner record"

out=$(bash setup_netns.sh frobnicate 2>&1); rc=$?
is "$rc" 2 "unknown command exits 2"
out=$(CB_SUBNET=10.77.0/24 bash setup_netns.sh up 2>&1); rc=$?
is "$rc" 1 "bad CB_SUBNET exits 1"
like "$out" "CB_SUBNET" "and names CB_SUBNET"
if ! id nobody >/dev/null 2>&1; then
  ok 0 "non-root up: no user 'nobody' to try it as # SKIP"
else
  out=$(su nobody -s /bin/bash -c "bash '$ROOT/setup_netns.sh' up" 2>&1); rc=$?
  is "$rc" 1 "non-root up exits 1"
  like "$out" "needs root" "non-root up says it needs root"
fi
check "setup_netns.sh is shellcheck-clean" shellcheck setup_netns.sh
done_testing
