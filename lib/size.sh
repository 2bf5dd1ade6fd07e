# shellcheck shell=bash
# The one size grammar every copybench script shares with the C programs
# (cb_parse_size in the shared module): whole bytes, optionally with a K, M or G
# suffix meaning 1024, 1048576 or 1073741824 (case-insensitive); a message size
# is 16 (the message header must fit) to 64M. "4K" = 4096; "+16", "1.5K",
# "0x10" and "16 " are not sizes.
# Sourced by run_experiments.sh and bench/*.sh; tests/t_options.sh checks that
# the scripts and the clients accept and refuse exactly the same sizes.

# shellcheck disable=SC2034 # used by the scripts that source this file
CB_SIZE_MIN=16
CB_SIZE_MAX=$((64 << 20))
# shellcheck disable=SC2034
CB_SIZE_GRAMMAR="bytes ${CB_SIZE_MIN}..64M, K/M suffixes (powers of two), e.g. 4K"

# cb_bytes SIZE: prints SIZE in bytes, any value; returns 1 (printing nothing) when SIZE
# is not written in the grammar (also for byte counts that are not message sizes,
# e.g. the client's --rcvlowat).
cb_bytes() {
  local n
  [[ $1 =~ ^([0-9]{1,9})([KkMmGg]?)$ ]] || return 1
  n=$((10#${BASH_REMATCH[1]}))
  case ${BASH_REMATCH[2]} in K|k) n=$((n << 10)) ;; M|m) n=$((n << 20)) ;; G|g) n=$((n << 30)) ;; esac
  echo "$n"
}

# cb_size_bytes SIZE: prints the message size SIZE in bytes; returns 1 (printing
# nothing) when SIZE is not in the grammar or out of the message size range.
cb_size_bytes() {
  local n
  n=$(cb_bytes "$1") || return 1
  [ "$n" -ge "$CB_SIZE_MIN" ] && [ "$n" -le "$CB_SIZE_MAX" ] || return 1
  echo "$n"
}
