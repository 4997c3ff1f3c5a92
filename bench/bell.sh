#!/usr/bin/env bash
# The doorbell's benchmark (bench_bell.c), on demand, apart from run.sh:
# starts the Wine environment and shmbrokerd in console mode with two
# notify = yes sections, runs bench_bell against them and prints its
# Markdown (the figures quoted in docs/performance.md, "Doorbell").
#
#   bash bench/bell.sh            # after tools/build.sh windows
#   SHMB_BENCH_QUICK=1 bash bench/bell.sh
#
# Honours SHMB_BUILD_DIR like tools/build.sh. No assertion on the times:
# they are only as quiet as the machine.
set -euo pipefail
. "$(dirname "$0")/../tools/lib.sh"
SHMB_BIN=$shmb_build/windows/bin
work=$shmb_build/bench-bell
rm -rf "$work"
mkdir -p "$work"
cd "$work"
svc_log=$work/service.log
pipe="\\\\.\\pipe\\shmb-bench-bell-$$"
quick=()
[ "${SHMB_BENCH_QUICK:-0}" = 1 ] && quick=(--quick)

fail() { echo "[bell] $*" >&2; [ ! -f "$svc_log" ] || cat "$svc_log" >&2; exit 1; }
cleanup() {
    if [ -n "${svc_pid:-}" ]; then stop_gracefully "$svc_pid" || true; svc_pid=; fi
    wine_env stop
}
trap cleanup EXIT

wine_env start
SHMBROKER_SERVER_SID=$(win "$SHMB_BIN/bench_bell.exe" --whoami | tr -d '\r')
export SHMBROKER_SERVER_SID
{
    printf '[service]\npipe = %s\nnamespace = Local\nlog_level = info\n\n' "$pipe"
    for s in bell-a bell-b; do
        printf '[section %s]\nsize = 4KiB\nnotify = yes\nsddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;%s)\n\n' \
            "$s" "$SHMBROKER_SERVER_SID"
    done
} >bell.conf
start_service bell.conf
echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
echo
win "$SHMB_BIN/bench_bell.exe" --pipe "$pipe" "${quick[@]}" | tr -d '\r'
stop_service
