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
