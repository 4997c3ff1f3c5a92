#!/usr/bin/env bash
# Console mode's lifecycle: a client that connects and never sends is hung
# up on after client_timeout and counted, without holding up others; Ctrl+C
# stops the service cleanly (exit 0) with a client still connected. Each
# step waits until STATUS shows the idle client before it acts.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
sed -i 's/^log_level = debug$/log_level = debug\nclient_timeout = 3s/' shmb.conf
start_service shmb.conf

raw_hostile idle "$pipe" 8000 >idle.out &
idle_pid=$!
wait_for 10 connected idle.out || fail "the idle client did not connect: $(cat idle.out)"
# STATUS served while the idle client is connected: it counts both.
wait_status clients 2 5
pass "another client is served while an idle one waits"
wait "$idle_pid" || fail "hostile idle failed: $(cat idle.out)"
[ "$(last_line idle.out)" = closed ] || fail "the idle client was not hung up on: $(cat idle.out)"
timeouts=$(status_value timeouts) || fail "status: no timeouts"
[ "$timeouts" = 1 ] || fail "timeouts=$timeouts, expected 1"
pass "an idle client is closed after client_timeout and counted"

# Ctrl+C with a client connected: a service of its own with a long
# client_timeout, so that the client is surely still there at the stop.
stop_service
sed -i 's/^client_timeout = 3s$/client_timeout = 60s/' shmb.conf
start_service shmb.conf
raw_hostile idle "$pipe" 30000 >idle2.out &
wait_for 10 connected idle2.out || fail "the second idle client did not connect: $(cat idle2.out)"
wait_status clients 2 5
# The status requests have left once the service's last count says 1.
last_count() { tr -d '\r' <"$svc_log" | sed -n 's/.*(\([0-9]*\) clients)$/\1/p' | tail -n1; }
one_client_left() { [ "$(last_count)" = 1 ]; }
wait_for 5 one_client_left || fail "the service still counts $(last_count) clients: $(cat "$svc_log")"
stop_service
tr -d '\r' <"$svc_log" | grep -Eq "stopping( \([^)]*\))?: 1 client\(s\) connected" \
    || fail "no 'stopping: 1 client(s) connected' line"
tr -d '\r' <"$svc_log" | grep -q " stopped$" || fail "no stopped line"
pass "Ctrl+C stops the service cleanly (exit 0) with a client connected"
wait || true
