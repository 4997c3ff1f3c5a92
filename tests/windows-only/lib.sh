# Sourced by the scripts in tests/windows-only/: what only real Windows can
# show (docs/reliability.md lists each script with its finding). They are
# run by hand in MSYS2's or Git for Windows' bash on a Windows machine,
# never by ctest (ctest only checks their syntax: windows_only.syntax).
# Each step prints ok: or FAIL:; a script's exit status is its number of
# failures. SHMB_BIN names the folder of shmbrokerd.exe, shmbctl.exe,
# shmbtest.exe and sandbox_launch.exe (default: build/windows/bin of this
# tree).
set -u
export MSYS2_ARG_CONV_EXCL='*' MSYS_NO_PATHCONV=1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SHMB_BIN=${SHMB_BIN:-$here/../../build/windows/bin}
failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

case $(uname -s) in
MINGW* | MSYS* | CYGWIN*) ;;
*) echo "$(basename "$0"): run this on Windows (MSYS2 or Git for Windows bash); see the top of the script" >&2; exit 2 ;;
esac

# is_admin: whether this shell runs elevated.
is_admin() { net session >/dev/null 2>&1; }

# shmbtest ARGS...: the test helper, Windows line ends removed.
shmbtest() { "$SHMB_BIN/shmbtest.exe" "$@" | tr -d '\r'; }

# refused_naming CONFIG TEXT: shmbrokerd in console mode must refuse
# CONFIG (exit 1 within 30 s) with TEXT in its output.
refused_naming() {
    local out rc=0
    out=$(timeout 30 "$SHMB_BIN/shmbrokerd.exe" --console --config "$1" 2>&1) || rc=$?
    [ "$rc" = 1 ] && grep -qF -- "$2" <<<"$out" && return 0
    echo "  shmbrokerd exited $rc: $out" | tr -d '\r'
    return 1
}

# serves CONFIG PIPE: shmbrokerd in console mode starts on CONFIG and
# answers shmbctl list; stopped again.
serves() {
    local pid rc=1
    "$SHMB_BIN/shmbrokerd.exe" --console --config "$1" >"$TEMP/shmb-wo.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do
        if "$SHMB_BIN/shmbctl.exe" --pipe "$2" list >/dev/null 2>&1; then rc=0; break; fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    [ "$rc" = 0 ] || tr -d '\r' <"$TEMP/shmb-wo.log" | sed 's/^/  /'
    return $rc
}

# winpath_of UNIX-PATH: the Windows form.
winpath_of() { cygpath -w "$1"; }
