#!/usr/bin/env bash
# docs/sdk.md shows the complete example programs: the first ```c block
# after the "## Example program" heading must be examples/example.c, and the
# first after the line that introduces examples/channel.c must be that file,
# byte for byte.
#   example_in_docs.sh SOURCE_DIR
set -euo pipefail
src=$1
status=0
# check PATTERN FILE: the ```c block after the first line matching PATTERN.
check() {
    local block
    block=$(awk -v pat="$1" '!in_section && $0 ~ pat {in_section = 1; next}
                 in_section && /^```c$/ {in_code = 1; next}
                 in_code && /^```$/ {exit}
                 in_code {print}' "$src/docs/sdk.md")
    if [ "$block" != "$(cat "$src/$2")" ]; then
        echo "FAIL: the program after '$1' in docs/sdk.md differs from $2:"
        diff -u "$src/$2" <(printf '%s\n' "$block") || true
        status=1
    else
        echo "ok: docs/sdk.md shows $2"
    fi
}
check '^## Example program' examples/example.c
check '^The complete program, as `examples/channel.c`' examples/channel.c
exit $status
