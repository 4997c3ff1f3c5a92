#!/usr/bin/env bash
# Installs what the build needs on a Debian 12 machine and cross-builds the
# Windows dependencies (libuv, Check) from Debian's source packages into a
# prefix inside the build tree. Idempotent: every step is skipped when its
# result is already there, so the demo and test commands can always call it.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
top=$shmb_top
build=$shmb_build
deps=$build/deps
prefix=$deps/win64

log() { printf '[bootstrap] %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

packages=(cmake make pkg-config gcc clang libclang-rt-14-dev llvm mingw-w64 wine wine64 nsis
          libuv1-dev check dpkg-dev ca-certificates)

install_packages() {
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# A deb-src twin of the machine's own Debian source list: the registry's
# address is read from the machine, never written in this repository.
enable_deb_src() {
    local src=/etc/apt/sources.list.d/debian.sources
    local twin=/etc/apt/sources.list.d/shmbroker-deb-src.sources
    if grep -qs '^Types:.*deb-src' /etc/apt/sources.list.d/*.sources 2>/dev/null; then
        return 0
    fi
    if [ -f "$src" ]; then
        log "adding deb-src entries from $src"
        sed 's/^Types: deb$/Types: deb-src/' "$src" | as_root tee "$twin" >/dev/null
    elif [ -f /etc/apt/sources.list ]; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | as_root tee /etc/apt/sources.list.d/shmbroker-deb-src.list >/dev/null
    else
        log "no Debian source list found; cannot enable deb-src"; exit 1
    fi
    as_root apt-get update -q
}

fetch_sources() {
    mkdir -p "$deps/src"
    if ls "$deps"/src/libuv1_*.dsc >/dev/null 2>&1 && ls "$deps"/src/check_*.dsc >/dev/null 2>&1; then
        return 0
    fi
    enable_deb_src
    log "downloading Debian source packages libuv1 and check"
    # apt's sandbox user cannot write into a root-owned build tree; that
    # warning is harmless, the files are verified against the signed index.
    (cd "$deps/src" && apt-get source --download-only libuv1 check >/dev/null 2>&1) \
        || { log "apt-get source libuv1 check failed"; exit 1; }
}

# cross_build NAME DSC-GLOB CMAKE-ARGS...
# dpkg-source unpacks upstream's tarball and applies Debian's patches (the
# security fixes among them), so the Windows build matches Debian's library.
cross_build() {
    local name=$1 glob=$2; shift 2
    local stamp=$prefix/.$name-built
    [ -f "$stamp" ] && return 0
    local dsc
    dsc=$(ls "$deps"/src/$glob | head -n1)
    log "cross-building $name from $(basename "$dsc")"
    rm -rf "$deps/work/$name"
    mkdir -p "$deps/work"
    dpkg-source --no-check -x "$dsc" "$deps/work/$name" >/dev/null
    cmake -S "$deps/work/$name" -B "$deps/work/$name/_build" \
        -DCMAKE_TOOLCHAIN_FILE="$top/cmake/mingw-w64-x86_64.cmake" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DBUILD_SHARED_LIBS=OFF "$@" >"$deps/work/$name.log" 2>&1 \
        || { tail -n 40 "$deps/work/$name.log" >&2; exit 1; }
    cmake --build "$deps/work/$name/_build" -j"$(nproc)" >>"$deps/work/$name.log" 2>&1 \
        || { tail -n 40 "$deps/work/$name.log" >&2; exit 1; }
    cmake --install "$deps/work/$name/_build" >>"$deps/work/$name.log" 2>&1 \
        || { tail -n 40 "$deps/work/$name.log" >&2; exit 1; }
    touch "$stamp"
}

# Under MSYS2's MINGW64 bash the dependencies are MSYS2's own packages
# (docs/building.md); there is nothing to cross-build.
msys2_packages=(gcc cmake ninja libuv check nsis pkgconf)
if [ -n "$shmb_native_windows" ]; then
    command -v pacman >/dev/null || { log "no pacman: run this in MSYS2's MINGW64 shell"; exit 1; }
    log "installing MSYS2 packages: ${msys2_packages[*]}"
    pacman -S --needed --noconfirm "${msys2_packages[@]/#/${MINGW_PACKAGE_PREFIX:-mingw-w64-x86_64}-}" \
        || { log "pacman failed"; exit 1; }
    exit 0
fi

install_packages
fetch_sources
mkdir -p "$prefix"
cross_build libuv 'libuv1_*.dsc' -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF
cross_build check 'check_*.dsc' -DCHECK_ENABLE_TESTS=OFF -DCHECK_ENABLE_SUBUNIT=OFF \
    -DENABLE_MEMORY_LEAKING_TESTS=OFF
log "dependencies ready in $prefix"
