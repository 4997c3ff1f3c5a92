#!/usr/bin/env bash
# Many clients at once: 16 processes write distinct slices of one section
# concurrently, then each slice reads back intact; the service stays up.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf

pids=()
for i in $(seq 0 15); do
    head -c 1024 /dev/urandom >slice$i.bin
    ctl write readwrite --offset $((i * 1024)) <slice$i.bin >w$i.out 2>&1 &
    pids+=($!)
done
for i in $(seq 0 15); do
    wait "${pids[$i]}" || fail "writer $i failed: $(cat w$i.out)"
done
for i in $(seq 0 15); do
    expect_exit 0 ctl read readwrite --offset $((i * 1024)) --length 1024
    cmp -s last.out slice$i.bin || fail "slice $i differs"
done
pass "16 concurrent writers, every slice read back intact"

granted=$(status_value opens_granted)
[ "$granted" = 32 ] || fail "opens_granted=$granted, expected 32"
pass "32 opens granted"
