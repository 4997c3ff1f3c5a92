#!/usr/bin/env bash
# Sets everything up and shows the product's main job under Wine: shmbrokerd
# runs in console mode with the example config (installer/shmbroker.conf),
# and shmbctl, a client built on the SDK, lists the sections, maps one,
# writes into it and reads the bytes back from another process, and is
# refused what the config does not grant.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${SHMB_BUILD_DIR:-$top/build}
bin=$build/windows/bin

bash "$top/tools/bootstrap.sh"
bash "$top/tools/build.sh" windows

export WINEPREFIX=$build/windows/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
bash "$top/tests/wine-env.sh" start
demo=$build/demo
mkdir -p "$demo"
cd "$demo"
cp "$top/installer/shmbroker.conf" shmbroker.conf

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
ctl() { wine "$bin/shmbctl.exe" "$@"; }

# Under Wine the service runs as the desktop user, not LocalSystem, so the
# client is told which account to expect (on Windows the default is right).
SHMBROKER_SERVER_SID=$(wine "$bin/shmbtest.exe" whoami | tr -d '\r')
export SHMBROKER_SERVER_SID

wine "$bin/shmbrokerd.exe" --console --config shmbroker.conf 2>service.log &
svc=$!
cleanup() {
    kill -INT "$svc" 2>/dev/null || true
    wait "$svc" 2>/dev/null || true
    echo; echo "--- service log (build/demo/service.log) ---"; cat service.log
    bash "$top/tests/wine-env.sh" stop
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    grep -q "listening on" service.log 2>/dev/null && break
    sleep 0.1
done

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
step "shmbctl status"
ctl status
