#!/usr/bin/env bash
# A second shmbrokerd on the same pipe name refuses to start (non-zero exit,
# a message naming the pipe) and the first keeps serving.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf

run_service_expecting 3 --console --config shmb.conf
grep -qF "pipe $pipe already exists" out.log || fail "message does not name the pipe: $(cat out.log)"
pass "the second instance exits 3 naming $pipe"

expect_exit 0 ctl list
grep -q "^readonly" last.txt || fail "list: $(cat last.txt)"
pass "the first instance still serves"
