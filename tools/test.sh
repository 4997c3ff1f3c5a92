#!/usr/bin/env bash
# Sets everything up (packages, Windows dependencies, Wine prefix) and runs
# the whole test suite: the native Check suites, the same under ASan/UBSan,
# the two libFuzzer targets for SHMB_FUZZ_SECONDS each (default 60), and the
# Windows suites and integration tests under Wine. Ends with one
# "N passed, N failed" line over all of them (a fuzz target counts as one);
# exits non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${SHMB_BUILD_DIR:-$top/build}

bash "$top/tools/bootstrap.sh" || exit 1
bash "$top/tools/build.sh" windows native native-asan || exit 1

passed=0 failed=0 status=0
run_ctest() {
    local tree=$1; shift
    local log="$build/$tree.ctest.log"
    echo "== tests: $tree"
    (cd "$build/$tree" && "$@" ctest --output-on-failure -j2 --timeout 300) 2>&1 | tee "$log"
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
    local line
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n1)
    if [ -z "$line" ]; then
        echo "no ctest summary for $tree" >&2
        status=1
        return
    fi
    local f t
    f=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    t=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + t - f))
    failed=$((failed + f))
}

run_ctest native
# Check forks each test natively; under ASan run them in-process so that a
# leak or overflow report reaches the runner's exit status.
run_ctest native-asan env CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_ctest windows

echo "== fuzz"
bash "$top/tools/fuzz.sh" 2>&1 | tee "$build/fuzz.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
fuzz_ok=$(grep -c '^fuzz_[a-z]*: .* no crash' "$build/fuzz.log")
passed=$((passed + fuzz_ok))
failed=$((failed + 2 - fuzz_ok))

echo
echo "$passed passed, $failed failed"
exit $status
