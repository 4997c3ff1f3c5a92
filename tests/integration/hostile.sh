#!/usr/bin/env bash
# Hostile connections against the real service: a client trickling one byte
# per second is closed after client_timeout without holding up others; more
# clients than max_clients are refused cleanly (SHMB_EBUSY, exit 5) and
# served again once others leave; clients that disconnect or are killed in
# the middle of a request cost nothing. Counters account for each case.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
sed -i 's/^log_level = debug$/log_level = debug\nclient_timeout = 3s\nmax_clients = 4/' shmb.conf
start_service shmb.conf

hostile slow "$pipe" >slow.out &
slow_pid=$!
sleep 1
expect_exit 0 ctl list
pass "a trickling client does not hold up others"
wait "$slow_pid"
grep -Eq "^closed after [1-4] bytes$" slow.out || fail "slow client: $(cat slow.out)"
pass "a client sending one byte per second is closed after client_timeout ($(cat slow.out))"

idlers=()
for i in 1 2 3 4; do hostile idle "$pipe" 2500 >idle$i.out & idlers+=($!); done
sleep 1
expect_exit 5 ctl list
grep -q "busy" last.err || fail "over max_clients: $(cat last.err)"
pass "a fifth client is refused cleanly: $(cat last.err)"
wait "${idlers[@]}"
expect_exit 0 ctl list
pass "and served once the others have left"

# Half a frame, then the client goes away.
for i in 1 2 3; do
    # Not through hostile(): $! of a pipeline would be tr, not the client.
    wine "$SHMB_BIN/hostile.exe" frame "$pipe" truncated >/dev/null &
    victim=$!
    sleep 0.3
    kill -KILL "$victim" 2>/dev/null || true
    wait "$victim" 2>/dev/null || true
done
expect_exit 0 ctl list
pass "clients killed in the middle of a request cost nothing"

[ "$(status_value clients_refused)" = 1 ] || fail "clients_refused=$(status_value clients_refused)"
timeouts=$(status_value timeouts)
[ "$timeouts" -ge 1 ] || fail "timeouts=$timeouts"
[ "$(status_value clients)" = 1 ] || fail "clients=$(status_value clients) (only the status client should be left)"
pass "counted: 1 client refused, $timeouts timeout(s), no connection left behind"
kill -0 "$svc_pid" || fail "the service died"
