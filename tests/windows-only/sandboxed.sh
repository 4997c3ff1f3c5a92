#!/usr/bin/env bash
# Sandboxed clients (issue 12) on real Windows. NOT RUN YET: written and
# checked for syntax on Linux (no Windows machine in the build
# environment); under Wine the same launcher is tested by
# tests/integration/sandbox_launch.sh, which shows why this script is
# needed (Wine neither lowers a token's integrity nor makes AppContainers).
#
# The sandboxed processes are started by sandbox_launch (built with the
# tests, next to shmbctl.exe): it reads the child's token back before the
# child runs and ends it (exit 126) unless it is at low integrity, or in
# the AppContainer, as asked. So every check below that expects success
# also proves where its client ran; the launcher's stderr line
# "integrity S-1-16-4096 (low)" / "appcontainer S-1-15-2-..." is printed
# once per mode.
#
# Low integrity (shmbctl run by `sandbox_launch low`), allow_sandboxed = yes:
#   - lowrw (write, integrity = low): writes bytes by name, reads them back,
#     and a medium shmbctl reads the same bytes;
#   - lowhandle (the same, delivery = handle): the same by handle;
#   - lowread (read only, integrity = low): read served; write refused by
#     the broker (exit 3), and by the kernel: OpenFileMappingW for write
#     on its object from the low process fails with error 5;
#   - mediumrw (write granted, NO integrity label): the broker's check with
#     the low token grants read only (a write exits 3), and the kernel's
#     no-write-up refuses the low process's own OpenFileMappingW for write
#     (error 5) although the DACL grants it; reading down works;
#   - sysonly (granted to SYSTEM only, integrity = low): refused (exit 3);
#   - bell (notify = yes, by handle): waits, woken by a medium ringer; rings;
#   - with allow_sandboxed = no the low process cannot use the pipe.
# AppContainer (shmbctl run by `sandbox_launch appcontainer`), Windows 8
# and later; the sections also grant ALL APPLICATION PACKAGES, since an
# AppContainer token is granted only what both its user and one of its
# AppContainer SIDs are granted. Expected to work, and checked:
#   - delivery = handle with integrity = low: write, read back, and a
#     medium shmbctl reads the bytes (the only way an AppContainer gets a
#     section: it cannot open the service's Local\ or Global\ names);
#   - delivery = handle read-only: read served, write refused (exit 3);
#   - ungranted (the user only, not ALL APPLICATION PACKAGES): refused;
#   - with allow_sandboxed = no it cannot use the pipe.
# Expected NOT to work, and checked as refused: a section by name (lowrw):
# the broker grants it, but the AppContainer's Local\ is its own
# namespace, so OpenFileMappingW does not find the object (shmbctl fails,
# exit non-zero). A notify = yes section delivered by handle: the low and
# the AppContainer client wait on its doorbell (its objects come by handle
# too) and are woken by a medium ringer, and ring it.
#
# The AppContainer child can read only folders that grant ALL APPLICATION
# PACKAGES: the script copies shmbctl.exe and shmbtest.exe into a folder
# of its own under %TEMP%, grants that folder
# (icacls DIR /grant *S-1-15-2-1:(OI)(CI)RX) and runs the children there.
# The profile (shmb.sandboxed.PID) is created and deleted by the launcher.
#
# Run it by hand, as any (non-elevated) user, in MSYS2's or Git for
# Windows' bash, from the repository with a Windows build:
#
#   bash tests/windows-only/sandboxed.sh
. "$(dirname "$0")/lib.sh"

me=$("$SHMB_BIN/shmbtest.exe" whoami | tr -d '\r')
dir=$(cygpath -u "$TEMP")/shmb-wo-sandbox-$$
bin=$dir/bin
mkdir -p "$bin"
cp "$SHMB_BIN/shmbctl.exe" "$SHMB_BIN/shmbtest.exe" "$SHMB_BIN/sandbox_launch.exe" "$bin/"
icacls "$(cygpath -w "$bin")" /grant '*S-1-15-2-1:(OI)(CI)RX' >/dev/null ||
    { echo "icacls could not grant ALL APPLICATION PACKAGES the bin folder" >&2; exit 1; }
export SHMBROKER_SERVER_SID=$me
wbin=$(cygpath -w "$bin")
container=shmb.sandboxed.$$

