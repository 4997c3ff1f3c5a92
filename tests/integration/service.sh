#!/usr/bin/env bash
# shmbrokerd under the service control manager, driven by Wine's sc.exe:
# create, start (RUNNING), query, a PARAMCHANGE reload (sent with
# ControlService, as Wine's sc.exe has no `control`), stop (STOPPED, data
# flushed, log_file written), restart (data still there), SHUTDOWN (sent
# with ControlService where the system allows it: Wine does, Windows does
# not), a config that does not load (STOPPED with service-specific exit
# code 1), delete. The flushes are observed, not inferred from the data:
# under Wine a write through a view lands in the file at once, so the
# file's bytes prove nothing about a flush (docs/reliability.md). STATUS's
# flushes must grow within flush_interval, and the log_file must say
# "flushed (stop)" and "flushed (shutdown)".
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID
name="shmbtest-$$"
root="$shmb_drive_c/shmbtest/$$"
winroot="C:\\shmbtest\\$$"
mkdir -p "$root"
cp "$SHMB_BIN/shmbrokerd.exe" "$root/"

sc() { win sc "$@" | tr -d '\r'; }
state_is() { sc query "$name" | grep -q "STATE.*$1"; }
cleanup_service() {
    sc stop "$name" >/dev/null 2>&1 || true
    wait_for 20 state_is STOPPED || true
    sc delete "$name" >/dev/null 2>&1 || true
    rm -rf "$root"
}
at_exit cleanup_service

config() {
    write_config "$root/shmb.conf" <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_file = $winroot\\shmbroker.log

[section persist]
size = 64KiB
backing = file:$winroot\\data.bin
flush_interval = 1s
write = $me
$1
EOF2
}
config ""

sc create "$name" binPath= "$winroot\\shmbrokerd.exe --config $winroot\\shmb.conf" start= demand >create.out \
    || fail "sc create: $(cat create.out)"
sc start "$name" >start.out || fail "sc start: $(cat start.out)"
wait_for 20 state_is RUNNING || fail "not RUNNING: $(sc query "$name")"
pass "sc create and sc start reach RUNNING"

printf 'service data' | expect_exit 0 ctl write persist
expect_exit 0 ctl list
grep -q "^persist" last.txt || fail "list: $(cat last.txt)"
pass "clients are served by the service"

flushes=$(status_value flushes) || fail "status: no flushes"
wait_status_above flushes "$flushes" 5
[ "$(status_value flush_failures)" = 0 ] || fail "flush_failures=$(status_value flush_failures)"
pass "the flush timer runs (flush_interval 1 s): STATUS flushes grew from $flushes, no failures"

config "
[section added]
size = 4KiB
read = $me"
[ "$(shmbtest paramchange "$name")" = ok ] || fail "ControlService(PARAMCHANGE) failed"
lists_added() { ctl list 2>/dev/null | tr -d '\r' | grep -q '^added'; }
wait_for 10 lists_added \
    || fail "PARAMCHANGE did not add the section"
pass "SERVICE_CONTROL_PARAMCHANGE reloads the config"

sc stop "$name" >/dev/null || fail "sc stop"
wait_for 20 state_is STOPPED || fail "not STOPPED: $(sc query "$name")"
[ "$(head -c 12 "$root/data.bin")" = "service data" ] || fail "data.bin after stop"
log_has "$root/shmbroker.log" "section persist: flushed (stop)" \
    || fail "no 'section persist: flushed (stop)' in the log_file: $(cat "$root/shmbroker.log")"
tr -d '\r' <"$root/shmbroker.log" | grep -Eq "stopping( \([^)]*\))?: .* client\(s\) connected" || fail "no stop in the log_file: $(cat "$root/shmbroker.log")"
tr -d '\r' <"$root/shmbroker.log" | grep -q "reload requested by the service control manager" \
    || fail "no PARAMCHANGE reload in the log_file"
pass "sc stop reaches STOPPED, flushed the file and wrote the log_file"

sc start "$name" >/dev/null || fail "sc start again"
wait_for 20 state_is RUNNING || fail "not RUNNING again"
expect_exit 0 ctl read persist --length 12
[ "$(cat last.out)" = "service data" ] || fail "after restart: '$(cat last.out)'"
pass "data survives a stop and start"

# SHUTDOWN, as the SCM sends it when the machine shuts down.
sent=$(shmbtest shutdown "$name") || fail "shmbtest shutdown failed: $sent"
case $sent in
ok)
    wait_for 20 state_is STOPPED || fail "SHUTDOWN: not STOPPED: $(sc query "$name")"
    log_has "$root/shmbroker.log" "section persist: flushed (shutdown)" \
        || fail "no 'section persist: flushed (shutdown)' in the log_file: $(cat "$root/shmbroker.log")"
    pass "SERVICE_CONTROL_SHUTDOWN stops the service and flushes the file"
    ;;
"error 87" | "error 1052")
    # Windows lets only the system send SHUTDOWN; the stop is tested above.
    echo "note: this system does not let a program send SHUTDOWN ($sent); stopping instead"
    sc stop "$name" >/dev/null
    wait_for 20 state_is STOPPED || fail "not STOPPED"
    ;;
*) fail "ControlService(SHUTDOWN): $sent" ;;
esac
cp "$root/shmb.conf" "$root/good.conf"
printf '[service]\nbogus = 1\n' >"$root/shmb.conf"
sc start "$name" >/dev/null || true
wait_for 20 state_is STOPPED || fail "a bad config did not end STOPPED"
sc query "$name" >query.out
grep -q "1066" query.out || fail "no ERROR_SERVICE_SPECIFIC_ERROR: $(cat query.out)"
grep -Eq "SERVICE_EXIT_CODE *: *1 " query.out || fail "no service exit code 1: $(cat query.out)"
pass "a config that does not load stops the service with service-specific exit code 1"

cp "$root/good.conf" "$root/shmb.conf"
sc start "$name" >/dev/null || fail "sc start with the good config"
wait_for 20 state_is RUNNING || fail "not RUNNING with the good config"
# No hard kill here: Wine's SCM keeps reporting a killed service RUNNING and
# later stops or deletes it by a process id that the wineserver may have
# given to another process by then (it terminated another test's service
# once). The kill is proven in console mode (file_backed.sh, faults.sh); on
# Windows the SCM marks a killed service STOPPED and runs its failure
# actions.
sc stop "$name" >/dev/null || fail "sc stop"
wait_for 20 state_is STOPPED || fail "not STOPPED"

sc delete "$name" >/dev/null || fail "sc delete"
sc query "$name" >/dev/null 2>&1 && fail "the service still exists"
pass "sc delete removes the service"
