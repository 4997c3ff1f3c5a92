# Sourced by every script that runs the Windows programs (tools/*.sh,
# bench/run.sh, tests/wine-env.sh, tests/integration/lib.sh): where the
# build is, how a Windows program is run, Wine's environment, and starting
# and stopping shmbrokerd in console mode. It sets no shell options.
#
# SHMB_RUNNER runs a Windows program: "wine" on Linux (the default), empty
# under MSYS2's or Git for Windows' bash, where programs run natively. A
# script runs every Windows program as `win PROGRAM ARGS...` and never names
# wine itself; the test integration.runner fails the suite if one does, and
# runs a script through a recording runner to show that the variable is
# what actually runs things. Only what MSYS2's bash has is used here.

shmb_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shmb_build=${SHMB_BUILD_DIR:-$shmb_top/build}

case $(uname -s) in
MINGW* | MSYS* | CYGWIN*) shmb_native_windows=1 ;;
*) shmb_native_windows= ;;
esac
# Set but empty is a choice (native); unset takes the platform's default.
if [ -z "${SHMB_RUNNER+set}" ]; then
    if [ -n "$shmb_native_windows" ]; then SHMB_RUNNER=; else SHMB_RUNNER=wine; fi
fi
export SHMB_RUNNER

# Wine's environment, where Wine is what runs things: the prefix inside the
# build tree, no debug noise, no Mono or Gecko prompts.
if [ -z "$shmb_native_windows" ]; then
    export WINEPREFIX=${WINEPREFIX:-$shmb_build/windows/wineprefix}
    export WINEDEBUG=${WINEDEBUG:--all}
    export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
else
    # MSYS2 would rewrite arguments such as /S or /c into paths.
    export MSYS2_ARG_CONV_EXCL='*' MSYS_NO_PATHCONV=1
fi

# win PROGRAM ARGS...: runs a Windows program through the runner. For a
# program started in the background, whose pid the script needs (to kill
# it), use "${shmb_run[@]}" PROGRAM ARGS... & instead: a function in the
# background is a subshell of its own, and $! would be that subshell's pid.
# Under Wine the runner execs into the program, so $! is the program's.
shmb_run=(${SHMB_RUNNER:+"$SHMB_RUNNER"})

# Under Wine, about one program start in several thousand ends with status
# 1 having done nothing: nothing on stdout or stderr, no pipe connection,
# nothing in the wineserver's log (docs/reliability.md, "A Wine start
# failure"). Our programs never exit 1 silently: every failure path writes
# its reason. So in the tests (SHMB_RETRY_LOG set) win runs one of ours (a
# program in SHMB_BIN) once more when, and only when, it exited 1 having
# written nothing; each retry is printed and appended to SHMB_RETRY_LOG,
# which tools/test.sh counts and fails above a small number. Others'
# programs run once: Wine's sc.exe, for one, exits 1 silently when a
# service is not there.
shmb_wine_start_failure=1

