#!/usr/bin/env bash
# sandbox_launch (tests/windows-only/sandbox_launch.c), what Wine can show
# of it. Found by experiment on Wine 8.0: SetTokenInformation(
# TokenIntegrityLevel) answers success and changes nothing (Wine logs
# "NtSetInformationToken TokenIntegrityLevel stub!"), so a child started
# with CreateProcessAsUserW reads back the parent's level (S-1-16-12288);
# userenv.dll has no CreateAppContainerProfile. So here:
#   - the launcher fails closed: a child whose token is not low is ended
#     before it runs (exit 126, its real level on stderr), and the bytes it
#     was to write never reach the section;
#   - with --allow-unenforced the same child runs through the duplicated
#     token with the launcher's stdin and stdout, the exit code comes back,
#     and the broker serves it: it writes and reads a section by name and
#     one delivered by handle (the handle goes into the launched process,
#     the one behind the pipe, not the launcher), is refused a write on a
#     read-only grant (exit 3) and any access to an ungranted section;
#   - arguments with spaces, quotes and backslashes reach the child intact;
#   - appcontainer mode refuses clearly (exit 125) when the system cannot
#     make AppContainers, and runs nothing.
# Only real Windows shows that the child really runs at low integrity or
# in an AppContainer and that the kernel then holds it to its grant (no
# write up to a section without integrity = low, no Local\ names from an
# AppContainer): tests/windows-only/sandboxed.sh. Where the launcher does
# get a low child (this script run on Windows), the first check takes the
# enforced branch instead.
. "$(dirname "$0")/lib.sh"

launch() { win "$SHMB_BIN/sandbox_launch.exe" "$@"; }
# lctl ARGS...: shmbctl ARGS through the launcher, run even unenforced.
lctl() {
    launch low --allow-unenforced -- "$(winpath "$SHMB_BIN/shmbctl.exe")" \
        --pipe "$pipe" "$@"
}

write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_level = debug
allow_sandboxed = yes

[section lowrw]
size = 4KiB
write = $SHMBROKER_SERVER_SID
integrity = low

[section lowhandle]
size = 4KiB
write = $SHMBROKER_SERVER_SID
integrity = low
delivery = handle

[section readable]
size = 4KiB
read = $SHMBROKER_SERVER_SID
integrity = low

[section sysonly]
size = 4KiB
sddl = D:P(A;;GA;;;SY)
integrity = low
EOF2
start_service shmb.conf

# bytes_of NAME N: the first N bytes of a section, read at this level.
bytes_of() { ctl read "$1" --length "$2" | tr -d '\0'; }

# 1. Fail closed, or (where the system applies the level) run low.
rc=0
printf 'must-not-land' | launch low -- "$(winpath "$SHMB_BIN/shmbctl.exe")" \
    --pipe "$pipe" write lowrw >launch.out 2>launch.err || rc=$?
level=$(tr -d '\r' <launch.err | sed -n 's/^sandbox_launch: child [0-9]*: integrity \(S-1-16-[0-9]*\).*/\1/p')
[ -n "$level" ] || fail "the launcher did not report the child's integrity: $(cat launch.err)"
if [ "$level" = S-1-16-4096 ]; then
    [ "$rc" = 0 ] || fail "a low child could not write lowrw (exit $rc): $(cat launch.err)"
    [ "$(bytes_of lowrw 13)" = must-not-land ] || fail "the low child's bytes are not in lowrw"
    pass "the child ran at low integrity ($level) and wrote an integrity = low section"
else
    [ "$rc" = 126 ] || fail "a child at $level was not ended as unsandboxed: exit $rc, expected 126: $(cat launch.err)"
    grep -qF "not at low integrity as asked" launch.err ||
        fail "no reason for ending the child: $(cat launch.err)"
    [ -z "$(bytes_of lowrw 13)" ] || fail "the child that was ended wrote to lowrw anyway"
    pass "this system left the child at $level: the launcher ended it before it ran (exit 126), nothing was written"
fi

# 2. --allow-unenforced: the token, the standard handles and the exit code.
printf 'launched-bytes' | expect_exit 0 lctl write lowrw
[ "$(bytes_of lowrw 14)" = launched-bytes ] || fail "lowrw holds '$(bytes_of lowrw 14)' after the launched write"
expect_exit 0 lctl read lowrw --length 14
[ "$(tr -d '\0' <last.out)" = launched-bytes ] || fail "the launched read printed '$(cat last.txt)'"
grep -q "^sandbox_launch: child [0-9]* exited 0" <(tr -d '\r' <last.err) ||
    fail "the launcher did not report the child's exit: $(cat last.err)"
[ "$level" = S-1-16-4096 ] || grep -qF "NOT ENFORCED" last.err ||
    fail "an unenforced run was not said on stderr: $(cat last.err)"
pass "a launched shmbctl writes and reads a section by name through the launcher's stdin and stdout"

printf 'by-handle' | expect_exit 0 lctl write lowhandle
[ "$(bytes_of lowhandle 9)" = by-handle ] || fail "lowhandle holds '$(bytes_of lowhandle 9)'"
pass "a section delivered by handle reaches the launched process (not the launcher) and is written"

printf x | expect_exit 3 lctl write readable
grep -q "exited 3" last.err || fail "the launcher did not pass exit 3 on: $(cat last.err)"
expect_exit 0 lctl read readable --length 4
pass "a read-only grant: the launched write is refused (exit 3 passed through), the read is served"
expect_exit 3 lctl read sysonly
pass "an ungranted section is refused to the launched client (exit 3), label or not"

# 3. Arguments with spaces, quotes and backslashes, as CommandLineToArgvW
# reads them: the SDK refuses the name and quotes it back whole. (Not a
# file in the work folder: on Windows a low child may not write there.)
odd='a b"c\d\\'
expect_exit 1 lctl read "$odd"
grep -qF "'$odd' has ' ' (0x20) at position 2" last.err ||
    fail "the child did not get the argument $odd intact: $(cat last.err)"
pass "an argument with a space, a quote and backslashes reaches the child as one, unchanged"

# 4. AppContainer: made where the system can, a clear refusal where not.
rc=0
launch appcontainer shmb.ci.$$ -- "$(winpath "$SHMB_BIN/shmbtest.exe")" whoami >ac.out 2>ac.err || rc=$?
if grep -qF "has no CreateAppContainerProfile" ac.err; then
    [ "$rc" = 125 ] || fail "no AppContainer support, but exit $rc, expected 125"
    [ ! -s ac.out ] || fail "the program ran without its AppContainer: $(cat ac.out)"
    pass "no AppContainers on this system: refused with the reason (exit 125), nothing ran"
else
    grep -q "appcontainer S-1-15-2-" ac.err || fail "an AppContainer child (exit $rc) did not report its SID: $(cat ac.err)"
    pass "the child ran in an AppContainer: $(grep -o 'appcontainer S-1-15-2-[0-9-]*' ac.err)"
fi

# Usage errors are not mistaken for a child's exit.
expect_exit 2 launch low
expect_exit 2 launch sideways -- x
pass "usage errors exit 2"
