#!/usr/bin/env bash
# The config file grants access, so the service refuses to start, and a
# reload refuses, when anyone but SYSTEM, Administrators or the service's
# account can write it or its folder, and says which account could; the
# development switch --insecure-config (console mode only) skips the check,
# loudly. Under Wine a file's DACL follows its Unix mode bits, so "Everyone
# may write" is made with SetNamedSecurityInfo (shmbtest setsddl) and shows
# up as world-writable.
. "$(dirname "$0")/lib.sh"
mkdir conf
standard_config conf/shmb.conf
start_service conf/shmb.conf
pass "a config that only its owner can write is trusted"

[ "$(shmbtest setsddl conf/shmb.conf "D:P(A;;FA;;;WD)")" = ok ] || fail "setsddl"
expect_exit 1 ctl reload
grep -q "shmb.conf can be written by .*S-1-1-0" last.err || fail "reload said: $(cat last.err)"
expect_exit 0 ctl list
grep -q "^readonly" last.txt || fail "the service stopped serving"
pass "a config writable by Everyone makes a reload fail, naming Everyone (S-1-1-0)"
stop_service

run_service_expecting 1 --console --config conf/shmb.conf
grep -q "shmb.conf can be written by .*S-1-1-0" out.log || fail "start said: $(cat out.log)"
pass "and makes the start fail"

run_service_expecting 2 --config conf/shmb.conf --insecure-config
start_service conf/shmb.conf --insecure-config
grep -q "insecure-config: NOT checking who may write" service.log || fail "no loud warning"
stop_service
pass "--insecure-config (console only) starts anyway, with a warning"

# Descriptors, not mode bits, so that the same steps hold on Windows (where
# MSYS2's chmod does not touch ACLs): the file writable by its owner only
# again, the folder by Everyone.
[ "$(shmbtest setsddl conf/shmb.conf "D:P(A;;FA;;;$SHMBROKER_SERVER_SID)(A;;FR;;;WD)")" = ok ] || fail "setsddl on the file"
[ "$(shmbtest setsddl conf "D:P(A;;FA;;;WD)")" = ok ] || fail "setsddl on the folder"
run_service_expecting 1 --console --config conf/shmb.conf
# The folder's own message ("conf can be written by"), not the file's
# ("conf/shmb.conf can be written by"; only its owner may write it here).
grep -Eq '(^|[^.[:alnum:]])conf can be written by .*S-1-1-0' out.log || fail "folder check said: $(cat out.log)"
grep -q "shmb.conf can be written by" out.log && fail "the file, not the folder, was refused: $(cat out.log)"
pass "a folder writable by Everyone is refused too"
[ "$(shmbtest setsddl conf "D:P(A;;FA;;;$SHMBROKER_SERVER_SID)(A;;FR;;;WD)")" = ok ] || fail "setsddl on the folder, back"

# Every folder up to the volume root, not only the parent. Under C:\ (the
# prefix's drive_c): on Z:\ the Unix folders above the build tree decide,
# and Wine shows a world-writable one such as /tmp (sticky bit and all) as
# writable by Everyone. outer\conf\shmb.conf with the file and conf trusted
# and outer writable by Everyone (who could rename conf away and put their
# own in its place): refused, naming outer.
top_unix=$shmb_drive_c/shmb-trust-$$
top_win="C:\\shmb-trust-$$"
at_exit 'rm -rf "$top_unix"'
mkdir -p "$top_unix/outer/conf"
standard_config "$top_unix/outer/conf/shmb.conf"
deep_conf="$top_win\\outer\\conf\\shmb.conf"
start_service "$deep_conf"
stop_service
pass "a config under C:\\ whose every folder only the owner can write is trusted"
[ "$(shmbtest setsddl "$top_win\\outer" "D:P(A;;FA;;;WD)")" = ok ] || fail "setsddl on outer"
run_service_expecting 1 --console --config "$deep_conf"
grep -qF "$top_win\\outer can be written by" out.log || fail "the grand-parent check said: $(cat out.log)"
grep -q 'S-1-1-0' out.log || fail "the message does not name Everyone: $(cat out.log)"
grep -qF "outer\\conf can be written" out.log && fail "the parent, not the grand-parent, was refused: $(cat out.log)"
pass "a grand-parent folder writable by Everyone is refused, naming it, with the parent trusted"
[ "$(shmbtest setsddl "$top_win\\outer" "D:P(A;;FA;;;$SHMBROKER_SERVER_SID)(A;;FR;;;WD)")" = ok ] || fail "setsddl on outer, back"
start_service "$deep_conf"
pass "and served again once the grand-parent is trusted"
