#!/usr/bin/env bash
# Hostile frames, one connection each: every malformed or oversized frame
# gets its error reply and the connection is closed; a truncated frame is
# closed after client_timeout; a frame split into one-byte writes, a reused
# request id and a name at the length limit are served; names past the
# limit, non-ASCII or with a NUL are refused. Then a well-behaved client is
# served and the counters account for all of it.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
sed -i 's/^log_level = debug$/log_level = debug\nclient_timeout = 4s/' shmb.conf
start_service shmb.conf

check_frame() {
    local kind=$1 want=$2 got
    got=$(hostile frame "$pipe" "$kind") || fail "frame $kind: hostile.exe failed: '$got'"
    [ "$got" = "$want" ] || fail "frame $kind: got '$got', expected '$want'"
    pass "frame $kind: $want"
}
check_frame garbage "SHMB_EPROTO(id 0) closed"
check_frame badmagic "SHMB_EPROTO(id 0) closed"
check_frame oversize "SHMB_ETOOBIG(id 7) closed"
check_frame badversion "SHMB_EVERSION(id 7) closed"
check_frame unknownop "SHMB_EOPCODE(id 7) closed"
check_frame badlength "SHMB_EPROTO(id 7) closed"
check_frame badname "SHMB_EBADNAME(id 7) closed"
check_frame name65 "SHMB_EBADNAME(id 7) closed"
check_frame nonascii "SHMB_EBADNAME(id 7) closed"
check_frame nul "SHMB_EBADNAME(id 7) closed"
check_frame name64 "SHMB_ENOENT(id 7) open"
check_frame split "ok(id 7) open"
check_frame reuseid "ok(id 7) ok(id 7) open"
check_frame truncated "closed"

expect_exit 0 ctl list
grep -q "^readonly" last.txt || fail "list after bad frames: $(cat last.txt)"
pass "a well-behaved client is served after the bad ones"

protocol_errors=$(status_value protocol_errors) || fail "status: no protocol_errors"
timeouts=$(status_value timeouts) || fail "status: no timeouts"
refused=$(status_value opens_refused) || fail "status: no opens_refused"
[ "$protocol_errors" = 10 ] || fail "protocol_errors=$protocol_errors, expected 10"
[ "$timeouts" = 1 ] || fail "timeouts=$timeouts, expected 1"
[ "$refused" = 1 ] || fail "opens_refused=$refused, expected 1"
pass "counted: 10 protocol errors, 1 timeout, 1 refused open"
kill -0 "$svc_pid" || fail "the service died"
