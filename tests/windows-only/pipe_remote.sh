#!/usr/bin/env bash
# The control pipe refuses remote clients (PIPE_REJECT_REMOTE_CLIENTS,
# design.md rule 4). Wine has no SMB, so only two Windows machines show it.
# Run it by hand on a SECOND machine, in MSYS2's or Git for Windows' bash,
# as an account that may reach HOST over SMB (an administrator of HOST, so
# that the pipe's descriptor would otherwise let it in), with the service
# installed and running on HOST:
#
#   bash tests/windows-only/pipe_remote.sh HOST [PIPE-NAME]
#
# First the control: `net use \\HOST\IPC$` must succeed (SMB reachable and
# this account accepted), or the refusal below would prove nothing. Then a
# raw NamedPipeClientStream to \\HOST\pipe\shmbroker (shmbctl itself
# refuses remote names before connecting, tests/windows-only/sdk_trust.sh):
# the connection must fail.
. "$(dirname "$0")/lib.sh"
host=${1:?usage: pipe_remote.sh HOST [PIPE-NAME]}
pipe=${2:-shmbroker}

if net use "\\\\$host\\IPC\$" >/dev/null 2>&1; then
    ok "control: \\\\$host\\IPC\$ is reachable from here"
else
    bad "control: net use \\\\$host\\IPC\$ failed; nothing below would mean anything"
    exit "$failures"
fi
out=$(powershell -NoProfile -Command "
try {
  \$c = New-Object System.IO.Pipes.NamedPipeClientStream('$host', '$pipe')
  \$c.Connect(5000); 'connected'
} catch { 'refused: ' + \$_.Exception.Message }" | tr -d '\r')
case $out in
refused:*) ok "\\\\$host\\pipe\\$pipe from this machine: $out" ;;
*) bad "\\\\$host\\pipe\\$pipe accepted a remote client: $out" ;;
esac
net use "\\\\$host\\IPC\$" /delete >/dev/null 2>&1
exit "$failures"
