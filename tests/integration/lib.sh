# Shared helpers for the integration tests: each test script sources this,
# gets its own work folder and pipe name, starts shmbrokerd under Wine with a
# config of its own, and asserts on exit codes and outputs of shmbctl and
# shmbtest. Any failed assertion ends the script with a message and exit 1;
# the service is stopped on every exit path.
set -euo pipefail

: "${SHMB_BIN:?SHMB_BIN must name build/windows/bin}"
: "${SHMB_TEST_TMP:?SHMB_TEST_TMP must name a scratch folder}"
: "${WINEPREFIX:?WINEPREFIX must be set}"
export WINEDEBUG=-all

test_name=$(basename "$0" .sh)
work="$SHMB_TEST_TMP/$test_name"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
pipe="\\\\.\\pipe\\shmbtest-$test_name-$$"
svc_pid=

fail() {
    echo "FAIL: $*" >&2
    if [ -f "$work/service.log" ]; then
        echo "--- service log ---" >&2
        cat "$work/service.log" >&2
    fi
    exit 1
}

pass() { echo "ok: $*"; }

# shmbtest and shmbctl print Windows line ends.
shmbtest() { wine "$SHMB_BIN/shmbtest.exe" "$@" | tr -d '\r'; }
hostile() { wine "$SHMB_BIN/hostile.exe" "$@" | tr -d '\r'; }
ctl() { wine "$SHMB_BIN/shmbctl.exe" --pipe "$pipe" "$@"; }

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
    timeout 30 wine "$SHMB_BIN/shmbrokerd.exe" "$@" >"$work/out.log" 2>&1 || got=$?
    [ "$got" = "$want" ] || fail "shmbrokerd $* exited $got, expected $want: $(cat "$work/out.log")"
}

# The service runs as the test account under Wine, not LocalSystem.
SHMBROKER_SERVER_SID=$(shmbtest whoami)
export SHMBROKER_SERVER_SID
[ -n "$SHMBROKER_SERVER_SID" ] || fail "shmbtest whoami printed nothing"

# write_config FILE: stdin with @PIPE@ replaced by this test's pipe.
write_config() {
    local escaped=${pipe//\\/\\\\}
    sed "s|@PIPE@|$escaped|g" >"$1"
}

# start_service CONFIG [OPTION...]: starts shmbrokerd and waits until it
# listens. The log is emptied first, so a previous run's "listening" line
# cannot be taken for this one's. shmbrokerd logs a reason for every failed
# start; a process that exits having written nothing at all never ran our
# code (under parallel load Wine has, rarely, failed to start a program right
# after another was killed), so that one case is tried once more.
start_service() {
    local config=$1; shift
    local attempt code
    for attempt in 1 2; do
        : >"$work/service.log"
        wine "$SHMB_BIN/shmbrokerd.exe" --console "$@" --config "$config" >"$work/service.log" 2>&1 &
        svc_pid=$!
        code=
        for _ in $(seq 1 200); do
            grep -q "listening on" "$work/service.log" 2>/dev/null && return 0
            if ! kill -0 "$svc_pid" 2>/dev/null; then
                code=0
                wait "$svc_pid" || code=$?
                svc_pid=
                break
            fi
            sleep 0.1
        done
        [ -n "$code" ] || fail "shmbrokerd did not start listening within 20 s"
        if [ "$attempt" = 2 ] || [ -s "$work/service.log" ]; then
            fail "shmbrokerd exited ($code) during start"
        fi
        echo "note: shmbrokerd exited ($code) before running, with no output; starting it again" >&2
    done
}

# stop_service: Ctrl+C (Wine delivers SIGINT as CTRL_C_EVENT), then a hard
# kill if it has not stopped within 10 s. Sets svc_status to its exit code.
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/stop-gracefully.sh"
svc_status=
stop_service() {
    svc_status=
    [ -n "$svc_pid" ] || return 0
    svc_status=0
    stop_gracefully "$svc_pid" || svc_status=$?
    svc_pid=
}
trap stop_service EXIT

# status_value KEY: one value from `shmbctl status`.
status_value() {
    ctl status | tr -d '\r' | sed -n "s/^$1=//p"
}

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

# winpath UNIX-PATH: the same file as Wine's Z: drive shows it.
winpath() { printf 'Z:%s' "${1//\//\\}"; }

# wait_for SECONDS CMD...: retries CMD every 0.2 s until it succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}
