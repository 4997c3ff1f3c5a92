#!/usr/bin/env bash
# A server that lies (evil_server.exe) against shmbctl and an SDK caller:
# every lie is refused with its exit code and a message that says what was
# wrong, the refused open leaves no handle and no view behind, and no
# control byte from the server reaches the terminal. Pipe names that are
# not local are refused before any connection. The good case shows that
# the tool itself works, so each refusal is the SDK's doing.
. "$(dirname "$0")/lib.sh"

n=0
evil_pid=
at_exit '[ -z "$evil_pid" ] || { kill "$evil_pid"; wait "$evil_pid"; } 2>/dev/null'

# start_evil LIE [OWNER]: an evil_server on a pipe of its own (evil_pipe).
start_evil() {
    stop_evil
    n=$((n + 1))
    evil_pipe="$pipe-$n"
    evil_out="$work/evil-$1.out"
    start_ready evil_pid "$evil_out" listening 20 "$SHMB_BIN/evil_server.exe" serve "$evil_pipe" "$@" \
        || fail "evil_server $* did not start${ready_status:+ (exit $ready_status)}: $(cat "$evil_out")"
}

stop_evil() {
    [ -n "$evil_pid" ] || return 0
    kill "$evil_pid" 2>/dev/null || true
    wait "$evil_pid" 2>/dev/null || true
    evil_pid=
}

evil_ctl() { win "$SHMB_BIN/shmbctl.exe" --pipe "$evil_pipe" "$@"; }

# The SDK caller: shmb_open through the lying server; its report in
# sdk.txt.
sdk_open() {
    win "$SHMB_BIN/evil_server.exe" open "$evil_pipe" evil "${1:-read}" | tr -d '\r' >"$work/sdk.txt" ||
        fail "evil_server open failed: $(cat "$work/sdk.txt")"
}

# sdk_refused CODE TEXT [HANDLES]: the SDK caller got CODE with TEXT in its
# message, and the refused open left no mapped view and HANDLES (default 0)
# more handles than before it: none opened (-1 when it dropped the
# connection).
sdk_refused() {
    sdk_open
    grep -qx "rc=$1" "$work/sdk.txt" || fail "SDK caller under lie $lie: $(cat "$work/sdk.txt"), expected rc=$1"
    grep -qF -- "$2" "$work/sdk.txt" || fail "SDK caller under lie $lie: message lacks '$2': $(cat "$work/sdk.txt")"
    grep -qx "handles_delta=${3:-0}" "$work/sdk.txt" || fail "lie $lie: the refused open left handles open: $(cat "$work/sdk.txt"), expected handles_delta=${3:-0}"
    grep -qx "mapped_delta=0" "$work/sdk.txt" || fail "lie $lie: the refused open left a view mapped: $(cat "$work/sdk.txt")"
}

# no_raw_controls FILE...: no control byte but the line ends.
no_raw_controls() {
    local f
    for f in "$@"; do
        if LC_ALL=C grep -qP '[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]|\r(?!$)' "$f"; then
            fail "raw control bytes from the server in $(basename "$f"): $(od -c "$f" | head -20)"
        fi
    done
}

# refused LIE CODE EXIT TEXT [HANDLES]: shmbctl read (exit EXIT) and the
# SDK caller (CODE) both refuse LIE, saying TEXT (sdk_refused for HANDLES).
refused() {
    lie=$1
    start_evil "$lie"
    local got=0
    evil_ctl read evil 2>last.err >last.out || got=$?
    [ "$got" = "$3" ] || fail "lie $lie: shmbctl read exited $got, expected $3; stderr: $(cat last.err); stdout: $(head -c 40 last.out | tr -c '[:print:]' .)"
    grep -qF -- "$4" last.err || fail "shmbctl read under lie $lie: message lacks '$4': $(cat last.err)"
    [ ! -s last.out ] || fail "shmbctl read under lie $lie printed data: $(head -c 100 last.out)"
    no_raw_controls last.err
    sdk_refused "$2" "$4" "${5:-0}"
    pass "lie $lie: refused ($2, shmbctl exit $3): $(sed -n 's/^message=//p' "$work/sdk.txt" | cut -c1-160)"
}

# The control: the same tool without a lie is served, so a refusal below
# is the SDK's check, not a broken tool.
lie=good
start_evil good
info=$(evil_ctl info evil | tr -d '\r') || fail "shmbctl info against the honest evil_server failed"
grep -q '^object=Local\\shmb-[0-9a-f]\{32\}$' <<<"$info" || fail "info: $info"
expect_exit 0 evil_ctl read evil
head -c 11 last.out | grep -q "evil bytes" || fail "read: $(head -c 40 last.out | od -c)"
sdk_open
grep -qx "rc=SHMB_OK" "$work/sdk.txt" && grep -qx "size=4096" "$work/sdk.txt" &&
    grep -qx "data=evil bytes" "$work/sdk.txt" ||
    fail "SDK caller against the honest server: $(cat "$work/sdk.txt")"
