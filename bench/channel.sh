#!/usr/bin/env bash
# The channels' benchmark (bench_channel.c), on demand, apart from run.sh:
# starts the Wine environment and shmbrokerd in console mode with the
# channels and the plain section bench_channel uses, runs it (it starts
# its own second process) and prints its Markdown (the figures quoted in
# docs/performance.md, "Channels").
#
#   bash bench/channel.sh            # after tools/build.sh windows
#   SHMB_BENCH_QUICK=1 bash bench/channel.sh
#   SHMB_BENCH_ROUNDS=20 bash bench/channel.sh
#   bash bench/channel.sh --parts l  # only the spinning latency (l, w, t, q)
#   SHMB_BENCH_WAIT_QUIET=300 bash bench/channel.sh  # first wait up to 300 s
#                                                    # for an idle machine
#
# Honours SHMB_BUILD_DIR like tools/build.sh. No assertion on the times:
# they are only as quiet as the machine.
set -euo pipefail
. "$(dirname "$0")/../tools/lib.sh"
SHMB_BIN=$shmb_build/windows/bin
work=$shmb_build/bench-channel
rm -rf "$work"
mkdir -p "$work"
cd "$work"
svc_log=$work/service.log
pipe="\\\\.\\pipe\\shmb-bench-chan-$$"
args=()
[ "${SHMB_BENCH_QUICK:-0}" = 1 ] && args+=(--quick)
[ -z "${SHMB_BENCH_ROUNDS:-}" ] || args+=(--rounds "$SHMB_BENCH_ROUNDS")

fail() { echo "[channel] $*" >&2; [ ! -f "$svc_log" ] || cat "$svc_log" >&2; exit 1; }
cleanup() {
    if [ -n "${svc_pid:-}" ]; then stop_gracefully "$svc_pid" || true; svc_pid=; fi
    wine_env stop
}
trap cleanup EXIT

wine_env start
SHMBROKER_SERVER_SID=$(win "$SHMB_BIN/bench_channel.exe" --whoami | tr -d '\r')
export SHMBROKER_SERVER_SID
sddl="O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$SHMBROKER_SERVER_SID)"
# channel NAME KIND SLOTS SLOT_SIZE: send and receive for the bench's own
# account (under Wine the service runs as that account too).
channel() {
    printf '[channel %s]\nkind = %s\nslots = %s\nslot_size = %s\nsddl = %s\n\n' \
        "$1" "$2" "$3" "$4" "$sddl"
}
{
    printf '[service]\npipe = %s\nnamespace = Local\nlog_level = info\n\n' "$pipe"
    printf '[section chan-ctl]\nsize = 8MiB\nsddl = %s\n\n' "$sddl"
    for d in ab ba; do
        channel "q-$d" queue 64 64       # spinning latency, SDK
        channel "b-$d" broadcast 64 64
        channel "rq-$d" queue 64 64      # the same rings used bare
        channel "rqx-$d" queue 64 64     # only its doorbell: split rings
        channel "rb-$d" broadcast 64 64
        channel "w-$d" queue 64 64       # wake-up ping-pong
    done
    channel p-q queue 64 64              # one-way wake-up, paced
    channel t64 queue 1024 64            # throughput
    channel t64r queue 1024 64
    channel t64x queue 64 64
    channel t1m queue 4 1MiB
    channel t1mz queue 4 1MiB
    channel solo queue 64 64             # rings with nobody waiting
    channel solo-w queue 64 64
    channel pair queue 64 64
    channel pair-r queue 64 64
} >channel.conf
start_service channel.conf
# busy_cores: cores busy over one second, from /proc/stat (as run.sh).
busy_cores() {
    local a b
    a=$(head -n1 /proc/stat); sleep 1; b=$(head -n1 /proc/stat)
    printf '%s\n%s\n' "$a" "$b" | awk '{ idle = $5 + $6; total = 0
        for (i = 2; i <= NF; i++) total += $i
        if (NR == 1) { i0 = idle; t0 = total } else { i1 = idle; t1 = total } }
        END { printf "%.2f", (1 - (i1 - i0) / (t1 - t0)) * n }' n="$(nproc)"
}
quiet_deadline=$((SECONDS + ${SHMB_BENCH_WAIT_QUIET:-0}))
busy=$(busy_cores)
while [ $SECONDS -lt $quiet_deadline ] && awk -v b="$busy" 'BEGIN { exit !(b > 0.25) }'; do
    echo "[channel] waiting for a quiet machine ($busy cores busy)" >&2
    sleep 4
    busy=$(busy_cores)
done
echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $busy cores busy just before (1 s sample)"
echo
win "$SHMB_BIN/bench_channel.exe" --pipe "$pipe" "${args[@]}" "$@" | tr -d '\r'
echo
echo "After: load $(cut -d' ' -f1-3 /proc/loadavg)"
stop_service
