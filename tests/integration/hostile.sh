#!/usr/bin/env bash
# Hostile connections against the real service: a client trickling one byte
# per second is closed after client_timeout (3 s: exactly 3 bytes sent,
# one timeout counted) without holding up others; more clients than
# max_clients are refused cleanly (SHMB_EBUSY, exit 5) and served again once
# others leave; clients that disconnect or are killed in the middle of a
# request cost nothing. Counters account for each case exactly. Each step
# waits until the service shows the clients it is about to test against.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
sed -i 's/^log_level = debug$/log_level = debug\nclient_timeout = 3s\nmax_clients = 4/' shmb.conf
start_service shmb.conf

raw_hostile slow "$pipe" >slow.out &
slow_pid=$!
wait_for 10 connected slow.out || fail "the slow client did not connect: $(cat slow.out)"
wait_status clients 2 5   # the slow client and this status request
expect_exit 0 ctl list
pass "a trickling client does not hold up others"
wait "$slow_pid" || fail "hostile slow failed: $(cat slow.out)"
[ "$(last_line slow.out)" = "closed after 3 bytes" ] || fail "slow client: $(last_line slow.out), expected closed after 3 bytes"
pass "a client sending one byte per second is closed after client_timeout (3 s, 3 bytes)"

idlers=()
for i in 1 2 3 4; do raw_hostile idle "$pipe" 2500 >idle$i.out & idlers+=($!); done
wait_for 10 connected idle1.out idle2.out idle3.out idle4.out \
    || fail "the idle clients did not all connect: $(cat idle*.out)"
expect_exit 5 ctl list
grep -q "busy" last.err || fail "over max_clients: $(cat last.err)"
pass "a fifth client is refused cleanly: $(cat last.err)"
for p in "${idlers[@]}"; do wait "$p" || fail "an idle client failed: $(cat idle*.out)"; done
expect_exit 0 ctl list
pass "and served once the others have left"

# Half a frame, then the client goes away, while the service holds it.
for i in 1 2 3; do
    # $! must be the client's pid, not a pipeline's or a function's
    # subshell's: run it directly.
    "${shmb_run[@]}" "$SHMB_BIN/hostile.exe" frame "$pipe" truncated >/dev/null &
    victim=$!
    wait_status clients 2 5
    kill -KILL "$victim" 2>/dev/null || true
    wait "$victim" 2>/dev/null || true
done
wait_status clients 1 5
expect_exit 0 ctl list
pass "clients killed in the middle of a request cost nothing"

refused=$(status_value clients_refused) || fail "status: no clients_refused"
timeouts=$(status_value timeouts) || fail "status: no timeouts"
protocol_errors=$(status_value protocol_errors) || fail "status: no protocol_errors"
clients=$(status_value clients) || fail "status: no clients"
[ "$refused" = 1 ] || fail "clients_refused=$refused, expected 1"
[ "$timeouts" = 1 ] || fail "timeouts=$timeouts, expected 1 (the slow client)"
[ "$protocol_errors" = 0 ] || fail "protocol_errors=$protocol_errors, expected 0"
[ "$clients" = 1 ] || fail "clients=$clients (only the status client should be left)"
pass "counted: 1 client refused, 1 timeout, 0 protocol errors, no connection left behind"
kill -0 "$svc_pid" || fail "the service died"
