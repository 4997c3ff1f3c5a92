#!/usr/bin/env bash
# Revocation (issue 11): Windows checks access when a handle is opened, so a
# reload that takes write access away leaves the holder's views writing.
# With on_revoke = rotate the service moves the section to a fresh object:
# new opens get the new name and the bytes as they were; the old object is
# closed to new opens (the kernel refuses it by name); and what a holder of
# the old view writes afterwards is seen by nobody. Without it (the default,
# keep) the descriptor changes in place and the holder's writes are shared.
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID

config() { # config GRANT: rot with on_revoke = rotate, keep without
    write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_level = debug

[section rot]
size = 4KiB
$1 = $me
on_revoke = rotate

[section keep]
size = 4KiB
$1 = $me
EOF2
}
object_of() { sed -n 's/^object=//p' <<<"$(ctl_text info "$1")"; }
raw_shmbtest() { "${shmb_run[@]}" "$SHMB_BIN/shmbtest.exe" "$@"; }

config write
start_service shmb.conf
for s in rot keep; do printf before | expect_exit 0 ctl write "$s"; done
old_rot=$(object_of rot)
old_keep=$(object_of keep)
[ -n "$old_rot" ] && [ -n "$old_keep" ] || fail "no object names: '$old_rot' '$old_keep'"
raw_shmbtest holdwrite "$pipe" rot release-rot after-rot >hold-rot.out &
h1=$!
raw_shmbtest holdwrite "$pipe" keep release-keep after-keep >hold-keep.out &
h2=$!
wait_for 10 grep -q '^mapped' hold-rot.out || fail "the rot holder did not map: $(cat hold-rot.out)"
wait_for 10 grep -q '^mapped' hold-keep.out || fail "the keep holder did not map: $(cat hold-keep.out)"

config read
expect_exit 0 ctl reload
grep -q "2 re-permissioned" last.txt || fail "reload: $(cat last.txt)"
grep -q "1 rotated (on_revoke)" last.txt || fail "reload did not rotate: $(cat last.txt)"
new_rot=$(object_of rot)
[ "$new_rot" != "$old_rot" ] || fail "rot still hands out $old_rot"
[ "$(object_of keep)" = "$old_keep" ] || fail "keep changed its object"
expect_exit 0 ctl read rot --length 6
[ "$(cat last.out)" = before ] || fail "the rotated section holds '$(cat last.out)', expected the bytes carried over"
pass "a narrowing reload rotates rot to $new_rot with its bytes; keep stays $old_keep"

out=$(shmbtest map "$old_rot" read) || fail "shmbtest map failed: $out"
[ "$out" = "error 5" ] || fail "the old object still opens by name: $out"
pass "the old object is closed to new opens (the kernel says access denied)"

touch release-rot release-keep
wait "$h1" || fail "the rot holder failed: $(cat hold-rot.out)"
wait "$h2" || fail "the keep holder failed: $(cat hold-keep.out)"
[ "$(tail -n1 hold-rot.out | tr -d '\r')" = after-rot ] || fail "rot holder: $(cat hold-rot.out)"
expect_exit 0 ctl read rot --length 6
[ "$(cat last.out)" = before ] || fail "a write through the old view reached the new object: '$(cat last.out)'"
expect_exit 0 ctl read keep --length 10
[ "$(cat last.out)" = after-keep ] || fail "keep: '$(cat last.out)' (the documented limit: old handles keep writing)"
pass "the revoked holder's write stays private with rotate, and is shared without it (keep)"

printf x | expect_exit 3 ctl write rot
pass "the new grant is in force: writing rot is refused"
