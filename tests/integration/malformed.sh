#!/usr/bin/env bash
# Malformed and oversized frames get their error reply and the connection
# is closed; a frame split into one-byte writes is served; the next client
# is served normally and the protocol errors are counted.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf

check_frame() {
    local kind=$1 want=$2 got
    got=$(shmbtest frame "$pipe" "$kind")
    [ "$got" = "$want" ] || fail "frame $kind: got '$got', expected '$want'"
    pass "frame $kind: $want"
}
check_frame garbage "SHMB_EPROTO closed"
check_frame oversize "SHMB_ETOOBIG closed"
check_frame badversion "SHMB_EVERSION closed"
check_frame unknownop "SHMB_EOPCODE closed"
check_frame badlength "SHMB_EPROTO closed"
check_frame badname "SHMB_EBADNAME closed"
check_frame split "ok open"

expect_exit 0 ctl list
grep -q "^readonly" last.txt || fail "list after bad frames: $(cat last.txt)"
pass "a well-behaved client is served after the bad ones"

errors=$(status_value protocol_errors)
[ "$errors" = 6 ] || fail "protocol_errors=$errors, expected 6"
pass "six protocol errors counted"
kill -0 "$svc_pid" || fail "the service died"
