#!/usr/bin/env bash
# The DLL exports exactly the documented API: the export table of
# libshmbroker.dll (objdump -p), client/shmbroker.def and the SHMB_EXTERN
# functions of shmbroker.h must name the same functions, and docs/sdk.md
# must have a section for each one.
#   exports.sh OBJDUMP DLL SOURCE_DIR
set -euo pipefail
objdump=$1 dll=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$objdump" -p "$dll" | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' |
    sed -n 's/^[[:space:]]*\[ *[0-9]*\] \([A-Za-z0-9_]*\).*/\1/p' | sort >"$tmp/dll"
sed -n '/^EXPORTS/,$p' "$src/client/shmbroker.def" | sed -n 's/^[[:space:]]\{1,\}\([A-Za-z0-9_]\{1,\}\).*/\1/p' | sort >"$tmp/def"
tr '\n' ' ' <"$src/client/include/shmbroker.h" | grep -o 'SHMB_EXTERN[^;(#]*shmb_[a-z_]*[[:space:]]*(' |
    sed 's/.*[^A-Za-z0-9_]\([A-Za-z0-9_]*\)[[:space:]]*($/\1/' | sort >"$tmp/header"
sed -n 's/^### `\(shmb_[a-z_]*\)`.*/\1/p' "$src/docs/sdk.md" | sort -u >"$tmp/docs"

status=0
[ -s "$tmp/dll" ] || { echo "FAIL: no export table in $dll"; exit 1; }
for other in def header docs; do
    if ! diff -u "$tmp/dll" "$tmp/$other" >"$tmp/diff"; then
        echo "FAIL: the DLL's exports and the $other differ (- DLL, + $other):"
        cat "$tmp/diff"
        status=1
    fi
done
[ $status = 0 ] && echo "ok: $(wc -l <"$tmp/dll") functions exported, declared, listed in shmbroker.def and documented"
exit $status
