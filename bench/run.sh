#!/usr/bin/env bash
# The one command for the benchmarks (on demand, not part of the tests):
# sets up and builds like tools/demo.sh, starts the Wine environment and
# shmbrokerd in console mode with generated configs, runs bench_open,
# bench_throughput, bench_data and bench_footprint against it, stops
# everything and writes docs/performance.md: the machine, then every figure
# beside its baseline from the same run, the targets and what they came to.
#
#   bash bench/run.sh                          # full run, about 4 minutes + build
#   SHMB_BENCH_QUICK=1 bash bench/run.sh       # smoke run, under a minute
#   SHMB_BENCH_OUT=/tmp/perf.md bash bench/run.sh   # write elsewhere
#   SHMB_BENCH_WAIT_QUIET=300 bash bench/run.sh     # first wait up to 300 s
#                                                   # for an idle machine
#   SHMB_BENCH_REPORT_ONLY=1 bash bench/run.sh      # rewrite the document
#       from the last run's results (after editing bench/analysis.md)
#
# bench/bell.sh (the doorbell) and bench/channel.sh (channels between two
# processes) run apart, each with a config of its own; their figures are
# pasted into bench/analysis.md by hand.
#
# Honours SHMB_BUILD_DIR like tools/build.sh (default build/). The figures
# are only as quiet as the machine: run it with nothing else busy.
set -euo pipefail
. "$(dirname "$0")/../tools/lib.sh"
top=$shmb_top
build=$shmb_build
SHMB_BIN=$build/windows/bin
bin=$SHMB_BIN
out=${SHMB_BENCH_OUT:-$top/docs/performance.md}
work=$build/bench
svc_log=$work/service.log
SHMB_START_WAIT=60   # 1,000 sections take a while to create
quick=()
[ "${SHMB_BENCH_QUICK:-0}" = 1 ] && quick=(--quick)
pipe="\\\\.\\pipe\\shmb-bench-$$"

log() { printf '[bench] %s\n' "$*" >&2; }
fail() { log "$*"; [ ! -f "$svc_log" ] || cat "$svc_log" >&2; exit 1; }

cleanup() {
    if [ -n "$svc_pid" ]; then stop_gracefully "$svc_pid" || true; svc_pid=; fi
    wine_env stop
}

# config_head: the [service] part every generated config shares. Clients
# are many and sit idle between phases: raise both limits.
config_head() {
    cat <<EOF
[service]
pipe = $pipe
namespace = Local
log_level = info
max_clients = 1024
max_clients_per_account = 1024
client_timeout = 30min

EOF
}

