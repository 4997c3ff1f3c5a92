#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build/fuzz and runs
# each for SHMB_FUZZ_SECONDS (default 60) on a copy of its seed corpus, so
# that what the fuzzer adds never lands in the repository. Every committed
# seed is replayed first (the regression inputs among them). Exits non-zero
# on any crash, leak, timeout or sanitizer report and prints the path of the
# input that reproduces it. A target that ran fewer than SHMB_FUZZ_MIN_RUNS
# inputs (default 1,000 for each second of its budget; a working target
# runs thousands a second) fails too: a fuzzer that stops early or hardly
# runs proves nothing. The targets are the build's own list
# (tests/fuzz/CMakeLists.txt writes build/fuzz/fuzz-targets.txt). Ends with
# one line per target:
#   fuzz_frame: 60 s, 1234567 runs, no crash (cov 348, ft 1543)
# Reproduce a crash with: build/fuzz/bin/fuzz_frame PATH
set -uo pipefail
. "$(dirname "$0")/lib.sh"
top=$shmb_top
build=$shmb_build
tree=$build/fuzz
seconds=${SHMB_FUZZ_SECONDS:-60}
min_runs=${SHMB_FUZZ_MIN_RUNS:-$((seconds * 1000))}

log() { printf '[fuzz] %s\n' "$*" >&2; }

bash "$top/tools/bootstrap.sh" || exit 1

# clang alone is not enough: libFuzzer and clang's sanitizer runtimes come
# in Debian's libclang-rt-14-dev, which apt only recommends.
probe_runtime() {
    local dir
    dir=$(mktemp -d) || return 1
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        >"$dir/probe.c"
    clang -fsanitize=fuzzer,address,undefined "$dir/probe.c" -o "$dir/probe" \
        >"$dir/log" 2>&1
    local rc=$?
    [ $rc = 0 ] || cat "$dir/log" >&2
    rm -rf "$dir"
    return $rc
}
command -v clang >/dev/null || { log "clang not found (tools/bootstrap.sh installs it)"; exit 1; }
probe_runtime || { log "clang cannot link a libFuzzer target: install libclang-rt-14-dev"; exit 1; }
command -v llvm-symbolizer >/dev/null \
    || log "llvm-symbolizer not found (package llvm): reports will show bare addresses"

log "building in $tree"
mkdir -p "$build"
cmake -S "$top" -B "$tree" -DCMAKE_C_COMPILER=clang -DSHMB_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$tree.configure.log" 2>&1 \
    || { cat "$tree.configure.log" >&2; exit 1; }
mapfile -t targets <"$tree/fuzz-targets.txt" || { log "no $tree/fuzz-targets.txt"; exit 1; }
[ ${#targets[@]} -gt 0 ] || { log "the build lists no fuzz targets"; exit 1; }
cmake --build "$tree" -j"$(nproc)" --target "${targets[@]}" make_seeds \
    >"$tree.build.log" 2>&1 || { cat "$tree.build.log" >&2; exit 1; }

# The run corpus: the committed seeds plus a fresh set from the encoders
# (the same files unless the protocol changed and the seeds were not
# regenerated, which is worth a warning).
rm -rf "$tree/corpus" "$tree/artifacts" "$tree/logs"
mkdir -p "$tree/corpus" "$tree/logs"
for t in "${targets[@]}"; do
    kind=${t#fuzz_}
    [ -d "$top/tests/fuzz/corpus/$kind" ] || { log "$t: no seed corpus tests/fuzz/corpus/$kind"; exit 1; }
    cp -R "$top/tests/fuzz/corpus/$kind" "$tree/corpus/"
done
# gen_seeds KIND ARGS...: make_seeds' output for KIND, added to the run
# corpus, with a warning for each committed seed that differs from it.
gen_seeds() {
    local kind=$1 f committed; shift
    mkdir -p "$tree/corpus/gen-$kind"
    "$tree/bin/make_seeds" "$tree/corpus/gen-$kind" "$@" || { log "make_seeds $* failed"; exit 1; }
    for f in "$tree/corpus/gen-$kind"/*; do
        committed=$top/tests/fuzz/corpus/$kind/$(basename "$f")
        cmp -s "$f" "$committed" || log "warning: $committed differs from make_seeds' output; regenerate: $tree/bin/make_seeds tests/fuzz/corpus/$kind $*"
    done
    cp "$tree/corpus/gen-$kind"/* "$tree/corpus/$kind/"
}
gen_seeds frame
[ ! -d "$tree/corpus/ring" ] || gen_seeds ring ring

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
status=0
summary=()
for t in "${targets[@]}"; do
    kind=${t#fuzz_}
    bin=$tree/bin/$t
    out=$tree/logs/$t
    art=$tree/artifacts/$t/
    mkdir -p "$art"
    extra=()
    [ -f "$top/tests/fuzz/$kind.dict" ] && extra+=(-dict="$top/tests/fuzz/$kind.dict")

    # Replay: a committed seed that fails names itself.
    if ! "$bin" -detect_leaks=1 "$top"/tests/fuzz/corpus/"$kind"/* >"$out.replay.log" 2>&1; then
        seed=$(grep '^Running: ' "$out.replay.log" | tail -n1 | sed 's/^Running: //')
        tail -n 40 "$out.replay.log" >&2
        log "$t: committed seed fails: $seed (log: $out.replay.log)"
        summary+=("$t: replay of the committed corpus failed on $seed")
        status=1
        continue
    fi

    log "$t: fuzzing for $seconds s"
    "$bin" -max_total_time="$seconds" -detect_leaks=1 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$art" "${extra[@]}" \
        "$tree/corpus/$kind" >"$out.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out.log" | tail -n1)
    cov=$(grep -o 'cov: [0-9]*' "$out.log" | tail -n1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$out.log" | tail -n1 | cut -d' ' -f2)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out.log" | tail -n1)
    if [ $rc = 0 ] && [ "${runs:-0}" -lt "$min_runs" ]; then
        tail -n 20 "$out.log" >&2
        log "$t: ran only ${runs:-no} inputs in $seconds s, fewer than $min_runs (SHMB_FUZZ_MIN_RUNS); log: $out.log"
        summary+=("$t: TOO FEW RUNS: ${runs:-none} in $seconds s, at least $min_runs wanted")
        status=1
        continue
    fi
    if [ $rc = 0 ]; then
        summary+=("$t: $seconds s, ${runs:-?} runs, no crash (cov ${cov:-?}, ft ${ft:-?}, ${speed:-?} runs/s)")
        continue
    fi
    status=1
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$out.log" | tail -n1)
    grep -E -A 30 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|check failed' \
        "$out.log" | head -n 60 >&2
    log "$t: failed (exit $rc); log: $out.log"
    log "$t: reproducer: ${repro:-none written} (run: $bin ${repro:-})"
    summary+=("$t: CRASH after ${runs:-?} runs; reproducer ${repro:-none written}")
done

echo
printf '%s\n' "${summary[@]}"
exit $status
