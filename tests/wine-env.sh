#!/usr/bin/env bash
# ctest's fixture for the Wine environment that the Windows tests share
# (wine.start / wine.stop): the prefix and a persistent wineserver, made by
# wine_env in tools/lib.sh. On Windows it does nothing.
set -eu
. "$(dirname "$0")/../tools/lib.sh"
case "${1:-}" in
start | stop) wine_env "$1" ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