pass "an honest reply from the same tool is served: shmbctl read and shmb_open map its section"

# Object names that are not the service's: refused before any open.
refused ns-session SHMB_EBADSERVER 5 "a Session\\ name reaches into another logon session's namespace"
refused ns-other SHMB_EBADSERVER 5 "its namespace 'BaseNamedObjects' is neither Global nor Local"
refused dotdot SHMB_EBADSERVER 5 "'..' at position 8: a path out of the namespace"
refused backslash SHMB_EBADSERVER 5 "a backslash at position 28: a path into another directory"
refused overlong SHMB_EBADSERVER 5 "it goes on after the 32 hex digits, from position 44 (over-long: 211 bytes; the service's names have at most 44)"
refused uppercase SHMB_EBADSERVER 5 "where a lowercase hex digit belongs"
refused short SHMB_EBADSERVER 5 "only 31 hex digits where 32 belong"
refused prefix SHMB_EBADSERVER 5 "no 'shmb-' after the namespace"
grep -q "refused before opening anything" last.err || fail "message: $(cat last.err)"

# An object under a valid name that someone else owns.
refused owner SHMB_EBADSERVER 5 "(S-1-5-18), not by the server account"
refused owner-hidden SHMB_EBADSERVER 5 "does not let this account read its owner (READ_CONTROL)"

# Sizes that are not the section's, access that was not asked for.
refused size-large SHMB_EBADSERVER 5 "says the section has 1048576 bytes, but the section it named maps only 4096"
refused size-small SHMB_EBADSERVER 5 "says the section has 4096 bytes, but the section it named maps 65536"
refused access-extra SHMB_EBADSERVER 5 "granted read,write access where read was asked for"
refused access-unknown SHMB_EBADSERVER 5 "granted access 0x5, with bits this SDK does not know (0x4)"

# A reply to an older request.
refused stale-id SHMB_EPROTO 1 "the reply carries request id 1, not 2 (the id of the request sent)" -1
grep -qF "the connection is dropped" last.err || fail "stale-id: $(cat last.err)"
expect_exit 1 evil_ctl status
grep -qF "the reply carries request id 1, not 2" last.err || fail "status under stale-id: $(cat last.err)"
pass "lie stale-id: STATUS refused too"
refused stale-error SHMB_EPROTO 1 "the reply carries request id 1, not 2 (the id of the request sent)" -1

# A LIST entry with access bits nobody knows.
lie=list-access
start_evil list-access
expect_exit 1 evil_ctl list
grep -qF "the server's LIST reply is malformed at entry 1" last.err || fail "list: $(cat last.err)"
expect_exit 1 evil_ctl info evil
pass "lie list-access: LIST refused (shmbctl exit 1)"

# Terminal controls in the server's words: escaped wherever shmbctl
# prints them, and in shmb_last_message.
lie=text
start_evil text
expect_exit 3 evil_ctl read evil
grep -qF 'denied\x1b[2J\x1b]0;pwned\x07\x0dFAKE: access granted' last.err || fail "lie text: shmbctl read did not print the server's refusal escaped: $(od -c last.err | head)"
no_raw_controls last.err last.out
expect_exit 0 evil_ctl status
grep -qF 'uptime_ms=denied\x1b[2J\x1b]0;pwned\x07\x0dFAKE' last.txt || fail "lie text: shmbctl status did not print the server's value escaped: $(od -c last.out | head)"
no_raw_controls last.err last.out
expect_exit 0 evil_ctl reload
grep -qF 'denied\x1b[2J' last.txt || fail "lie text: shmbctl reload did not print the server's message escaped: $(od -c last.out | head)"
no_raw_controls last.err last.out
sdk_open
grep -qF 'message=denied\x1b[2J\x1b]0;pwned\x07\x0dFAKE' "$work/sdk.txt" || fail "lie text: shmb_last_message is not escaped: $(od -c "$work/sdk.txt" | head)"
no_raw_controls "$work/sdk.txt"
pass "lie text: ESC, BEL and CR from the server are printed as \\x1b, \\x07, \\x0d by shmbctl read, status and reload, and by shmb_last_message"

# An answer that comes after the SDK gave up: a service that delivers a
# handle with an OPEN reply the client timed out on (issue 12's review).
# The SDK reads that answer before its next request, or when it
# disconnects, and closes the handle it names; the next request gets its
# own answer.
lie=late-handle
start_evil late-handle
win "$SHMB_BIN/evil_server.exe" late "$evil_pipe" evil | tr -d '\r' >"$work/late.txt" ||
    fail "evil_server late failed: $(cat "$work/late.txt")"
