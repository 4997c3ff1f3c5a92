# Shared helpers for the integration tests: each test script sources this,
# gets its own work folder and pipe name, starts shmbrokerd with a config of
# its own, and asserts on exit codes and outputs of shmbctl and shmbtest.
# Every failure ends the script with a line that says what failed: a failed
# assertion through fail(), and any other command that stops the script
# under set -e through the ERR trap below, which names the line and the
# command. The service is stopped on every exit path, and a script that
# passed still fails if the service did not exit 0 when stopped.
set -euo pipefail
set -E   # functions and substitutions inherit the ERR trap

: "${SHMB_BIN:?SHMB_BIN must name build/windows/bin}"
: "${SHMB_TEST_TMP:?SHMB_TEST_TMP must name a scratch folder}"
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib.sh"

test_name=$(basename "$0" .sh)
work="$SHMB_TEST_TMP/$test_name"

rm -rf "$work"
mkdir -p "$work"
cd "$work"
svc_log=$work/service.log
pipe="\\\\.\\pipe\\shmbtest-$test_name-$$"

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$work/service.log" ]; then
        echo "--- service log ---" >&2
        cat "$work/service.log" >&2
    fi
    exit 1
}

# A command that fails outside any condition ends the script (set -e); say
# which one. Only the script's own shell reports: inside a substitution the
# failure surfaces again as the command that used it.
on_error() {
    local rc=$1 line=$2 cmd=$3 file=${BASH_SOURCE[1]:-$0} text where=
    [ "$BASH_SUBSHELL" = 0 ] || return 0
    text=$(sed -n "${line}s/^[[:space:]]*//p" "$file" 2>/dev/null) || text=
    [ "${FUNCNAME[1]:-main}" = main ] || where=" in ${FUNCNAME[1]}"
    echo "FAIL: $(basename "$file") line $line$where: '$cmd' exited $rc${text:+ (the line: $text)}" >&2
}
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR

pass() { echo "ok: $*"; }

# shmbtest and shmbctl print Windows line ends.
shmbtest() { win "$SHMB_BIN/shmbtest.exe" "$@" | tr -d '\r'; }
hostile() { win "$SHMB_BIN/hostile.exe" "$@" | tr -d '\r'; }
ctl() { win "$SHMB_BIN/shmbctl.exe" --pipe "$pipe" "$@"; }

# raw_hostile ARGS...: hostile.exe writing straight to the caller's file,
# with Windows line ends (through tr, a line such as "connected" would wait
# in tr's buffer until the client exits). last_line FILE reads such a file's
# last line; connected FILE... says every such client has connected.
raw_hostile() { "${shmb_run[@]}" "$SHMB_BIN/hostile.exe" "$@"; }
last_line() { tr -d '\r' <"$1" | tail -n1; }
connected() {
    local f
    for f in "$@"; do grep -q '^connected' "$f" || return 1; done
}

