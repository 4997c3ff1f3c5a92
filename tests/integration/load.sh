#!/usr/bin/env bash
# Load: 64 concurrent clients each doing SHMB_LOAD_CYCLES (default 50 in the
# suite; 1000 on demand) connect/open/map/unmap/close cycles: no error, and
# the service's resources come back to within a small margin of what they
# were before. Prints the figures.
#
# Wine implements neither GetProcessHandleCount nor a meaningful
# PrivateUsage (STATUS reports both for Windows), so here the handles are
# counted in the system handle table (hostile procinfo) and the memory is
# the service process's resident set, read from Linux.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf
cycles=${SHMB_LOAD_CYCLES:-50}
clients=${SHMB_LOAD_CLIENTS:-64}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
procinfo() {
    echo "$(hostile procinfo "$(status_value pid)") rss_kib=$(awk '/^VmRSS/ {print $2}' /proc/"$svc_pid"/status)"
}

hostile load "$pipe" readonly "$clients" 5 >warmup.out   # first allocations
sleep 1
before=$(procinfo)
run=$(hostile load "$pipe" readonly "$clients" "$cycles")
sleep 1
after=$(procinfo)
echo "load: $clients clients x $cycles cycles: $run"
echo "service before: $before; after: $after"

[ "$(field errors "$run")" = 0 ] || fail "errors during load: $run"
[ "$(field cycles "$run")" = $((clients * cycles)) ] || fail "cycles: $run"
pass "$((clients * cycles)) cycles without an error in $(field seconds "$run") s"

hb=$(field handles "$before"); ha=$(field handles "$after")
[ "$hb" -gt 0 ] || fail "no handle count: $before"
pb=$(field rss_kib "$before"); pa=$(field rss_kib "$after")
[ "$ha" -le $((hb + 4)) ] || fail "handles grew from $hb to $ha"
[ "$pa" -le $((pb + 4096)) ] || fail "resident memory grew from $pb KiB to $pa KiB"
pass "handles $hb -> $ha, resident memory $pb KiB -> $pa KiB"
[ "$(status_value clients)" = 1 ] || fail "clients left behind: $(status_value clients)"