# config FILE PIPE SANDBOXED
config() {
    cat >"$1" <<EOF2
[service]
pipe = \\\\.\\pipe\\$2
namespace = Local
log_level = debug
allow_sandboxed = $3

[section lowrw]
size = 4KiB
write = $me, ALL APPLICATION PACKAGES
integrity = low

[section lowhandle]
size = 4KiB
write = $me, ALL APPLICATION PACKAGES
integrity = low
delivery = handle

[section lowread]
size = 4KiB
read = $me, ALL APPLICATION PACKAGES
integrity = low

[section readhandle]
size = 4KiB
read = $me, ALL APPLICATION PACKAGES
integrity = low
delivery = handle

[section mediumrw]
size = 4KiB
write = $me, ALL APPLICATION PACKAGES

[section useronly]
size = 4KiB
write = $me
integrity = low
delivery = handle

[section sysonly]
size = 4KiB
sddl = D:P(A;;GA;;;SY)
integrity = low

[section bell]
size = 4KiB
write = $me, ALL APPLICATION PACKAGES
integrity = low
delivery = handle
notify = yes
EOF2
}

svc=
start() {
    "$SHMB_BIN/shmbrokerd.exe" --console --config "$(cygpath -w "$1")" >"$dir/service.log" 2>&1 &
    svc=$!
    for _ in $(seq 1 50); do grep -q "listening on" "$dir/service.log" && return 0; sleep 0.2; done
    echo "the service did not start: $(tr -d '\r' <"$dir/service.log")" >&2
    return 1
}
stop() { [ -z "$svc" ] || { kill -INT "$svc" 2>/dev/null; wait "$svc" 2>/dev/null; svc=; }; }
cleanup() { stop; rm -rf "$dir"; }
trap cleanup EXIT

# Clients: MODE is low or ac; stdout is the client's, the launcher's
# stderr goes to $dir/launch.err (shown on failures). They run in $bin,
# which the AppContainer may read.
launched() {
    local mode=$1; shift
    case $mode in
    low) (cd "$bin" && "$bin/sandbox_launch.exe" low -- "$wbin\\$1" "${@:2}") ;;
    ac) (cd "$bin" && "$bin/sandbox_launch.exe" appcontainer "$container" -- "$wbin\\$1" "${@:2}") ;;
    esac 2>"$dir/launch.err"
}
sctl() { local mode=$1; shift; launched "$mode" shmbctl.exe --pipe "\\\\.\\pipe\\$pipe" "$@"; }
medium() { "$SHMB_BIN/shmbctl.exe" --pipe "\\\\.\\pipe\\$pipe" "$@"; }
said() { tr -d '\r' <"$dir/launch.err" | sed 's/^/  /'; }
# bytes_of NAME N: the first N bytes of a section, read at medium.
bytes_of() { medium read "$1" --length "$2" | tr -d '\0'; }
# object_of NAME: the section's kernel object name (info, at medium).
object_of() { medium info "$1" | tr -d '\r' | sed -n 's/^object=//p'; }