stop_evil
grep -qx "next: open=SHMB_ETIMEDOUT status=SHMB_OK handles_delta=0" "$work/late.txt" ||
    fail "a late answer read by the next request: $(cat "$work/late.txt") (handles_delta=1: the delivered handle stayed)"
grep -qx "disconnect: open=SHMB_ETIMEDOUT handles_delta=0" "$work/late.txt" ||
    fail "a late answer read at disconnect: $(cat "$work/late.txt") (handles_delta=1: the delivered handle stayed)"
grep -qF "message=no answer from the service within 1000 ms; the answer is still read" "$work/late.txt" ||
    fail "the timeout's message: $(cat "$work/late.txt")"
[ "$(tr -d '\r' <"$evil_out" | grep -c "(delivered 0x")" = 2 ] ||
    fail "the late server did not deliver twice: $(cat "$evil_out")"
grep -q "received HELLO OPEN (delivered 0x[0-9a-f]* into pid [0-9]*) STATUS" <(tr -d '\r' <"$evil_out") ||
    fail "the next request was not STATUS after the late OPEN: $(cat "$evil_out")"
pass "an OPEN answered by handle after the SDK timed out: the handle is closed when the next request (STATUS, answered in step) or shmb_disconnect reads the late answer; the caller's handles do not grow"

# The same for a doorbell by handle: a waiter's DOORBELL times out, and
# the SDK, dropping that connection, reads the late answer and closes the
# counter page, event and armed page it names.
lie=late-bell
start_evil late-bell
win "$SHMB_BIN/evil_server.exe" latebell "$evil_pipe" evil | tr -d '\r' >"$work/latebell.txt" ||
    fail "evil_server latebell failed: $(cat "$work/latebell.txt")"
stop_evil
grep -qx "wait=SHMB_ETIMEDOUT handles_delta=0" "$work/latebell.txt" ||
    fail "a late DOORBELL answer by handle: $(cat "$work/latebell.txt") (handles_delta=3: the delivered handles stayed)"
grep -q "received HELLO DOORBELL (bell 0x[0-9a-f]* 0x[0-9a-f]* 0x[0-9a-f]* into pid [0-9]*)" <(tr -d '\r' <"$evil_out") ||
    fail "the late server did not deliver the doorbell's handles: $(cat "$evil_out")"
pass "a DOORBELL answered by handle after the SDK timed out: the three handles are closed as the SDK drops that connection"

# The pipe's owner is the expected account, but the process serving it
# runs as another: refused before anything is sent.
lie=process
start_evil good SY
expect_exit 5 evil_ctl --server-sid S-1-5-18 list
grep -qF "(S-1-5-18) (from shmb_connect_options.server_sid, or shmbctl's --server-sid), but is served by process" last.err ||
    fail "message: $(cat last.err)"
grep -qF "running as" last.err || fail "message: $(cat last.err)"
stop_evil
tr -d '\r' <"$evil_out" | grep -qx "connection 1: received" || fail "the impostor process got: $(cat "$evil_out")"
pass "a pipe owned by the expected account but served by a process of another is refused, and got 0 bytes"

# Pipe names that are not local: refused before any connection, by
# shmbctl (usage, exit 2) and by shmb_connect (SHMB_EINVAL).
bad_pipe() {
    expect_exit 2 win "$SHMB_BIN/shmbctl.exe" --pipe "$1" list
    grep -qF -- "$2" last.err || fail "--pipe $1: $(cat last.err)"
    win "$SHMB_BIN/evil_server.exe" open "$1" evil read | tr -d '\r' >"$work/sdk.txt" || true
    grep -qx "rc=SHMB_EINVAL" "$work/sdk.txt" || fail "shmb_connect to $1: $(cat "$work/sdk.txt")"
    grep -qF -- "$2" "$work/sdk.txt" || fail "shmb_connect to $1: $(cat "$work/sdk.txt")"
}
bad_pipe '\\evilhost\pipe\shmbroker' "it names a pipe on another host, which would get this account's credentials"
bad_pipe '//evilhost/pipe/shmbroker' 'it names a pipe on another host'
bad_pipe '\\?\pipe\shmbroker' 'a \\?\ path is passed to the object manager as it is'
bad_pipe '\\.\pipe\..\UNC\evilhost\pipe\shmbroker' "a '..' component at position 10"
bad_pipe '\\.\UNC\evilhost\pipe\shmbroker' 'a \\.\ name other than \\.\pipe\ is another device'
bad_pipe '\\.\pipe\a/../../UNC/evilhost' "'/' at position 11"
bad_pipe 'shmbroker' 'it does not start with \\.\pipe\'
pass "remote, \\\\?\\, '..', '/' and other pipe names: shmbctl exit 2 and SHMB_EINVAL, before any connection"
