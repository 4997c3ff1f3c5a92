#!/usr/bin/env bash
# A newcomer's first hour, client side (issue 13): every message says what
# to do next. shmbctl whoami prints the account and SID a console-mode
# service runs as; account names are taken wherever a server SID is; a bad
# one names the option or variable and the value; the refusal of a server
# that is not the expected account names both accounts and how to change
# the expectation; a bad section name says which character is wrong; an
# unreachable service is reported with the pipe and
# the time waited, within the timeout; and a mapping kept across a service
# restart is detected as stale by shmb_section_is_current and replaced
# (examples/reconnect.c), after which it shares data again.
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID

expect_exit 0 ctl whoami
grep -qx "sid=$me" last.txt || fail "whoami sid: $(cat last.txt)"
account=$(sed -n 's/^account=//p' last.txt)
[ -n "$account" ] || fail "whoami printed no account: $(cat last.txt)"
grep -q "SHMBROKER_SERVER_SID=$me" last.txt || fail "whoami does not say how to pass the SID: $(cat last.txt)"
grep -q -- "--server-sid $me" last.txt || fail "whoami does not mention --server-sid: $(cat last.txt)"
pass "whoami prints account '$account', its SID and how to expect it"

standard_config shmb.conf
start_service shmb.conf

SHMBROKER_SERVER_SID=$account expect_exit 0 ctl list
grep -q "^readonly " last.txt || fail "list with an account name in the variable: $(cat last.txt)"
SHMBROKER_SERVER_SID= expect_exit 0 ctl --server-sid "$account" list
pass "an account name is accepted in SHMBROKER_SERVER_SID and --server-sid"

bad='NOSUCHDOMAIN\nobody'
expect_exit 2 ctl --server-sid "$bad" list
grep -qF -- "--server-sid '$bad'" last.err || fail "bad --server-sid: $(cat last.err)"
SHMBROKER_SERVER_SID=nobody-here expect_exit 1 ctl list
grep -q "'nobody-here' (from the SHMBROKER_SERVER_SID environment variable)" last.err \
    || fail "bad SHMBROKER_SERVER_SID: $(cat last.err)"
pass "an unknown account names the option or variable and the value"

expect_exit 1 ctl info "readonly "
grep -qF "'readonly ' has ' ' (0x20) at position 9" last.err || fail "a trailing space: $(cat last.err)"
pass "a name with a trailing space is refused, naming the character and its position"

SHMBROKER_SERVER_SID=S-1-5-18 expect_exit 5 ctl list
msg=$(cat last.err)
for want in "not the expected account" "S-1-5-18" "belongs to $account ($me)" \
    "SHMBROKER_SERVER_SID=$me" "--server-sid $me" "served by process"; do
    grep -qF -- "$want" <<<"$msg" || fail "the refusal lacks '$want': $msg"
done
pass "a server of another account is refused, naming both accounts and the fix"

nopipe="\\\\.\\pipe\\shmbtest-nothere-$$"
start=$(date +%s%N)
expect_exit 5 ctl --pipe "$nopipe" --timeout 1500 list   # the last --pipe wins
took=$(( ($(date +%s%N) - start) / 1000000 ))
msg=$(cat last.err)
grep -qF "no pipe $nopipe after waiting 1." <<<"$msg" || fail "unreachable message: $msg"
grep -q "sc query shmbroker" <<<"$msg" || fail "no hint for service mode: $msg"
grep -q "shmbrokerd --console" <<<"$msg" || fail "no hint for console mode: $msg"
[ "$took" -lt 4500 ] || fail "a 1500 ms timeout took $took ms"
pass "unreachable: the pipe, the time waited and both hints, in $took ms for a 1500 ms timeout"

printf before | expect_exit 0 ctl write readwrite
"${shmb_run[@]}" "$SHMB_BIN/example_reconnect.exe" readwrite 120 250 "$pipe" >reconnect.log 2>&1 &
ex_pid=$!   # ends by itself after its rounds (at most about a minute) if a check fails
wait_for 20 grep -q "^text: before" reconnect.log || fail "reconnect did not show the text: $(cat reconnect.log)"
old=$(sed -n 's/^mapped //p' reconnect.log | tr -d '\r' | head -1)

kill_service   # a crash or a restart: either way a new object
start_service shmb.conf
wait_for 20 grep -q "^stale" reconnect.log || fail "the restart was not detected: $(cat reconnect.log)"
wait_for 10 test "$(grep -c '^mapped ' reconnect.log)" = 2 || fail "no new mapping: $(cat reconnect.log)"
new=$(sed -n 's/^mapped //p' reconnect.log | tr -d '\r' | tail -1)
[ "$new" != "$old" ] || fail "the new mapping is the old object $old"
expect_exit 0 ctl read readwrite --length 6
cmp -s last.out <(head -c 6 /dev/zero) || fail "a restart did not zero the pagefile section"
printf after | expect_exit 0 ctl write readwrite
wait_for 10 grep -q "^text: after" reconnect.log || fail "the reopened mapping does not see new data: $(cat reconnect.log)"
kill "$ex_pid" 2>/dev/null || true
wait "$ex_pid" 2>/dev/null || true
pass "a restart is detected (is_current 0), the section reopened ($old -> $new) and shared again"

# The service's side of the same hour: what it logs at start and what its
# refusals tell the client (through shmb_last_message, which shmbctl prints).
log_has "$work/service.log" "clients must be told to expect this account: set SHMBROKER_SERVER_SID=$me" \
    || fail "the service does not log the account clients must expect"
pass "the console service logs the SID a client must expect and how to pass it"

printf x | expect_exit 3 ctl write readonly
for want in "section 'readonly'" "asked read,write" "allowed read" "$me"; do
    grep -qF -- "$want" last.err || fail "the write refusal lacks '$want': $(cat last.err)"
done
pass "a refusal reaches the client with its reason: $(cat last.err)"

expect_exit 4 ctl info Readonly
grep -qF "case-sensitive); did you mean 'readonly'?" last.err || fail "near miss: $(cat last.err)"
expect_exit 4 ctl info readonyl
grep -qF "did you mean 'readonly'?" last.err || fail "near miss (typo): $(cat last.err)"
expect_exit 4 ctl info sysonl   # close to a section this account may not list
! grep -q "sysonly" last.err || fail "a suggestion named a section the caller may not list: $(cat last.err)"
pass "a near-miss name gets the closest listable name, never a hidden one"

log_has "$work/service.log" "map-read,map-write" || fail "the log does not print rights in words"
# SDDL (with letters such as CCLC) stays at debug; info lines use words.
if tr -d '\r' <"$work/service.log" | grep " info " | grep -q "CCLC\|CCDCLC"; then
    fail "an info line still prints SDDL rights letters"
fi
log_has "$work/service.log" "disconnected (" || fail "client disconnects are not logged at debug"
pass "the log prints rights in words and logs connects and disconnects"
