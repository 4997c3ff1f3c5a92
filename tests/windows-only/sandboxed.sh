#!/usr/bin/env bash
# Sandboxed clients (issue 12). Wine enforces no integrity levels, so only
# Windows shows that a low-integrity process gets exactly what it was
# granted, and that the control pipe lets it in only with
# allow_sandboxed = yes:
#   - with allow_sandboxed = yes, a low-integrity shmbctl connects; it
#     reads a section granted to it without `integrity` (reading down is
#     allowed), and writes a section with `integrity = low`, by name and by
#     handle (delivery = handle); the bytes are read back at medium;
#   - it cannot write a section granted to it without `integrity = low`:
#     the broker's AccessCheck with its low token grants read only (exit 3),
#     and the kernel refuses the write view;
#   - a section that does not grant its account stays refused, label or not;
#   - without allow_sandboxed, the same low process cannot use the pipe
#     (which also shows that the copy does run at low integrity).
# The low process is a copy of shmbctl.exe whose file carries a low
# mandatory label (icacls /setintegritylevel low): Windows starts a
# program at the lower of its parent's and its file's integrity.
# An AppContainer process is not scripted: starting one needs a launcher
# (CreateAppContainerProfile and PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES)
# that the repository does not have yet; check_sandbox pins the pipe's
# ALL APPLICATION PACKAGES entry and the grants' AppContainer SIDs.
# Run it by hand, as any (non-elevated) user, in MSYS2's or Git for
# Windows' bash, from the repository with a Windows build:
#
#   bash tests/windows-only/sandboxed.sh
. "$(dirname "$0")/lib.sh"

me=$("$SHMB_BIN/shmbtest.exe" whoami | tr -d '\r')
dir=$(cygpath -u "$TEMP")/shmb-wo-sandbox-$$
mkdir -p "$dir/low"
cp "$SHMB_BIN/shmbctl.exe" "$dir/low/shmbctl-low.exe"
icacls "$(cygpath -w "$dir/low/shmbctl-low.exe")" /setintegritylevel low >/dev/null ||
    { echo "icacls /setintegritylevel low failed" >&2; exit 1; }
export SHMBROKER_SERVER_SID=$me

# config FILE PIPE SANDBOXED
config() {
    cat >"$1" <<EOF2
[service]
pipe = \\\\.\\pipe\\$2
namespace = Local
log_level = debug
allow_sandboxed = $3

[section readable]
size = 4KiB
read = $me

[section lowrw]
size = 4KiB
write = $me
integrity = low

[section lowhandle]
size = 4KiB
write = $me
integrity = low
delivery = handle

[section mediumrw]
size = 4KiB
write = $me

[section sysonly]
size = 4KiB
sddl = D:P(A;;GA;;;SY)
integrity = low
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

low() { "$dir/low/shmbctl-low.exe" --pipe "\\\\.\\pipe\\$pipe" "$@"; }
medium() { "$SHMB_BIN/shmbctl.exe" --pipe "\\\\.\\pipe\\$pipe" "$@"; }

pipe=shmb-wo-sandbox-$$
config "$dir/on.conf" "$pipe" yes
start "$dir/on.conf" || exit 1
if low list >"$dir/list.out" 2>"$dir/list.err"; then
    ok "allow_sandboxed = yes: a low-integrity shmbctl connects and lists"
else
    bad "allow_sandboxed = yes: the low shmbctl cannot list: $(cat "$dir/list.err")"
fi
low read readable >/dev/null 2>&1 && ok "low reads a section granted to it without integrity" ||
    bad "low cannot read 'readable'"
printf 'low-wrote-this' | low write lowrw && [ "$(medium read lowrw --length 14 | tr -d '\0')" = low-wrote-this ] &&
    ok "low writes an integrity = low section by name; read back at medium" ||
    bad "low could not write 'lowrw' (or the bytes differ)"
printf 'low-by-handle' | low write lowhandle && [ "$(medium read lowhandle --length 13 | tr -d '\0')" = low-by-handle ] &&
    ok "low writes an integrity = low section delivered by handle; read back at medium" ||
    bad "low could not write 'lowhandle' (or the bytes differ)"
rc=0; printf x | low write mediumrw 2>"$dir/w.err" || rc=$?
[ "$rc" = 3 ] && ok "low cannot write a section without integrity = low (exit 3: the broker's check with the low token grants read only)" ||
    bad "low writing 'mediumrw' exited $rc: $(cat "$dir/w.err")"
rc=0; low read sysonly >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] && ok "a low label lets no one in: sysonly stays refused (exit 3)" || bad "low reading sysonly exited $rc"
stop

pipe=shmb-wo-nosandbox-$$
config "$dir/off.conf" "$pipe" no
start "$dir/off.conf" || exit 1
medium list >/dev/null 2>&1 && ok "without allow_sandboxed a medium client is served" || bad "medium list failed"
rc=0; low list >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] && ok "without allow_sandboxed the low client cannot use the pipe (exit $rc)" ||
    bad "without allow_sandboxed the low client was served"
stop
exit "$failures"
