#!/usr/bin/env bash
# Sets everything up and shows the product's main job under Wine: shmbrokerd
# runs in console mode with the example config (installer/shmbroker.conf),
# and shmbctl, a client built on the SDK, lists the sections, maps one,
# writes into it and reads the bytes back from another process, and is
# refused what the config does not grant; then a consumer and a producer
# (examples/channel.c) pass 1000 messages through a channel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SHMB_BIN=$shmb_build/windows/bin

bash "$shmb_top/tools/bootstrap.sh"
bash "$shmb_top/tools/build.sh" windows

wine_env start
# On the prefix's C: drive: the service checks every folder above its
# config, and a build tree under a folder Everyone may write (/tmp) would
# have it refused.
demo=$shmb_drive_c/shmbroker-demo
mkdir -p "$demo"
cd "$demo"
svc_log=$demo/service.log
cp "$shmb_top/installer/shmbroker.conf" shmbroker.conf

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
ctl() { win "$SHMB_BIN/shmbctl.exe" "$@"; }

# Under Wine the service runs as the desktop user, not LocalSystem, so the
# client is told which account to expect (on Windows the default is right).
SHMBROKER_SERVER_SID=$(win "$SHMB_BIN/shmbtest.exe" whoami | tr -d '\r')
export SHMBROKER_SERVER_SID

cleanup() {
    local rc=$? code=0
    if [ -n "$svc_pid" ]; then
        stop_gracefully "$svc_pid" || code=$?
        [ "$code" = 0 ] || { echo "shmbrokerd exited $code when stopped" >&2; rc=1; }
    fi
    echo; echo "--- service log ($svc_log) ---"; cat "$svc_log"
    wine_env stop
    exit $rc
}
trap cleanup EXIT
start_service shmbroker.conf

step "shmbctl list"
ctl list
step "shmbctl info telemetry"
ctl info telemetry
step "echo 'hello from shmbroker' | shmbctl write scratch"
echo 'hello from shmbroker' | ctl write scratch
step "shmbctl read scratch --length 21   (another process)"
ctl read scratch --length 21
step "echo x | shmbctl write telemetry   (read-only grant: refused, exit 3)"
rc=0; echo x | ctl write telemetry || rc=$?; echo "exit code $rc"
step "shmbctl info system-only   (granted to SYSTEM only: refused, exit 3)"
rc=0; ctl info system-only || rc=$?; echo "exit code $rc"
step "examples/channel.c: a consumer and a producer on the channel 'jobs'"
"${shmb_run[@]}" "$SHMB_BIN/example_channel.exe" consume jobs 1000 &
consumer=$!
win "$SHMB_BIN/example_channel.exe" produce jobs 1000
wait "$consumer"
step "echo 'one message' | shmbctl send jobs; shmbctl recv jobs"
echo 'one message' | ctl send jobs
ctl recv jobs --timeout 5000
step "shmbctl status"
ctl status
