#!/usr/bin/env bash
# docs/sdk.md shows the complete example program: its ```c block after the
# "## Example program" heading must be examples/example.c, byte for byte.
#   example_in_docs.sh SOURCE_DIR
set -euo pipefail
src=$1
block=$(awk '/^## Example program/ {in_section = 1; next}
             in_section && /^```c$/ {in_code = 1; next}
             in_code && /^```$/ {exit}
             in_code {print}' "$src/docs/sdk.md")
if [ "$block" != "$(cat "$src/examples/example.c")" ]; then
    echo "FAIL: the example in docs/sdk.md differs from examples/example.c:"
    diff -u "$src/examples/example.c" <(printf '%s\n' "$block") || true
    exit 1
fi
echo "ok: docs/sdk.md shows examples/example.c"
