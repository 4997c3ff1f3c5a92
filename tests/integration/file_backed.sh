#!/usr/bin/env bash
# File-backed sections in console mode: the file is created at its size,
# nobody else may write or rename it while the service runs, the flush
# timer flushes within flush_interval (STATUS flushes grows, the log says
# "flushed (timer)") and Ctrl+C flushes ("flushed (stop)"), data persists
# across a stop and start and a hard kill, and an existing file of another
# size is refused, untouched. Under Wine a write through a view lands in
# the file at once (the view is MAP_SHARED), so the data checks alone would
# pass with every flush deleted; the flush checks are what show the
# flushes happen (docs/reliability.md).
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID
data=$(winpath "$work/data.bin")

write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_level = debug

[section persist]
size = 64KiB
backing = file:$data
flush_interval = 1s
write = $me
EOF2
start_service shmb.conf
[ "$(stat -c %s data.bin)" = 65536 ] || fail "data.bin is $(stat -c %s data.bin) bytes"
pass "the backing file is created at 65536 bytes"

[ "$(shmbtest writefile "$data")" = "error 32" ] || fail "another process could open data.bin for writing"
[ "$(shmbtest rename "$data" "$data.moved")" = "error 32" ] || fail "another process could rename data.bin"
pass "while the service runs, others cannot write or rename the file (sharing violation)"

flushes=$(status_value flushes) || fail "status: no flushes"
wait_status_above flushes "$flushes" 3
log_has service.log "section persist: flushed (timer)" || fail "no 'section persist: flushed (timer)' in the log"
[ "$(status_value flush_failures)" = 0 ] || fail "flush_failures=$(status_value flush_failures)"
pass "the timer flushes within flush_interval (1 s): flushes grew from $flushes, logged, no failures"

printf 'persisted bytes' | expect_exit 0 ctl write persist --offset 100
stop_service
[ "$svc_status" = 0 ] || fail "stop exited $svc_status"
log_has service.log "section persist: flushed (stop)" || fail "Ctrl+C did not flush: no 'section persist: flushed (stop)' in the log"
pass "Ctrl+C flushes the file (logged)"
[ "$(dd if=data.bin bs=1 skip=100 count=15 2>/dev/null)" = "persisted bytes" ] \
    || fail "data.bin lacks the bytes after stop"
pass "after a clean stop the bytes are in the file"

start_service shmb.conf
expect_exit 0 ctl read persist --offset 100 --length 15
[ "$(cat last.out)" = "persisted bytes" ] || fail "after restart: '$(cat last.out)'"
pass "after a restart the section holds the same bytes"

printf 'flushed by timer' | expect_exit 0 ctl write persist --offset 200
flushes=$(status_value flushes) || fail "status: no flushes"
wait_status_above flushes "$flushes" 3   # a timer flush after the write
kill_service
[ "$(dd if=data.bin bs=1 skip=200 count=16 2>/dev/null)" = "flushed by timer" ] \
    || fail "data.bin lacks the bytes after a hard kill"
start_service shmb.conf
expect_exit 0 ctl read persist --offset 200 --length 16
[ "$(cat last.out)" = "flushed by timer" ] || fail "after kill and restart: '$(cat last.out)'"
pass "bytes written before a hard kill survive it and are served after restart (under Wine whether flushed or not)"
stop_service

head -c 1000 /dev/urandom >wrong.bin
cp wrong.bin wrong.orig
sed -i "s|^backing = .*|backing = file:$(winpath "$work/wrong.bin" | sed 's/\\/\\\\/g')|" shmb.conf
run_service_expecting 3 --console --config shmb.conf
grep -q "wrong.bin is 1000 bytes but the section's size is 65536" out.log || fail "message: $(cat out.log)"
cmp -s wrong.bin wrong.orig || fail "the wrong-size file was changed"
pass "an existing file of another size is refused and left untouched"