win() {
    if [ -n "$shmb_native_windows" ] || [ -z "${SHMB_RETRY_LOG:-}" ] ||
        [ -z "${SHMB_BIN:-}" ] || [[ $1 != "$SHMB_BIN"/* ]]; then
        "${shmb_run[@]}" "$@"
        return
    fi
    local out err rc attempt
    out=$(mktemp) err=$(mktemp)
    for attempt in 1 2; do
        : >"$out"
        : >"$err"
        rc=0
        win_once "$out" "$err" "$@" || rc=$?
        if [ "$rc" != "$shmb_wine_start_failure" ] || [ -s "$out" ] || [ -s "$err" ] ||
            [ "$attempt" = 2 ]; then
            break
        fi
        shmb_note_retry "$(basename "$1") exited $rc with no output (Wine did not run it); running it again"
    done
    rm -f "$out" "$err"
    return "$rc"
}

# win_once OUT ERR PROGRAM ARGS...: runs the program with its stdout and
# stderr in the files OUT and ERR, so that what it wrote is known exactly
# once it has exited, and copies both as they grow to this function's
# stdout and stderr (tail follows them until the program is gone; files,
# not pipes, because a process the program starts, such as Wine's
# services, may hold its output open long after it ended). Returns the
# program's exit status.
win_once() {
    local out=$1 err=$2 pid copy_out copy_err rc=0
    shift 2
    "${shmb_run[@]}" "$@" <&0 >"$out" 2>"$err" &
    pid=$!
    tail -c +1 -s 0.01 --pid="$pid" -f "$out" &
    copy_out=$!
    tail -c +1 -s 0.01 --pid="$pid" -f "$err" >&2 &
    copy_err=$!
    wait "$pid" || rc=$?
    wait "$copy_out" "$copy_err" || true
    return "$rc"
}

# shmb_note_retry TEXT: says so on stderr and in SHMB_RETRY_LOG.
shmb_note_retry() {
    echo "RETRY: $1" >&2
    [ -z "${SHMB_RETRY_LOG:-}" ] || echo "$(basename "$0"): $1" >>"$SHMB_RETRY_LOG"
}

# winpath UNIX-PATH: the same file as a Windows program names it: under
# Wine, C:\... inside the prefix's drive_c, Z:\... elsewhere.
winpath() {
    local p=$1
    if [ -n "$shmb_native_windows" ]; then cygpath -w "$p"; return; fi
    case $p in
    "$shmb_drive_c"/*) p=${p#"$shmb_drive_c"}; printf 'C:%s' "${p//\//\\}" ;;
    *) printf 'Z:%s' "${p//\//\\}" ;;
    esac
}

# drive_c: the folder that Windows programs see as C:\.
if [ -n "$shmb_native_windows" ]; then
    shmb_drive_c=$(cygpath -u 'C:\')
    shmb_drive_c=${shmb_drive_c%/}
else
    shmb_drive_c=$WINEPREFIX/drive_c
fi

# fail MESSAGE: the default way a script ends on an error; the test library
# replaces it with one that also prints the service's log.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# ---- shmbrokerd in console mode, a child of the calling shell ------------
#
# svc_pid is its pid while it runs; svc_log (default service.log in the
# current folder) receives its output; svc_status is set by stop_service.
svc_pid=
svc_status=
svc_log=${svc_log:-$PWD/service.log}


# start_ready PIDVAR OUT PATTERN SECONDS PROGRAM ARGS...: starts one of our
# programs in the background, its stdout and stderr in OUT, and waits up to
# SECONDS until OUT has a line matching PATTERN; PIDVAR is set to its pid.
# Returns 0 when ready; 1 when it did not get there in time; 2 when it
# exited first, with its status in ready_status. The Wine start failure
# (exit 1 with nothing written; see win above) is started again once,
# printed and logged.
ready_status=
start_ready() {
    local var=$1 out=$2 pattern=$3 tries=$(($4 * 10)) attempt pid
    shift 4
    for attempt in 1 2; do
        : >"$out"
        "${shmb_run[@]}" "$@" >"$out" 2>&1 &
        pid=$!
        printf -v "$var" '%s' "$pid"
        ready_status=
        for _ in $(seq 1 "$tries"); do
            grep -q -- "$pattern" "$out" 2>/dev/null && return 0
            if ! kill -0 "$pid" 2>/dev/null; then
                ready_status=0
                wait "$pid" || ready_status=$?
                printf -v "$var" '%s' ""
                break
            fi
            sleep 0.1
        done
        [ -n "$ready_status" ] || return 1
        if [ "$attempt" = 2 ] || [ -s "$out" ] || [ "$ready_status" != "$shmb_wine_start_failure" ]; then
            return 2
        fi
        shmb_note_retry "$(basename "$1") exited $ready_status with no output (Wine did not run it); starting it again"
    done
}

# start_service CONFIG [OPTION...]: starts shmbrokerd (SHMB_SERVICE_EXE,
# default $SHMB_BIN/shmbrokerd.exe) and waits up to SHMB_START_WAIT seconds
# (default 20) until it listens. The log is emptied first, so that a
# previous run's "listening" line cannot be taken for this one's.
start_service() {
    local config=$1 rc=0
    shift
    start_ready svc_pid "$svc_log" "listening on" "${SHMB_START_WAIT:-20}" \
        "${SHMB_SERVICE_EXE:-$SHMB_BIN/shmbrokerd.exe}" --console "$@" --config "$config" || rc=$?
    case $rc in
    0) ;;
    1) fail "shmbrokerd did not start listening within ${SHMB_START_WAIT:-20} s" ;;
    *) fail "shmbrokerd exited ($ready_status) during start" ;;
    esac
}

# stop_gracefully PID: Ctrl+C first (Wine delivers SIGINT to a console
# program as CTRL_C_EVENT, and MSYS2's kill does the same for a native
# one), so the service stops cleanly; a hard kill if it is still running
# after 10 s. Returns the process's exit status.
stop_gracefully() {
    local pid=$1 status=0
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || status=$?
    return $status
}

# stop_service: stops the running service, if any; svc_status is its exit
# code (empty when none ran). Stopped this way it must exit 0: anything
# else (a crash before or during the stop) fails.
stop_service() {
    svc_status=
    [ -n "$svc_pid" ] || return 0
    svc_status=0
    stop_gracefully "$svc_pid" || svc_status=$?
    svc_pid=
    [ "$svc_status" = 0 ] || fail "shmbrokerd exited $svc_status when stopped, expected 0 (log: $svc_log)"
}

# kill_service: a hard kill (SIGKILL; TerminateProcess natively), for the
# tests that prove what survives one.
kill_service() {
    [ -n "$svc_pid" ] || return 0
    kill -KILL "$svc_pid" 2>/dev/null || true
    wait "$svc_pid" 2>/dev/null || true
    svc_pid=
}

# ---- the shared Wine environment -----------------------------------------
#
# wine_env start|stop: under Wine, the prefix (made on first use, inside the
# build tree) and a persistent wineserver, so that services and pipes
# outlive the process that started them. Its output goes to /dev/null: a
# wineserver holding ctest's pipe would make ctest wait for it after every
# test. Natively there is nothing to start.
wine_env() {
    [ -z "$shmb_native_windows" ] || return 0
    case $1 in
    start)
        if [ ! -f "$WINEPREFIX/system.reg" ]; then
            mkdir -p "$WINEPREFIX"
            wineboot -i >/dev/null 2>&1 </dev/null || fail "wineboot -i failed for $WINEPREFIX"
        fi
        # Start from no server at all: right after `wineboot -i` two
        # services.exe can answer for the new prefix (a service made through
        # one is unknown to the other), and `wineserver -p` does not make an
        # already running server persistent.
        wineserver -k >/dev/null 2>&1 </dev/null || true
        wineserver -w >/dev/null 2>&1 </dev/null || true
        wineserver -p >/dev/null 2>&1 </dev/null &
        # Proves the server and prefix answer before anything relies on them.
        win cmd /c exit 0 >/dev/null 2>&1 </dev/null || fail "Wine does not run cmd in $WINEPREFIX"
        ;;
    stop)
        wineserver -k >/dev/null 2>&1 </dev/null || true
        wineserver -w >/dev/null 2>&1 </dev/null || true
        ;;
    *) fail "wine_env: start or stop, not '$1'" ;;
    esac
}
