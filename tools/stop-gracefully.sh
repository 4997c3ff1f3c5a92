# Sourced by the test library and the benchmark script, which start
# shmbrokerd in console mode as a child of their shell.
#
# stop_gracefully PID: Ctrl+C first (Wine delivers SIGINT to a console
# program as CTRL_C_EVENT, so the service stops cleanly), then a hard kill
# if it is still running after 10 s. Returns the process's exit status.
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
