#!/usr/bin/env bash
# Console mode's lifecycle: a client that connects and never sends is hung
# up on after client_timeout and counted, without holding up others; Ctrl+C
# stops the service cleanly (exit 0) with a client still connected.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
sed -i 's/^log_level = debug$/log_level = debug\nclient_timeout = 1s/' shmb.conf
start_service shmb.conf

hostile idle "$pipe" 4000 >idle.out &
idle_pid=$!
sleep 0.3
expect_exit 0 ctl list
pass "another client is served while an idle one waits"
wait "$idle_pid" || fail "hostile idle failed"
[ "$(cat idle.out)" = closed ] || fail "the idle client was not hung up on: $(cat idle.out)"
[ "$(status_value timeouts)" = 1 ] || fail "timeouts=$(status_value timeouts)"
pass "an idle client is closed after client_timeout and counted"

hostile idle "$pipe" 5000 >/dev/null &
sleep 0.5
stop_service
[ "$svc_status" = 0 ] || fail "Ctrl+C: exit $svc_status"
grep -q "stopping: 1 client(s) connected" "$work/service.log" || fail "no stop line"
tr -d "\r" <"$work/service.log" | grep -q " stopped$" || fail "no stopped line"
pass "Ctrl+C stops the service cleanly (exit 0) with a client connected"
wait
