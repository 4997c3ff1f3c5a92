#!/usr/bin/env bash
# Configures and builds the trees under build/ (or $SHMB_BUILD_DIR):
#   windows      cross-built with mingw-w64; programs in build/windows/bin
#                (under MSYS2's MINGW64 bash: built natively with its gcc,
#                Ninja and packages; docs/building.md)
#   native       common/ and its tests on Linux
#   native-asan  the same under AddressSanitizer and UBSan
#   native-tsan  the same with clang under ThreadSanitizer, for
#                tests/stress_ring.c (gcc's TSan refuses the seqlock's
#                fences); not built by default: ctest -R stress_ring in it
# Usage: tools/build.sh [windows] [native] [native-asan] [native-tsan]
#        (default: the first three)
# Run tools/bootstrap.sh first (test.sh and demo.sh do).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$shmb_top
build=$shmb_build
jobs=$(nproc)
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(windows native native-asan)

for tree in "${trees[@]}"; do
    case $tree in
    windows)
        if [ -n "$shmb_native_windows" ]; then
            args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
        else
            args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo
              -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-x86_64.cmake"
              -DSHMB_DEPS_PREFIX="$build/deps/win64")
        fi ;;
    native) args=(-DCMAKE_BUILD_TYPE=Debug) ;;
    native-asan) args=(-DCMAKE_BUILD_TYPE=Debug -DSHMB_SANITIZE=ON) ;;
    native-tsan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang
              -DCMAKE_C_FLAGS=-fsanitize=thread
              -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread) ;;
    *) echo "build.sh: unknown tree '$tree'" >&2; exit 2 ;;
    esac
    echo "[build] $tree" >&2
    cmake -S "$top" -B "$build/$tree" "${args[@]}" >/dev/null
    cmake --build "$build/$tree" -j"$jobs" >"$build/$tree.build.log" 2>&1 \
        || { cat "$build/$tree.build.log" >&2; exit 1; }
done
