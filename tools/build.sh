#!/usr/bin/env bash
# Configures and builds both trees: build/windows (cross-built with
# mingw-w64; programs in build/windows/bin) and build/native (common/ and
# its tests on Linux). Run tools/bootstrap.sh first (test.sh and demo.sh do).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${SHMB_BUILD_DIR:-$top/build}
jobs=$(nproc)

cmake -S "$top" -B "$build/windows" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-x86_64.cmake" \
    -DSHMB_DEPS_PREFIX="$build/deps/win64" >/dev/null
cmake --build "$build/windows" -j"$jobs"

if [ "${SHMB_SKIP_NATIVE:-0}" != 1 ]; then
    cmake -S "$top" -B "$build/native" -DCMAKE_BUILD_TYPE=Debug >/dev/null
    cmake --build "$build/native" -j"$jobs"
fi
