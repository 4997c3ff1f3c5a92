#!/usr/bin/env bash
# log_file (issue 11): at debug it holds SIDs, pids and object names, so a
# new one is created with the service's own descriptor (the service,
# SYSTEM and Administrators; nobody else, not even to read), and an existing
# one that others can write is refused, left untouched, and the refusal
# says why; the service keeps running and logging elsewhere.
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID
logf=$(winpath "$work/shmb.log")
standard_config shmb.conf
sed -i "s/^log_level = debug\$/log_level = debug\nlog_file = ${logf//\\/\\\\}/" shmb.conf

start_service shmb.conf
wait_for 10 test -s "$work/shmb.log" || fail "nothing was logged to $logf"
sddl=$(shmbtest getsddl "$logf") || fail "shmbtest getsddl failed: $sddl"
# Wine keeps a file's DACL as Unix mode bits, so it shows the owner and
# SYSTEM and whether others get anything; the protected flag and the
# Administrators entry (D:P...(A;;FA;;;BA)) only real Windows can show
# (docs/reliability.md).
for want in "(A;;FA;;;$me)" "(A;;FA;;;SY)"; do
    grep -qF -- "$want" <<<"$sddl" || fail "log_file descriptor lacks $want: $sddl"
done
if grep -qE ";;;(WD|AU|BU|IU)\)" <<<"$sddl"; then fail "log_file is open to others: $sddl"; fi
stop_service
pass "a new log_file gets the service's descriptor: $sddl"

rm -f "$work/shmb.log" "$work/service.log"
printf 'planted\r\n' >"$work/shmb.log"
out=$(shmbtest setsddl "$logf" "D:P(A;;FA;;;WD)(A;;FA;;;$me)") || fail "shmbtest setsddl failed: $out"
start_service shmb.conf
log_has "$work/service.log" "not logging to log_file $logf" || fail "no refusal of the planted log_file"
log_has "$work/service.log" "can be written by" || fail "the refusal does not say who can write it"
expect_exit 0 ctl list
[ "$(tr -d '\r' <"$work/shmb.log")" = planted ] || fail "the planted log_file was written to: $(cat "$work/shmb.log")"
pass "a log_file others can write is refused, left untouched, and the service serves on"
stop_service

# The folders on the way count too (every folder up to the root): a log
# folder writable by Everyone is refused before any file is made in it.
mkdir -p "$work/logs"
logd=$(winpath "$work/logs")
sed -i "s|^log_file = .*|log_file = ${logd//\\/\\\\}\\\\shmb.log|" shmb.conf
out=$(shmbtest setsddl "$logd" "D:P(A;;FA;;;WD)(A;;FA;;;$me)") || fail "shmbtest setsddl failed: $out"
start_service shmb.conf
log_has "$work/service.log" "not logging to log_file $logd\\shmb.log: $logd can be written by" || fail "no refusal naming the log folder: $(tr -d '\r' <"$work/service.log" | grep log_file)"
log_has "$work/service.log" "S-1-1-0" || fail "the refusal does not name Everyone"
[ ! -e "$work/logs/shmb.log" ] || fail "a log_file was created in a folder others can write"
expect_exit 0 ctl list
pass "a log_file whose folder others can write is refused, nothing created there, and the service serves on"
