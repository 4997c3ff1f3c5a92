#!/usr/bin/env bash
# The runner variable is what runs the Windows programs (tools/lib.sh):
# no script names wine itself, a script run through a recording runner
# runs every program through it, and one run through a runner that refuses
# to run anything fails. On Windows (SHMB_RUNNER empty) the same checks
# hold with a recording runner that runs programs natively.
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)

# 1. No script runs wine directly: "wine" followed by a program, a quoted
# or expanded word, a drive path or an option, outside a comment. (tools/
# lib.sh names it once, as the default value of SHMB_RUNNER.)
scripts=("$src"/tools/*.sh "$src"/bench/*.sh "$src"/tests/*.sh "$src"/tests/integration/*.sh "$src"/.ci/run)
calls='(^|[^[:alnum:]_./-])wine[[:space:]]+(["'"'"'$]|[A-Za-z]:|-|(cmd|sc|reg|net|start|msiexec|[[:alnum:]_.-]+\.exe)([[:space:]]|$))'
direct=$(grep -nE "$calls" "${scripts[@]}" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#') || true
[ -z "$direct" ] || fail "these lines run wine directly instead of through SHMB_RUNNER (win, shmb_run):
$direct"
pass "no script runs wine directly (${#scripts[@]} scripts checked)"

# 1b. No script starts "win" in the background: win is a function, so $!
# would be a subshell's pid, and killing it leaves the Windows program
# running into the next test (newcomer_client.sh's example_reconnect held
# a named section into bell_handle.sh's namespace check that way). Such a
# program is started as "${shmb_run[@]}" PROGRAM ARGS... & (tools/lib.sh).
bg='^[[:space:]]*win[[:space:]].*[^&|]&[[:space:]]*$'
background=$(grep -nE "$bg" "${scripts[@]}" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#') || true
[ -z "$background" ] || fail "these lines start the win function in the background (its \$! is a subshell's, not the program's); use \"\${shmb_run[@]}\" PROGRAM ... & instead:
$background"
pass "no script starts win in the background"

# 2. A recording runner sees every Windows program a test runs.
real=$SHMB_RUNNER
cat >recording-runner <<EOF2
#!/bin/sh
echo "\$1" >>"$work/runner.log"
exec $real "\$@"
EOF2
cat >refusing-runner <<'EOF2'
#!/bin/sh
echo "refusing-runner: not running $1" >&2
exit 99
EOF2
chmod +x recording-runner refusing-runner
: >runner.log
inner=$work/inner
SHMB_RUNNER=$work/recording-runner SHMB_TEST_TMP=$inner bash "$src/tests/integration/second_instance.sh" \
    >inner.out 2>&1 || fail "second_instance.sh through the recording runner failed: $(cat inner.out)"
for exe in shmbtest.exe shmbrokerd.exe shmbctl.exe; do
    grep -q "[\\/]$exe\$" runner.log || fail "$exe did not run through SHMB_RUNNER: $(cat runner.log)"
done
[ "$(grep -c 'shmbrokerd.exe$' runner.log)" = 2 ] \
    || fail "shmbrokerd ran $(grep -c 'shmbrokerd.exe$' runner.log) times through the runner, expected 2: $(cat runner.log)"
pass "second_instance.sh runs shmbtest, shmbrokerd (twice) and shmbctl through SHMB_RUNNER"

# 3. A runner that refuses everything fails the test, with a reason.
rc=0
SHMB_RUNNER=$work/refusing-runner SHMB_TEST_TMP=$inner bash "$src/tests/integration/second_instance.sh" \
    >refused.out 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "second_instance.sh passed although its runner ran nothing: $(cat refused.out)"
grep -q '^FAIL: ' refused.out || fail "second_instance.sh failed without saying what failed: $(cat refused.out)"
pass "with a runner that runs nothing, second_instance.sh fails and says why ($(grep -m1 '^FAIL: ' refused.out))"

# 4. The Wine start failure (tools/lib.sh): a program that exits 1 having
# written nothing is run once more, and the retry is logged; one that
# exits 1 with a message is not. The runner below fails the first program
# it is given in the way Wine does (or, with a message, in the way our
# programs do), then runs everything.
cat >first-fails-runner <<EOF2
#!/bin/sh
if [ ! -e "$work/failed-once" ]; then
    : >"$work/failed-once"
    [ -z "\$SHMB_FAIL_TEXT" ] || echo "\$SHMB_FAIL_TEXT" >&2
    exit 1
fi
exec $real "\$@"
EOF2
chmod +x first-fails-runner
rm -f failed-once; : >inner-retries.log
SHMB_RUNNER=$work/first-fails-runner SHMB_TEST_TMP=$inner SHMB_RETRY_LOG=$work/inner-retries.log \
    bash "$src/tests/integration/second_instance.sh" >flaky.out 2>&1 \
    || fail "second_instance.sh failed although Wine's failure was retried: $(cat flaky.out)"
[ "$(grep -c . inner-retries.log)" = 1 ] && grep -q "shmbtest.exe exited 1 with no output" inner-retries.log \
    || fail "expected one logged retry of shmbtest.exe, the retry log has: $(cat inner-retries.log)"
grep -q '^RETRY: shmbtest.exe exited 1 with no output' flaky.out \
    || fail "the retry was not printed: $(cat flaky.out)"
pass "a program that exits 1 with no output is run again, and the retry is printed and logged"

rm -f failed-once; : >inner-retries.log
rc=0
SHMB_FAIL_TEXT="shmbtest: a real error" SHMB_RUNNER=$work/first-fails-runner SHMB_TEST_TMP=$inner \
    SHMB_RETRY_LOG=$work/inner-retries.log bash "$src/tests/integration/second_instance.sh" >real.out 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "second_instance.sh passed although a program failed with a message: $(cat real.out)"
[ ! -s inner-retries.log ] || fail "a program that failed with a message was run again: $(cat inner-retries.log)"
grep -q '^FAIL: ' real.out || fail "the failure was not reported: $(cat real.out)"
pass "a program that exits 1 with a message is not run again ($(grep -m1 '^FAIL: ' real.out))"

# 5. The same for a program started in the background (start_ready, which
# start_service and evil_server.sh use): shmbrokerd's first start fails as
# Wine's does, is started again, and the retry is logged.
cat >first-service-fails-runner <<EOF2
#!/bin/sh
case "\$1" in
*shmbrokerd.exe)
    if [ ! -e "$work/service-failed-once" ]; then
        : >"$work/service-failed-once"
        exit 1
    fi ;;
esac
exec $real "\$@"
EOF2
chmod +x first-service-fails-runner
rm -f service-failed-once; : >inner-retries.log
SHMB_RUNNER=$work/first-service-fails-runner SHMB_TEST_TMP=$inner SHMB_RETRY_LOG=$work/inner-retries.log \
    bash "$src/tests/integration/second_instance.sh" >bg.out 2>&1 \
    || fail "second_instance.sh failed although the service's failed start was retried: $(cat bg.out)"
[ "$(grep -c . inner-retries.log)" = 1 ] && grep -q "shmbrokerd.exe exited 1 with no output" inner-retries.log \
    || fail "expected one logged restart of shmbrokerd.exe, the retry log has: $(cat inner-retries.log)"
pass "a background program (the service) that exits 1 with no output at start is started again, and logged"