# section NAME SIZE: read-write for the bench's own account (under Wine
# the service runs as that account too; see README.md).
section() {
    printf '[section %s]\nsize = %s\nsddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;%s)\n\n' \
        "$1" "$2" "$SHMBROKER_SERVER_SID"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# Our prefix's wineserver: its environment names WINEPREFIX, and it works
# in a folder under the TMPDIR that our Wine processes use.
wineserver_pid() {
    local p
    for p in $(pgrep wineserver || true); do
        case $(readlink "/proc/$p/cwd" 2>/dev/null) in "${TMPDIR:-/tmp}"/*) ;; *) continue ;; esac
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "WINEPREFIX=$WINEPREFIX"; then
            echo "$p"; return 0
        fi
    done
}
fs_of() { { findmnt -n -o FSTYPE -T "$1" 2>/dev/null || stat -f -c %T "$1"; } | head -n1; }
# busy_cores: cores busy over one second, from /proc/stat (other work too).
busy_cores() {
    local a b
    a=$(head -n1 /proc/stat); sleep 1; b=$(head -n1 /proc/stat)
    printf '%s\n%s\n' "$a" "$b" | awk '{ idle = $5 + $6; total = 0
        for (i = 2; i <= NF; i++) total += $i
        if (NR == 1) { i0 = idle; t0 = total } else { i1 = idle; t1 = total } }
        END { printf "%.2f", (1 - (i1 - i0) / (t1 - t0)) * n }' n="$(nproc)"
}


# measure: everything that runs Wine; leaves the benches' outputs in $work
# and the facts about the run in $work/meta.env.
measure() {
    wine_env start
    SHMBROKER_SERVER_SID=$(win "$bin/bench_open.exe" --whoami | tr -d '\r')
    export SHMBROKER_SERVER_SID
    [ -n "$SHMBROKER_SERVER_SID" ] || { log "--whoami printed nothing"; exit 1; }

    # Other work on the machine shows up in every figure: optionally wait for
    # a quiet moment (under a quarter of a core busy) before starting.
    quiet_deadline=$((SECONDS + ${SHMB_BENCH_WAIT_QUIET:-0}))
    busy_before=$(busy_cores)
    while [ $SECONDS -lt $quiet_deadline ] && ! ge 0.25 "$busy_before"; do
        log "waiting for a quiet machine ($busy_before cores busy)"
        sleep 4
        busy_before=$(busy_cores)
    done
    load_before=$(load)
    others=$(pgrep -c -f 'wineserver' || true)
    started=$(date -u '+%Y-%m-%d %H:%M UTC')
    t_start=$SECONDS

    # --- latency, throughput, data path: one service with every section -------
    {
        config_head
        section bench 4KiB
        # bench_open's open by handle (issue 12): the same, with no name.
        section bench-handle 4KiB | sed 's/^size = 4KiB$/size = 4KiB\ndelivery = handle/'
        for s in 4KiB 16KiB 64KiB 256KiB 1MiB 4MiB 16MiB 64MiB 256MiB; do
            section "data-$s" "$s"
        done
    } >main.conf
    start_service main.conf
    run_bench() { # NAME ARGS...: stdout to NAME.out, progress to the terminal
        local name=$1; shift
        log "running $name"
        win "$bin/$name.exe" --pipe "$pipe" "${quick[@]}" "$@" | tr -d '\r' >"$name.out"
    }
    run_bench bench_open
    ws_pid=$(wineserver_pid)
    log "wineserver pid ${ws_pid:-not found}, service pid $svc_pid"
    run_bench bench_throughput --service-pid "$svc_pid" ${ws_pid:+--wineserver-pid "$ws_pid"}
    run_bench bench_data
    stop_service

    # --- footprint: 0, 100 and 1,000 sections, each with 0, 64, 256 clients ---
    : >footprint.out
    for n in 0 100 1000; do
        {
            config_head
            for i in $(seq 1 "$n"); do section "$(printf 'fp-%04d' "$i")" 4KiB; done
        } >"fp-$n.conf"
        start_service "fp-$n.conf"
        log "running bench_footprint with $n sections"
        win "$bin/bench_footprint.exe" --pipe "$pipe" --unix-pid "$svc_pid" \
            --clients 0,64,256 | tr -d '\r' >>footprint.out
        stop_service
    done

    # --- the data path again, with Wine's section backing on tmpfs -------------
    # Debian's wineserver keeps the files behind pagefile-backed sections in
    # $TMPDIR/wine-XXXXXX; when /tmp is a disk file system the kernel writes
    # those pages back like any file's. A second wineserver with TMPDIR on
    # tmpfs shows what that costs (Windows keeps such sections in memory).
    wine_tmp=${TMPDIR:-/tmp}
    wine_tmp_fs=$(fs_of "$wine_tmp")
    shm_dir=/dev/shm
    if [ "$wine_tmp_fs" != tmpfs ] && [ -d "$shm_dir" ] && [ "$(fs_of "$shm_dir")" = tmpfs ]; then
        wine_env stop
        # Every Wine process finds its wineserver through TMPDIR: from here on
        # all of them, and the final stop, use the new one.
        export TMPDIR=$shm_dir
        wine_env start
        start_service main.conf
        log "running bench_data with Wine's temporary files on tmpfs"
        win "$bin/bench_data.exe" --pipe "$pipe" "${quick[@]}" | tr -d '\r' >bench_data_tmpfs.out
        stop_service
    fi
    load_after=$(load)
    elapsed=$((SECONDS - t_start))
    local v
    for v in started load_before load_after busy_before others elapsed \
             wine_tmp wine_tmp_fs shm_dir quick_mode; do
        printf '%s=%q\n' "$v" "${!v}"
    done >meta.env
}

if [ "${SHMB_BENCH_REPORT_ONLY:-0}" = 1 ]; then
    cd "$work"
    . ./meta.env
else
    bash "$top/tools/bootstrap.sh"
    bash "$top/tools/build.sh" windows
    rm -rf "$work"
    mkdir -p "$work"
    cd "$work"
    trap cleanup EXIT
    quick_mode=${#quick[@]}
    measure
fi

# --- docs/performance.md ---------------------------------------------------
# kv KEY: a value from the "@ " lines of every bench (first one wins).
at_lines() { sed -n 's/^@ //p' "$@" | tr ' ' '\n' | grep '='; }
at_lines bench_open.out bench_throughput.out bench_data.out >results.kv
[ -f bench_data_tmpfs.out ] && at_lines bench_data_tmpfs.out | sed 's/^/tmpfs./' >>results.kv
kv() { sed -n "s/^$1=//p" results.kv | head -n1; }
md() { grep -v '^@ ' "$1.out"; }
verdict() { if ge "$1" "$2"; then echo met; else echo "**missed**"; fi; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
gcc=$(x86_64-w64-mingw32-gcc --version | head -n1)

# The footprint table and its target, from the @ fp lines.
fp_table() {
    awk '$1 == "@" && $2 == "fp" {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if (v["sections"] == 0 && v["clients"] == 0) { bp = v["private"]; bh = v["handles"] }
        printf "| %d | %d (%d seen) | %.2f | %+.2f | %d | %+d | %.2f | %.2f | %.2f | %.2f |\n",
            v["sections"], v["clients"], v["seen"], v["private"] / 1048576,
            (v["private"] - bp) / 1048576, v["handles"], v["handles"] - bh,
            v["ws"] / 1048576, v["rssanon_kb"] / 1024, v["rssshmem_kb"] / 1024,
            v["rssfile_kb"] / 1024
    }' footprint.out
}
fp_value() { # SECTIONS CLIENTS FIELD
    awk -v s="$1" -v c="$2" -v f="$3" '$1 == "@" && $2 == "fp" {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if (v["sections"] == s && v["clients"] == c) print v[f] }' footprint.out
}
fp1000=$(fp_value 1000 0 private)
fp1000_mib=$(awk -v b="$fp1000" 'BEGIN { printf "%.2f", b / 1048576 }')
fp1000_rss=$(awk -v k="$(fp_value 1000 0 rssanon_kb)" 'BEGIN { printf "%.2f", k / 1024 }')

open_ratio=$(kv open.ratio)
data_worst=$(kv data.worst)
scale4=$(kv tput.scale4)
keep64=$(kv tput.keep64)

# What the analysis quotes beyond the benches' own figures.
if ge "$(kv cpu.4.busy)" 1.9; then
    scale_reason="the machine's 2 cores were fully busy, so more clients could only queue for them"
elif ge "$(kv cpu.4.wineserver)" 85; then
    scale_reason="the wineserver, which every open visits several times, was close to a full core"
elif ge "$(kv cpu.4.service)" 85; then
    scale_reason="the service's single loop thread was close to a full core"
else
    scale_reason="no process was saturated and the machine had idle time, so the limit was the latency of the chain itself: each client waits for its reply before it asks again"
fi
fp0=$(fp_value 0 0 private)
{
    echo "calc.open_loop=$(calc "$(kv open.status.p50) - $(kv open.echo.p50)")"
    echo "calc.open_check=$(calc "$(kv open.lookup.p50) - $(kv open.status.p50)")"
    echo "calc.keep64_pct=$(calc "$keep64 * 100" 0)"
    echo "calc.scale_reason=$scale_reason"
    echo "calc.fp0=$(calc "$fp0 / 1048576" 2)"
    echo "calc.fp1000=$fp1000_mib"
    echo "calc.fp_per_section=$(calc "($fp1000 - $fp0) / 1000 / 1024" 2)"
    echo "calc.fp_per_client=$(calc "($(fp_value 0 256 private) - $fp0) / 256 / 1024" 2)"
    echo "verdict.open=$(verdict 2 "$open_ratio")"
    echo "verdict.data=$(verdict "$data_worst" 0.9)"
    echo "verdict.scale4=$(verdict "$scale4" 1.0001)"
    echo "verdict.keep64=$(verdict "$keep64" 0.5)"
    echo "verdict.fp=$(verdict 8 "$fp1000_mib")"
} >>results.kv

# fill TEMPLATE: {key} replaced by its value from results.kv ("n/a" if none).
fill() {
    awk 'NR == FNR { i = index($0, "="); k = substr($0, 1, i - 1)
                     if (!(k in v)) v[k] = substr($0, i + 1); next }
         { line = $0; out = ""
           while (match(line, /\{[A-Za-z0-9_.-]+\}/)) {
               k = substr(line, RSTART + 1, RLENGTH - 2)
               out = out substr(line, 1, RSTART - 1) ((k in v) ? v[k] : "n/a")
               line = substr(line, RSTART + RLENGTH)
           }
           print out line }' results.kv "$1"
}

mkdir -p "$(dirname "$out")"
{
cat <<EOF
# Performance

What the broker costs against the raw Win32 API, and what the data path
costs against memcpy. Every figure below comes from one run of
\`bash bench/run.sh\` (sources in [bench/](../bench/)); each is printed beside
its baseline from the same run. Rerun that command to refresh this file; do
not edit the figures by hand.

## Machine

| | |
|---|---|
| CPU | $cpu |
| cores | $(nproc) |
| memory | $mem |
| kernel | $(uname -sr) |
| Wine | $(if [ -n "$SHMB_RUNNER" ]; then "$SHMB_RUNNER" --version; else echo "none (native Windows)"; fi) |
| compiler | $gcc, CMake RelWithDebInfo (-O2), static |
| date | $started |
| load average (1, 5, 15 min) | before $load_before, after $load_after |
| cores busy just before the run (1 s sample, other work) | $busy_before of $(nproc) |
| other wineservers running at start | $((others > 0 ? others - 1 : 0)) (other prefixes' activity shares the cores) |
| Wine's temporary files (section backing) | ${wine_tmp}, $wine_tmp_fs |
| duration of the run | ${elapsed} s$([ "$quick_mode" -gt 0 ] && echo ", **quick mode: smoke figures only**") |

Everything runs under Wine on Linux, not on Windows: the latencies measure
Wine's named pipes and its wineserver as much as shmbroker. See
[What the figures mean](#what-the-figures-mean) before quoting them.

## Summary

| target | measured | verdict |
|---|---|---|
| open through the broker at most 2x (pipe round trip + raw open and map), p50 | **${open_ratio}x** | $(verdict 2 "$open_ratio") |
| issue 11's goal for the same ratio: at most 1.2x | **${open_ratio}x** | $(verdict 1.2 "$open_ratio") |
| issue 12's goal for the open by handle (\`delivery = handle\`), same floor: at most 1.2x | **$(kv open.handle_ratio)x** | $(verdict 1.2 "$(kv open.handle_ratio)") |
| warm section bandwidth at least 0.9x memcpy on private memory: median ratio over blocks of back-to-back samples, lowest over sizes and read/write | **${data_worst}x** | $(verdict "$data_worst" 0.9) |
| throughput grows from 1 to 4 clients | **${scale4}x** | $(verdict "$scale4" 1.0001) |
| throughput does not collapse at 64 clients (at least 0.5 of the best row) | **${keep64}** | $(verdict "$keep64" 0.5) |
| service private memory under 8 MiB at 1,000 sections (sections excluded) | **${fp1000_mib} MiB** ($(fp_value 1000 0 private_src); Linux RssAnon ${fp1000_rss} MiB) | $(verdict 8 "$fp1000_mib") |

Other headline ratios: shmb_connect against a raw pipe connect
**$(kv connect.ratio)x**; broker throughput against raw Win32 opens at 1
client **$(awk -v a="$(kv tput.1)" -v b="$(kv tput.raw.1)" 'BEGIN { printf "%.2f", a / b }')x**, at 64 clients
**$(awk -v a="$(kv tput.64)" -v b="$(kv tput.raw.64)" 'BEGIN { printf "%.2f", a / b }')x**.

## 1 and 2. Open and connect latency

One client, connected once, opens a 4 KiB section read-write and closes it
again, 10,000 times per variant. The variants run interleaved in 10 rounds.

The baseline's pipe round trip is shmb_lookup against a tiny echo server in
a child process of the bench. The bench sends the real OPEN request, and
the echo server answers it (and HELLO) with a canned reply of exactly the
real reply's size. The figure is therefore the SDK's own request path plus
one cross-process named-pipe round trip, and none of the service's work.
The echo server runs in a separate process because the real service does
too; a thread in the bench process is shown as well, for comparison. The
other option was a STATUS request to the real service. It is also shown,
but it includes the service's libuv loop, which is part of what the broker
costs, so as a baseline it would hide some of the broker's overhead. The
raw open uses the object name from shmb_lookup and the same rights as the
SDK.

EOF
md bench_open
cat <<EOF

## 3. Throughput

Each client is a thread with its own connection; all are connected before
the clock starts. "raw Win32" runs the same threads on OpenFileMappingW +
MapViewOfFile + UnmapViewOfFile + CloseHandle with no broker.

EOF
md bench_throughput
cat <<EOF

## 4. Data path

Each section is one of the service's pagefile-backed sections, opened
read-write through shmb_open. The private baseline is VirtualAlloc memory
of the same size. "Write" is a memcpy from a private source into the
region; "read" is a memcpy from the region into a private destination.
Both regions use the same source and destination buffers. Warm: every page
has been touched; each sample copies at least 8 MiB after one untimed
copy, the section and private memory alternate, and which of them goes
first alternates too. There are 40 samples per figure (16 from 64 MiB up).
The ratio is taken block by block. A block is two samples, one with the
section first and one with private memory first, and its ratio is the
geometric mean of the two. A slow spell of the machine hits both sides of
a block alike, and near the cache sizes the order (whichever copy runs
second finds its destination cached) cancels out. The median of those
ratios is what the target is judged on. The bandwidths' own medians,
p10 - p90 and best samples show how much the machine disturbed the run.
First touch is the first pass over a view that was just mapped, or over
memory that was just allocated, excluding the open or allocation itself;
the median of 31 fresh mappings up to 1 MiB, 11 up to 16 MiB, 5 above.

EOF
md bench_data
if [ -f bench_data_tmpfs.out ]; then
cat <<EOF

### The same, with Wine's section backing on tmpfs

A second run of bench_data against a wineserver started with
\`TMPDIR=$shm_dir\` (tmpfs), so that the files behind the sections live in
memory, as a pagefile-backed section does on Windows.

EOF
grep -v '^@ ' bench_data_tmpfs.out | sed 's/^### /#### /'
fi
cat <<EOF

## 5. Footprint of the service

The service holds N sections of 4 KiB and the bench holds M idle
connections (HELLO done). "seen" is the service's own count from STATUS.
Private memory, working set and handles are what Windows' APIs report for
the service's pid: private memory from GetProcessMemoryInfo's
$(fp_value 0 0 private_src), handles from $(fp_value 0 0 handles_src) (see
the caveats under Footprint below). Rss* is the Linux view of the same
process (/proc/PID/status), read at the same moment. The baseline is the
first row: the service with no section and no client.

| sections | idle clients | private MiB | vs baseline | handles | vs baseline | working set MiB | RssAnon MiB | RssShmem MiB | RssFile MiB |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
fp_table
fill "$top/bench/analysis.md"
} >"$out"
log "wrote $out (${elapsed} s of benchmarks)"
