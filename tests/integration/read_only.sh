#!/usr/bin/env bash
# A read-granted section: readable through the broker; writing it through
# the broker is refused (exit 3), and the kernel itself refuses
# OpenFileMappingW(FILE_MAP_WRITE) on the object name the broker handed out.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf

expect_exit 0 ctl info readonly
grep -qx "access=read" last.txt || fail "info access: $(cat last.txt)"
grep -qx "size=65536" last.txt || fail "info size: $(cat last.txt)"
object=$(sed -n 's/^object=//p' last.txt)
[[ "$object" =~ ^Local\\shmb-[0-9a-f]{32}$ ]] || fail "object name '$object'"
pass "info reports read access and a random object name"

expect_exit 0 ctl read readonly
[ "$(wc -c <last.out)" = 65536 ] || fail "read gave $(wc -c <last.out) bytes"
cmp -s last.out <(head -c 65536 /dev/zero) || fail "a new section is not zeroed"
pass "read returns the section's 65536 bytes"

echo data | expect_exit 3 ctl write readonly
grep -q "access denied" last.err || fail "write refusal says: $(cat last.err)"
pass "write through the broker is refused with exit 3"

[ "$(shmbtest map "$object" write)" = "error 5" ] || fail "kernel allowed FILE_MAP_WRITE"
[ "$(shmbtest map "$object" read)" = "ok" ] || fail "kernel refused FILE_MAP_READ"
pass "the kernel refuses FILE_MAP_WRITE (ERROR_ACCESS_DENIED) and allows FILE_MAP_READ"

grep -q "refused OPEN of section readonly for $SHMBROKER_SERVER_SID (pid [0-9]*): asked read,write" service.log \
    || fail "the refusal was not logged with SID and pid"
pass "the refusal is logged with the caller's SID and pid"
