#!/usr/bin/env bash
# Load: 64 concurrent clients each doing SHMB_LOAD_CYCLES (default 50 in the
# suite; 1000 on demand) connect/open/map/unmap/close cycles: every cycle
# completes (hostile.exe counts them per thread; a thread that did not start
# fails it), none fails, and the service's resources come back to within a
# margin of what they were before: 4 handles, and memory that scales with
# the cycles run (256 KiB plus 64 bytes a cycle). Prints the figures. Then
# the same over a section delivered by handle (delivery = handle), where
# the clients' own handles are counted too: a handle the service puts into
# a client and that shmb_close does not close would grow them with the
# cycles (margin 8, whatever the cycles).
#
# Wine implements neither GetProcessHandleCount nor a meaningful
# PrivateUsage, so under Wine the handles are counted in the system handle
# table (hostile procinfo) and the memory is the service process's resident
# set, read from Linux. On Windows both come from STATUS (handles,
# private_kib).
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
# Under Wine every client is the one test account: let it hold them all
# (a thread's next connection can arrive before the last one is closed).
sed -i 's/^log_level = debug$/log_level = debug\nmax_clients_per_account = 256/' shmb.conf
cat >>shmb.conf <<EOF2

[section byhandle]
size = 64KiB
delivery = handle
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GR;;;$SHMBROKER_SERVER_SID)
EOF2
start_service shmb.conf
cycles=${SHMB_LOAD_CYCLES:-50}
clients=${SHMB_LOAD_CLIENTS:-64}
total=$((clients * cycles))
# field NAME TEXT: NAME's value in "a=1 b=2" text; fails when it is absent.
field() {
    local v
    v=$(sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2")
    [ -n "$v" ] || fail "no $1= in '$2'"
    echo "$v"
}
# number NAME VALUE: VALUE must be a count above 0 (a failed query gives
# -1, a wrong process 0).
number() {
    [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || fail "$1 is '$2', not a count above 0"
}
winpid=$(status_value pid) || fail "status has no pid"
number "the service's pid" "$winpid"
procinfo() {
    local handles mem
    if [ -n "$SHMB_RUNNER" ]; then
        handles=$(hostile procinfo "$winpid") || fail "hostile procinfo $winpid failed: $handles"
        handles=$(field handles "$handles") || fail "hostile procinfo printed no handles="
        mem=$(awk '/^VmRSS/ {print $2}' /proc/"$svc_pid"/status) \
            || fail "no /proc/$svc_pid/status for the service"
    else
        handles=$(status_value handles) || fail "status has no handles"
        mem=$(status_value private_kib) || fail "status has no private_kib"
    fi
    number handles "$handles"
    number "memory (KiB)" "$mem"
    echo "handles=$handles mem_kib=$mem"
}

# run_load CYCLES [SECTION]: the clients' run over SECTION (readonly);
# fails unless every cycle completed.
run_load() {
    local out
    out=$(hostile load "$pipe" "${2:-readonly}" "$clients" "$1") \
        || fail "hostile load $clients x $1 failed: $out"
    [ "$(field errors "$out")" = 0 ] || fail "errors during load: $out"
    [ "$(field completed "$out")" = $((clients * $1)) ] \
        || fail "only $(field completed "$out") of $((clients * $1)) cycles completed: $out"
    echo "$out"
}

run_load 5 >warmup.out   # first allocations
wait_status clients 1 10
before=$(procinfo) || fail "procinfo before the load"
run=$(run_load "$cycles") || fail "the load run failed"
wait_status clients 1 10
after=$(procinfo) || fail "procinfo after the load"
echo "load: $clients clients x $cycles cycles: $run"
echo "service before: $before; after: $after"
pass "$total cycles completed without an error in $(field seconds "$run") s"

hb=$(field handles "$before") || fail "no handles before: $before"
ha=$(field handles "$after") || fail "no handles after: $after"
mb=$(field mem_kib "$before") || fail "no memory before: $before"
ma=$(field mem_kib "$after") || fail "no memory after: $after"
margin=$((256 + total * 64 / 1024))
[ "$ha" -le $((hb + 4)) ] || fail "handles grew from $hb to $ha"
[ "$ma" -le $((mb + margin)) ] || fail "memory grew from $mb KiB to $ma KiB (more than $margin KiB for $total cycles)"
pass "handles $hb -> $ha, memory $mb KiB -> $ma KiB (margin $margin KiB)"

# By handle: the same cycles, each OPEN a DuplicateHandle into the client.
before=$(procinfo) || fail "procinfo before the load by handle"
run=$(run_load "$cycles" byhandle) || fail "the load run by handle failed"
wait_status clients 1 10
after=$(procinfo) || fail "procinfo after the load by handle"
echo "load by handle: $clients clients x $cycles cycles: $run"
echo "service before: $before; after: $after"
cb=$(field client_handles_before "$run") || fail "no client handles before: $run"
ca=$(field client_handles_after "$run") || fail "no client handles after: $run"
number "the clients' handles" "$cb"
[ "$ca" -le $((cb + 8)) ] || fail "the clients' handles grew from $cb to $ca over $total opens by handle"
hb=$(field handles "$before") || fail "no handles before: $before"
ha=$(field handles "$after") || fail "no handles after: $after"
[ "$ha" -le $((hb + 4)) ] || fail "the service's handles grew from $hb to $ha over $total opens by handle"
pass "by handle: $total cycles; the clients' handles $cb -> $ca, the service's $hb -> $ha"