# expect_exit CODE CMD...: runs CMD; its stdout in last.out (raw bytes) and
# last.txt (Windows line ends removed), its stderr in last.err.
expect_exit() {
    local want=$1; shift
    local got=0
    "$@" 2>"$work/last.err" >"$work/last.out" || got=$?
    tr -d '\r' <"$work/last.out" >"$work/last.txt"
    [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $(cat "$work/last.err")"
}

# run_service_expecting CODE ARGS...: a shmbrokerd that must exit by itself.
run_service_expecting() {
    local want=$1; shift
    local got=0
    timeout 30 "${shmb_run[@]}" "$SHMB_BIN/shmbrokerd.exe" "$@" >"$work/out.log" 2>&1 || got=$?
    [ "$got" = "$want" ] || fail "shmbrokerd $* exited $got, expected $want: $(cat "$work/out.log")"
}

# The service runs as the test account under Wine, not LocalSystem.
SHMBROKER_SERVER_SID=$(shmbtest whoami) || fail "shmbtest whoami failed"
export SHMBROKER_SERVER_SID
[ -n "$SHMBROKER_SERVER_SID" ] || fail "shmbtest whoami printed nothing"

# write_config FILE: stdin with @PIPE@ replaced by this test's pipe.
write_config() {
    local escaped=${pipe//\\/\\\\}
    sed "s|@PIPE@|$escaped|g" >"$1"
}

# at_exit CMD: one more cleanup step for the EXIT trap (after the service
# is stopped).
exit_hooks=()
at_exit() { exit_hooks+=("$1"); }

# The EXIT trap: stops the service, runs the hooks, and turns a passing
# script into a failing one when the service had crashed or did not stop
# cleanly (it must exit 0 on Ctrl+C). stop_service (tools/lib.sh) fails
# the same way wherever a script stops the service itself; kill_service is
# the deliberate hard kill.
finish_test() {
    local rc=$? hook
    trap - ERR
    if [ -n "$svc_pid" ]; then
        svc_status=0
        stop_gracefully "$svc_pid" || svc_status=$?
        svc_pid=
    fi
    for hook in "${exit_hooks[@]}"; do eval "$hook" || true; done
    if [ "$rc" = 0 ] && [ -n "$svc_status" ] && [ "$svc_status" != 0 ]; then
        echo "FAIL: the script passed, but shmbrokerd exited $svc_status when stopped at its end, expected 0" >&2
        echo "--- service log ---" >&2
        cat "$svc_log" >&2 2>/dev/null || true
        exit 1
    fi
    exit "$rc"
}
trap finish_test EXIT

# ctl_text ARGS...: shmbctl's stdout without Windows line ends; fails the
# test, naming the command and what it printed, when shmbctl fails.
ctl_text() {
    local out rc=0
    out=$(ctl "$@" 2>"$work/ctl.err") || rc=$?
    [ "$rc" = 0 ] || fail "shmbctl $* failed (exit $rc, stdout '${out//$'\r'/}'): $(cat "$work/ctl.err")"
    printf '%s\n' "${out//$'\r'/}"
}

# status_value KEY: one value from `shmbctl status`; a failed status or a
# missing key fails the test.
status_value() {
    local text value
    text=$(ctl_text status) || fail "shmbctl status failed (reading $1)"
    value=$(sed -n "s/^$1=//p" <<<"$text")
    [ -n "$value" ] || fail "shmbctl status has no $1: $text"
    printf '%s\n' "$value"
}

# wait_status KEY VALUE SECONDS: waits until STATUS shows KEY=VALUE.
wait_status() {
    local deadline=$((SECONDS + $3)) got
    while :; do
        got=$(status_value "$1") || fail "waiting for status $1=$2: no value"
        [ "$got" != "$2" ] || return 0
        [ $SECONDS -lt "$deadline" ] || fail "status $1 is $got after $3 s, expected $2"
        sleep 0.1
    done
}

# wait_status_above KEY N SECONDS: waits until STATUS shows KEY above N.
wait_status_above() {
    local deadline=$((SECONDS + $3)) got
    while :; do
        got=$(status_value "$1") || fail "waiting for status $1 above $2: no value"
        [ "$got" -le "$2" ] || return 0
        [ $SECONDS -lt "$deadline" ] || fail "status $1 is still $got after $3 s, expected above $2"
        sleep 0.2
    done
}

# log_has FILE TEXT: FILE (a service log, Windows line ends or not) has a
# line containing TEXT.
log_has() { tr -d '\r' <"$1" | grep -qF -- "$2"; }

# The config most tests use: a read-only, a read-write and a SYSTEM-only
# section, granted to this test account by its own SID.
standard_config() {
    write_config "$1" <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_level = debug

[section readonly]
size = 64KiB
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GR;;;$SHMBROKER_SERVER_SID)

[section readwrite]
size = 1MiB
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$SHMBROKER_SERVER_SID)

[section sysonly]
size = 4KiB
sddl = O:SYG:SYD:P(A;;GA;;;SY)
EOF2
}

# wait_for SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

# check_broadcast N PID...: the broadcast receivers PID... (chantest brecv,
# the i-th writing brecv$i.out) each exited 0, delivered something, and
# delivered + lost == N, the messages sent; their lines in bcast_summary.
check_broadcast() {
    local n=$1 i=0 pid rc out line d l
    shift
    bcast_summary=
    for pid in "$@"; do
        i=$((i + 1))
        rc=0; wait "$pid" || rc=$?
        out=$(tr -d '\r' <"brecv$i.out")
        [ "$rc" = 0 ] || fail "broadcast receiver $i exited $rc: $out"
        line=$(grep '^delivered=' <<<"$out") || fail "broadcast receiver $i: $out"
        d=$(sed 's/.*delivered=\([0-9]*\).*/\1/' <<<"$line")
        l=$(sed 's/.*lost=\([0-9]*\).*/\1/' <<<"$line")
        [ $((d + l)) = "$n" ] || fail "broadcast receiver $i: delivered $d + lost $l != sent $n"
        [ "$d" -gt 0 ] || fail "broadcast receiver $i delivered nothing: $line"
        bcast_summary+=" [$i: $line]"
    done
}
