#!/usr/bin/env bash
# The caller's token is taken once per connection at identification level
# (issue 11). Wine does not enforce impersonation levels (it lets a server
# impersonate before reading, and opens an anonymous client's token), so
# only Windows shows that:
#   - a client that connects with SECURITY_IDENTIFICATION (as the SDK does)
#     is identified and served: LIST answers status 0;
#   - a client that connects with SECURITY_ANONYMOUS cannot be identified
#     (OpenThreadToken fails): LIST answers an error, never the sections,
#     and the service logs the refusal with the process's account.
# The raw client is PowerShell's NamedPipeClientStream, which sets the
# level; the frame is a bare LIST (docs/protocol.md).
# Run it by hand, as any user, in MSYS2's or Git for Windows' bash, from
# the repository with a Windows build; it starts shmbrokerd in console mode
# (as this user) with a config in %TEMP%:
#
#   bash tests/windows-only/identification.sh
. "$(dirname "$0")/lib.sh"

name=shmb-wo-ident-$$
dir=$(cygpath -u "$TEMP")/shmb-wo-ident-$$
mkdir -p "$dir"
printf '[service]\npipe = \\\\.\\pipe\\%s\nnamespace = Local\nlog_level = debug\n\n[section wo]\nsize = 4KiB\nread = %s\n' \
    "$name" "$(whoami)" >"$dir/shmb.conf"
"$SHMB_BIN/shmbrokerd.exe" --console --config "$(cygpath -w "$dir/shmb.conf")" >"$dir/service.log" 2>&1 &
svc=$!
cleanup() { kill -INT "$svc" 2>/dev/null; wait "$svc" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 1 50); do grep -q "listening on" "$dir/service.log" && break; sleep 0.2; done

# list_status LEVEL: the status of a LIST sent at that impersonation level.
list_status() {
    powershell -NoProfile -Command "
\$c = New-Object System.IO.Pipes.NamedPipeClientStream('.', '$name',
  [System.IO.Pipes.PipeDirection]::InOut, [System.IO.Pipes.PipeOptions]::None,
  [System.Security.Principal.TokenImpersonationLevel]::$1)
\$c.Connect(5000)
[byte[]]\$f = 0x53,0x48,0x4D,0x42,1,2,0,0,1,0,0,0,0,0,0,0
\$c.Write(\$f, 0, 16); \$c.Flush()
\$b = New-Object byte[] 20; \$n = 0
while (\$n -lt 20) { \$r = \$c.Read(\$b, \$n, 20 - \$n); if (\$r -le 0) { break }; \$n += \$r }
if (\$n -lt 20) { 'short' } else { [BitConverter]::ToInt32(\$b, 16) }
" | tr -d '\r'
}

got=$(list_status Identification)
[ "$got" = 0 ] && ok "LIST at identification level: status 0" || bad "LIST at identification level: $got"
got=$(list_status Anonymous)
case $got in
0) bad "LIST at anonymous level was served (status 0)" ;;
*) ok "LIST at anonymous level refused (status $got)" ;;
esac
tr -d '\r' <"$dir/service.log" | grep -q "cannot identify client" &&
    ok "the service logged the unidentifiable client" ||
    bad "no 'cannot identify client' line in the log: $(tr -d '\r' <"$dir/service.log" | tail -n 5)"
exit "$failures"
