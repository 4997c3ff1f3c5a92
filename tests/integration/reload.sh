#!/usr/bin/env bash
# Reload through the pipe (`shmbctl reload`): sections are added, removed
# and re-permissioned while a client keeps a mapping of a removed one (its
# view still reads the old bytes); a size change is refused for that section
# only; a file that does not parse changes nothing; the counters say what
# happened; a file-backed section is flushed at the reload (STATUS flushes
# goes from 0 to 1, the log says "flushed (reload)": it has no timer); and a
# caller who is not one of the service's admins is refused.
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID
filed=$(winpath "$work/filed.bin")

config_v1() {
    write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local

[section keep]
size = 4KiB
write = $me

[section filed]
size = 4KiB
backing = file:$filed
write = $me

[section gone]
size = 4KiB
write = $me

[section perm]
size = 4KiB
sddl = O:SYG:SYD:P(A;;GRGW;;;$me)

[section resize]
size = 4KiB
read = $me
EOF2
}

config_v2() {
    write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local
$1

[section keep]
size = 4KiB
write = $me

[section filed]
size = 4KiB
backing = file:$filed
write = $me

[section perm]
size = 4KiB
read = $me

[section resize]
size = 8KiB
read = $me

[section fresh]
size = 16KiB
read = $me
EOF2
}

config_v1
start_service shmb.conf
printf 'before-reload' | expect_exit 0 ctl write gone
printf 'perm-data' | expect_exit 0 ctl write perm
expect_exit 0 ctl info perm
perm_object=$(sed -n 's/^object=//p' last.txt)
rm -f release
at_exit 'touch "$work/release"'   # a failed test must not leave the holder waiting
# Straight to a file: a pipe through tr would hold "mapped" back.
"${shmb_run[@]}" "$SHMB_BIN/shmbtest.exe" hold "$pipe" gone release >hold.out &
holder=$!
wait_for 10 grep -q '^mapped' hold.out || fail "the holder did not map 'gone'"

flushes=$(status_value flushes) || fail "status: no flushes"
[ "$flushes" = 0 ] || fail "flushes=$flushes before the reload, expected 0 (no timer)"
config_v2 ""
expect_exit 0 ctl reload
grep -q "1 added, 1 removed, 1 re-permissioned, 1 refused" last.txt \
    || fail "reload summary: $(cat last.txt)"
pass "reload: 1 added, 1 removed, 1 re-permissioned, 1 refused"
flushes=$(status_value flushes) || fail "status: no flushes"
[ "$flushes" = 1 ] || fail "flushes=$flushes after the reload, expected 1 (the file-backed section)"
log_has service.log "section filed: flushed (reload)" || fail "no 'section filed: flushed (reload)' in the log"
pass "the reload flushed the file-backed section (flushes 0 -> 1, logged)"

expect_exit 0 ctl list
grep -q "^fresh .* 16384 read  *section$" last.txt || fail "fresh not listed: $(cat last.txt)"
grep -q "^gone" last.txt && fail "gone is still listed"
expect_exit 4 ctl info gone
pass "a new section is served and a removed one is not handed out (exit 4)"

touch release
wait "$holder" || fail "the holder failed"
[ "$(tail -n1 hold.out | tr -d '\r')" = before-reload ] || fail "holder read '$(cat hold.out)'"
pass "a mapping of the removed section still reads its old bytes"

echo x | expect_exit 3 ctl write perm
expect_exit 0 ctl read perm --length 9
[ "$(cat last.out)" = perm-data ] || fail "perm now holds '$(cat last.out)'"
[ "$(shmbtest map "$perm_object" write)" = "error 5" ] || fail "kernel still grants write on perm"
[ "$(shmbtest map "$perm_object" read)" = ok ] || fail "kernel refuses read on perm"
pass "read-write to read-only: the broker and the kernel refuse new write opens, data kept"

expect_exit 0 ctl info resize
grep -qx "size=4096" last.txt || fail "resize changed: $(cat last.txt)"
grep -q "section resize keeps its size 4096" service.log || fail "no warning about resize"
pass "a size change is refused for that section, logged, and the old one serves"

printf '[service]\npipe = %s\n[section broken\n' "$pipe" >shmb.conf
expect_exit 1 ctl reload
grep -q "shmb.conf:3: header must end with" last.err || fail "bad reload said: $(cat last.err)"
expect_exit 0 ctl list
grep -q "^fresh" last.txt || fail "the running config changed: $(cat last.txt)"
pass "a file that does not parse changes nothing, and says file:line"

[ "$(status_value reloads)" = 1 ] || fail "reloads=$(status_value reloads)"
[ "$(status_value reloads_failed)" = 1 ] || fail "reloads_failed=$(status_value reloads_failed)"
pass "status counts 1 reload and 1 refused reload"

config_v2 "admins = S-1-5-18"
expect_exit 0 ctl reload
expect_exit 3 ctl reload
grep -q "only the service's admins may reload" last.err || fail "message: $(cat last.err)"
grep -q "refused RELOAD for $me (pid [0-9]*)" service.log || fail "refusal not logged"
pass "with admins = S-1-5-18 the test account may no longer reload (exit 3, logged)"
