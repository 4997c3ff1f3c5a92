#!/usr/bin/env bash
# Bytes one client process writes into a read-write section are read back
# by another; an input longer than the room left writes nothing at all.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf

head -c 4096 /dev/urandom >payload.bin
expect_exit 0 ctl write readwrite --offset 1000 <payload.bin
expect_exit 0 ctl read readwrite --offset 1000 --length 4096
cmp -s last.out payload.bin || fail "bytes read back differ from bytes written"
pass "4096 random bytes written by one process are read back by another"

expect_exit 0 ctl read readwrite --offset 0 --length 1000
cmp -s last.out <(head -c 1000 /dev/zero) || fail "bytes before the offset changed"
pass "bytes before the offset are untouched"

head -c 100 /dev/urandom | expect_exit 1 ctl write readwrite --offset $((1048576 - 50))
grep -q "nothing written" last.err || fail "overlong input message: $(cat last.err)"
expect_exit 0 ctl read readwrite --offset $((1048576 - 50)) --length 50
cmp -s last.out <(head -c 50 /dev/zero) || fail "an overlong input wrote something"
pass "an input past the end is refused and writes nothing"

expect_exit 1 ctl read readwrite --offset 1048570 --length 10
pass "a read past the end is refused"

expect_exit 0 ctl info readwrite
grep -qx "access=read,write" last.txt || fail "info access: $(cat last.txt)"
pass "info reports read,write"