# write_check MODE NAME TEXT WHAT: MODE writes TEXT to NAME, reads it back
# itself, and a medium client reads the same bytes.
write_check() {
    local got
    if ! printf '%s' "$3" | sctl "$1" write "$2"; then
        bad "$4: the write failed"; said; return
    fi
    got=$(sctl "$1" read "$2" --length ${#3} | tr -d '\0\r')
    [ "$got" = "$3" ] || { bad "$4: read back '$got', wrote '$3'"; said; return; }
    got=$(bytes_of "$2" ${#3})
    [ "$got" = "$3" ] && ok "$4: written, read back, and the same bytes seen at medium" ||
        bad "$4: a medium client reads '$got'"
}

# refused MODE WANT WHAT CMD...: the sandboxed shmbctl CMD must exit WANT
# ("nonzero" for any failure).
refused() {
    local mode=$1 want=$2 what=$3 rc=0; shift 3
    printf x | sctl "$mode" "$@" >/dev/null 2>&1 || rc=$?
    if [ "$want" = nonzero ] && [ "$rc" != 0 ] && [ "$rc" != 126 ] && [ "$rc" != 125 ]; then
        ok "$what (exit $rc)"
    elif [ "$rc" = "$want" ]; then
        ok "$what (exit $rc)"
    else
        bad "$what: exit $rc, expected $want"; said
    fi
}

# woken MODE WHAT: MODE waits on bell's doorbell (by handle) while a
# medium client rings it every half second: the wait must end rung.
woken() {
    local rc=0 waiter
    sctl "$1" wait bell --timeout 15000 >/dev/null &
    waiter=$!
    for _ in $(seq 1 30); do
        kill -0 "$waiter" 2>/dev/null || break
        medium notify bell >/dev/null 2>&1
        sleep 0.5
    done
    wait "$waiter" || rc=$?
    [ "$rc" = 0 ] && ok "$2: a wait on the doorbell (by handle) is woken by a medium ringer" ||
        { bad "$2: the wait exited $rc (6: never woken)"; said; }
    sctl "$1" notify bell && ok "$2: rings the doorbell" || { bad "$2: cannot ring"; said; }
}

# kernel_refuses_write NAME WHAT: the low process's own OpenFileMappingW
# for write on NAME's object fails with error 5; for read it succeeds.
kernel_refuses_write() {
    local object got
    object=$(object_of "$1")
    [ -n "$object" ] || { bad "$2: no object name for $1"; return; }
    got=$(launched low shmbtest.exe map "$object" write | tr -d '\r')
    [ "$got" = "error 5" ] && ok "$2: the kernel refuses the low process a write view (error 5)" ||
        { bad "$2: the low process's own write open gave '$got'"; said; }
    got=$(launched low shmbtest.exe map "$object" read | tr -d '\r')
    [ "$got" = ok ] && ok "$2: the kernel lets the low process read it" ||
        { bad "$2: the low process's own read open gave '$got'"; said; }
}

pipe=shmb-wo-sandbox-$$
config "$dir/on.conf" "$pipe" yes
start "$dir/on.conf" || exit 1

# --- low integrity ------------------------------------------------------
if sctl low list >/dev/null; then
    ok "low: connects and lists with allow_sandboxed = yes; $(tr -d '\r' <"$dir/launch.err" | grep -o 'integrity S-1-16-[0-9]* ([a-z]*)' | head -n1)"
else
    bad "low: cannot list (exit $?)"; said
fi
write_check low lowrw "low-by-name" "low, lowrw (integrity = low, by name)"
write_check low lowhandle "low-by-handle" "low, lowhandle (integrity = low, by handle)"
sctl low read lowread --length 4 >/dev/null && ok "low, lowread: read served" ||
    { bad "low, lowread: read refused"; said; }
refused low 3 "low, lowread: write refused by the broker" write lowread
kernel_refuses_write lowread "low, lowread (read-only grant)"
sctl low read mediumrw --length 4 >/dev/null && ok "low, mediumrw: reading down is served" ||
    { bad "low, mediumrw: read refused"; said; }
refused low 3 "low, mediumrw: no label, so the broker's check with the low token grants read only; the write is refused" write mediumrw
kernel_refuses_write mediumrw "low, mediumrw (write granted by the DACL, no integrity = low: no-write-up)"
refused low 3 "low, sysonly: a low label lets no one in" read sysonly
woken low "low, bell (notify = yes, delivery = handle, integrity = low)"

# --- AppContainer ---------------------------------------------------------
rc=0
have_ac=
launched ac shmbtest.exe whoami >/dev/null || rc=$?
if grep -qF "has no CreateAppContainerProfile" "$dir/launch.err"; then
    echo "skip: this Windows cannot make AppContainers (Windows 8 and later can)"
elif [ "$rc" != 0 ]; then
    bad "ac: the launcher could not run a program in an AppContainer (exit $rc)"; said
else
    have_ac=yes
    ok "ac: a program runs in the AppContainer; $(tr -d '\r' <"$dir/launch.err" | grep -o 'appcontainer S-1-15-2-[0-9-]*' | head -n1)"
    if sctl ac list >/dev/null; then
        ok "ac: connects and lists with allow_sandboxed = yes"
    else
        bad "ac: cannot list (exit $?)"; said
    fi
    write_check ac lowhandle "ac-by-handle" "ac, lowhandle (by handle, integrity = low)"
    sctl ac read readhandle --length 4 >/dev/null && ok "ac, readhandle: read served by handle" ||
        { bad "ac, readhandle: read refused"; said; }
    refused ac 3 "ac, readhandle: write refused" write readhandle
    refused ac 3 "ac, useronly: a grant to the user alone does not reach its AppContainer" read useronly
    woken ac "ac, bell (notify = yes, delivery = handle, integrity = low)"
    refused ac nonzero "ac, lowrw by name: expected to fail, the AppContainer's Local\\ is its own namespace" read lowrw --length 4
fi
stop

# --- without allow_sandboxed ------------------------------------------------
pipe=shmb-wo-nosandbox-$$
config "$dir/off.conf" "$pipe" no
start "$dir/off.conf" || exit 1
medium list >/dev/null 2>&1 && ok "without allow_sandboxed a medium client is served" || bad "medium list failed"
refused low nonzero "without allow_sandboxed the low client cannot use the pipe" list
[ -z "$have_ac" ] ||
    refused ac nonzero "without allow_sandboxed the AppContainer client cannot use the pipe" list
stop
exit "$failures"
