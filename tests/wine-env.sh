#!/usr/bin/env bash
# Starts or stops the Wine environment that the Windows tests share: the
# prefix (created on first use, inside the build tree) and a persistent
# wineserver, so services and pipes outlive the test process that started
# them. Its output goes to /dev/null: a wineserver holding ctest's pipe would
# make ctest wait for it after every test.
set -eu
: "${WINEPREFIX:?WINEPREFIX must be set}"
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}

case "${1:-}" in
start)
    if [ ! -f "$WINEPREFIX/system.reg" ]; then
        mkdir -p "$WINEPREFIX"
        wineboot -i >/dev/null 2>&1 </dev/null
    fi
    # Start from no server at all: right after `wineboot -i` two
    # services.exe can answer for the new prefix (a service made through one
    # is unknown to the other), and `wineserver -p` does not make an already
    # running server persistent.
    wineserver -k >/dev/null 2>&1 </dev/null || true
    wineserver -w >/dev/null 2>&1 </dev/null || true
    wineserver -p >/dev/null 2>&1 </dev/null &
    # Proves the server and prefix answer before any test relies on them.
    wine cmd /c exit 0 >/dev/null 2>&1 </dev/null
    ;;
stop)
    wineserver -k >/dev/null 2>&1 || true
    wineserver -w >/dev/null 2>&1 || true
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
