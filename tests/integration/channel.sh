#!/usr/bin/env bash
# Channels end to end, between real processes (chantest.c checks every
# message: sender, sequence, a checksum over a body of varying length):
# 1,000,000 messages through a queue, none lost, duplicated, torn or out
# of order; 1,000,000 through a broadcast channel to three receivers, each
# with delivered + lost == sent exactly; a queue receiver killed holding a
# peek, and a queue or broadcast sender killed holding a reservation, are
# cut out and later messages arrive; a hostile writer scribbling over the
# ring gets its receivers errors, never a crash or a hang; rights (a receive-only account cannot
# send, by the service or the kernel; no grant, no object name); a plain
# section is not a channel; an oversize message is refused and nothing is
# sent; recv --timeout exits 6; a reload that removes a channel wakes its
# blocked receiver at once, and a receiver that was not waiting still gets
# what was left in the ring before SHMB_EBELLCLOSED.
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID
rw="O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)"
write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_level = info

[channel q]
kind = queue
slots = 65536
slot_size = 64
sddl = $rw

[channel b]
kind = broadcast
slots = 65536
slot_size = 64
sddl = $rw

[channel qpeek]
kind = queue
slots = 4
slot_size = 64
sddl = $rw

[channel qres]
kind = queue
slots = 4
slot_size = 64
sddl = $rw

[channel bkill]
kind = broadcast
slots = 1024
slot_size = 64
sddl = $rw

[channel hq]
kind = queue
slots = 64
slot_size = 64
sddl = $rw

[channel hb]
kind = broadcast
slots = 64
slot_size = 64
sddl = $rw

[channel bro]
kind = broadcast
slots = 16
slot_size = 64
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GR;;;$me)

[channel bsy]
kind = broadcast
slots = 16
slot_size = 64
sddl = O:SYG:SYD:P(A;;GA;;;SY)

[section plain]
size = 4KiB
sddl = $rw

[channel small]
kind = queue
slots = 4
slot_size = 256
sddl = $rw

[channel gone]
kind = queue
slots = 4
slot_size = 64
sddl = $rw

[channel gone2]
kind = queue
slots = 4
slot_size = 64
sddl = $rw
EOF2
start_service shmb.conf
chantest() { win "$SHMB_BIN/chantest.exe" "$@"; }
N=1000000

# ---- 1,000,000 through a queue, every message checked --------------------
t0=$SECONDS
rc=0
start_ready qr qrecv.out '^ready' 30 "$SHMB_BIN/chantest.exe" recv "$pipe" q $N || rc=$?
[ "$rc" = 0 ] || fail "the queue receiver did not get ready (rc $rc): $(cat qrecv.out)"
at_exit 'kill -KILL "$qr" 2>/dev/null || true'
# The receiver's verdict first: when it stops at a bad message, the
# sender then times out on a full queue, which says less.
rc_send=0
chantest send "$pipe" q $N 64 >qsend.out 2>qsend.err || rc_send=$?
sent=$(tr -d '\r' <qsend.out)
rc=0; wait "$qr" || rc=$?
[ "$rc" = 0 ] || fail "the queue receiver exited $rc: $(tr -d '\r' <qrecv.out) (the sender: exit $rc_send, $(cat qsend.err))"
[ "$rc_send" = 0 ] || fail "the queue sender exited $rc_send: $(cat qsend.err)"
grep -q "^received=$N " <(tr -d '\r' <qrecv.out) || fail "queue receiver: $(tr -d '\r' <qrecv.out)"
pass "$N messages through a queue between two processes, each checked: none lost, duplicated, torn or out of order ($sent; $(tr -d '\r' <qrecv.out | grep received=); $((SECONDS - t0)) s)"

# ---- 1,000,000 through a broadcast channel to three receivers -------------
t0=$SECONDS
brs=()
for i in 1 2 3; do
    rc=0
    start_ready br "brecv$i.out" '^ready' 30 "$SHMB_BIN/chantest.exe" brecv "$pipe" b || rc=$?
    [ "$rc" = 0 ] || fail "broadcast receiver $i did not get ready (rc $rc, status ${ready_status:-}): $(cat "brecv$i.out")"
    brs+=("$br")
done
at_exit 'for p in "${brs[@]}"; do kill -KILL "$p" 2>/dev/null || true; done'
expect_exit 0 chantest send "$pipe" b $N 64
sent=$(cat last.txt)
check_broadcast $N "${brs[@]}"
pass "$N messages through a broadcast channel to three receivers, each checked, delivered + lost == sent for each ($sent;$bcast_summary; $((SECONDS - t0)) s)"

# ---- peers killed mid-message are cut out ---------------------------------
# A queue receiver killed while it holds a peek: its slot stays taken, and
# the sender meets it once the tail comes round (4 slots); the sender's
# wait cuts it out after about a second and the messages after it arrive.
echo victim | ctl send qpeek --timeout 5000 || fail "could not send the message the peeker takes"
rc=0
start_ready holder hold.out '^ready' 30 "$SHMB_BIN/chantest.exe" hold-peek "$pipe" qpeek || rc=$?
[ "$rc" = 0 ] || fail "hold-peek did not get ready: $(cat hold.out)"
kill -KILL "$holder"; wait "$holder" 2>/dev/null || true
t0=$SECONDS
rc=0
start_ready pr peek-recv.out '^ready' 30 "$SHMB_BIN/chantest.exe" recv "$pipe" qpeek 50 || rc=$?
[ "$rc" = 0 ] || fail "the qpeek receiver did not get ready (rc $rc): $(cat peek-recv.out)"
at_exit 'kill -KILL "$pr" 2>/dev/null || true'
expect_exit 0 chantest send "$pipe" qpeek 50 64
sent=$(cat last.txt)
rc=0; wait "$pr" || rc=$?
took=$((SECONDS - t0))
[ "$rc" = 0 ] || fail "after a receiver was killed holding a peek, the next receiver exited $rc: $(tr -d '\r' <peek-recv.out)"
grep -q '^received=50 ' <(tr -d '\r' <peek-recv.out) || fail "qpeek receiver: $(cat peek-recv.out)"
# The sender met the dead peeker's slot and waited about a second (the
# stall bound) before it cut it out: the stall was real, and was cut.
longest=$(sed -n 's/.*longest_ms=\([0-9]*\).*/\1/p' <<<"$sent")
[ "${longest:-0}" -ge 900 ] && [ "$longest" -le 5000 ] \
    || fail "after a killed peeker the sender's longest send took ${longest:-?} ms, expected about 1000 (the stall bound): $sent"
pass "a queue receiver killed holding a peek is cut out: the sender waited ${longest} ms at its slot, went on, and 50 later messages arrive in order ($took s)"

# A queue sender killed holding a reservation: the receiver waits at its
# position, cuts it out after about a second, and gets what follows.
rc=0
start_ready holder hold.out '^ready' 30 "$SHMB_BIN/chantest.exe" hold-reserve "$pipe" qres || rc=$?
[ "$rc" = 0 ] || fail "hold-reserve did not get ready: $(cat hold.out)"
kill -KILL "$holder"; wait "$holder" 2>/dev/null || true
t0=$SECONDS
rc=0
start_ready rr res-recv.out '^ready' 30 "$SHMB_BIN/chantest.exe" recv "$pipe" qres 50 || rc=$?
[ "$rc" = 0 ] || fail "the qres receiver did not get ready (rc $rc): $(cat res-recv.out)"
at_exit 'kill -KILL "$rr" 2>/dev/null || true'
# The receiver's verdict first (stuck at the dead slot, it lets the
# 4-slot queue fill, and then the sender times out too).
rc_send=0
chantest send "$pipe" qres 50 64 >res-send.out 2>res-send.err || rc_send=$?
rc=0; wait "$rr" || rc=$?
took=$((SECONDS - t0))
got=$(tr -d '\r' <res-recv.out)
[ "$rc" = 0 ] || fail "after a sender was killed holding a reservation, the receiver exited $rc: $got (the sender: exit $rc_send, $(cat res-send.err))"
[ "$rc_send" = 0 ] || fail "after a killed reserver, the sender exited $rc_send: $(cat res-send.err)"
grep -q '^received=50 ' <<<"$got" || fail "qres receiver: $got"
longest=$(sed -n 's/.*longest_ms=\([0-9]*\).*/\1/p' <<<"$got")
[ "${longest:-0}" -ge 900 ] && [ "$longest" -le 5000 ] \
    || fail "after a killed reserver the receiver's longest wait was ${longest:-?} ms, expected about 1000 (the stall bound): $got"
pass "a queue sender killed holding a reservation is cut out: the receiver waited ${longest} ms at its slot, then 50 later messages arrive in order ($took s)"

# A broadcast sender killed holding a reservation holds the sender lock:
# the next sender cuts it out after about a second, and a receiver counts
# the aborted position as lost, exactly once (it opened before the
# reservation: ORIGIN 1), then gets all 50 (1024 slots: none overwritten).
rc=0
start_ready bk bkill-recv.out '^ready' 30 "$SHMB_BIN/chantest.exe" brecv "$pipe" bkill 1 || rc=$?
[ "$rc" = 0 ] || fail "the bkill receiver did not get ready (rc $rc): $(cat bkill-recv.out)"
at_exit 'kill -KILL "$bk" 2>/dev/null || true'
rc=0
start_ready holder hold.out '^ready' 30 "$SHMB_BIN/chantest.exe" hold-reserve "$pipe" bkill || rc=$?
[ "$rc" = 0 ] || fail "hold-reserve on a broadcast channel did not get ready: $(cat hold.out)"
kill -KILL "$holder"; wait "$holder" 2>/dev/null || true
expect_exit 0 chantest send "$pipe" bkill 50 64
sent=$(cat last.txt)
rc=0; wait "$bk" || rc=$?
got=$(tr -d '\r' <bkill-recv.out)
[ "$rc" = 0 ] || fail "after a broadcast sender was killed holding a reservation, the receiver exited $rc: $got"
grep -qx "delivered=50 lost=1 sent=50" <<<"$got" || fail "after a killed broadcast sender, expected delivered=50 lost=1 sent=50: $got"
longest=$(sed -n 's/.*longest_ms=\([0-9]*\).*/\1/p' <<<"$sent")
[ "${longest:-0}" -ge 900 ] && [ "$longest" -le 5000 ] \
    || fail "after a killed broadcast sender the next sender's longest send took ${longest:-?} ms, expected about 1000 (the stall bound): $sent"
pass "a broadcast sender killed holding a reservation is cut out: the next sender waited ${longest} ms for the lock, the receiver got all 50 and counted the aborted position lost (delivered=50 lost=1)"

# ---- a hostile writer -----------------------------------------------------
# Receivers already attached (two on a queue, two on a broadcast channel),
# then a writer scribbles over the header, counters and slots for 3 s;
# receivers that open during it too. Each must end with SHMB_ECORRUPT
# (exit 3) or a timeout (exit 6), within the bound: never a crash (another
# status), never a hang (still running at the bound).
hpids=() hnames=()
for ch in hq hq hb hb; do
    i=${#hpids[@]}
    rc=0
    start_ready hp "grecv$i.out" '^ready' 30 "$SHMB_BIN/chantest.exe" grecv "$pipe" $ch 20000 || rc=$?
    [ "$rc" = 0 ] || fail "hostile-case receiver $i did not get ready: $(cat "grecv$i.out")"
    hpids+=("$hp") hnames+=("$ch")
done
at_exit 'for p in "${hpids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done'
"${shmb_run[@]}" "$SHMB_BIN/chantest.exe" scribble "$pipe" hq 3000 >scribble-q.out 2>&1 &
sq=$!
"${shmb_run[@]}" "$SHMB_BIN/chantest.exe" scribble "$pipe" hb 3000 >scribble-b.out 2>&1 &
sb=$!
sleep 1
for ch in hq hb; do
    i=${#hpids[@]}
    "${shmb_run[@]}" "$SHMB_BIN/chantest.exe" grecv "$pipe" $ch 20000 >"grecv$i.out" 2>&1 &
    hpids+=("$!") hnames+=("$ch")
done
wait "$sq" || fail "the scribbler on hq failed: $(cat scribble-q.out)"
wait "$sb" || fail "the scribbler on hb failed: $(cat scribble-b.out)"
t0=$SECONDS
outcomes=
for i in "${!hpids[@]}"; do
    rc=0
    # Bounded: each gives up after 20 s on its own; 30 s is a hang.
    for _ in $(seq 1 300); do
        kill -0 "${hpids[$i]}" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "${hpids[$i]}" 2>/dev/null && fail "receiver $i on ${hnames[$i]} still running $((SECONDS - t0)) s after the scribbling stopped (a hang): $(tr -d '\r' <"grecv$i.out")"
    wait "${hpids[$i]}" || rc=$?
    out=$(tr -d '\r' <"grecv$i.out" | tail -n1)
    if [ "$rc" = "$shmb_wine_start_failure" ] && [ ! -s "grecv$i.out" ]; then
        shmb_note_retry "chantest.exe (receiver $i) exited $rc with no output (Wine did not run it); not counted"
        continue
    fi
    case $rc in
    3 | 6) outcomes+=" ${hnames[$i]}:$rc($out)" ;;
    *) fail "receiver $i on ${hnames[$i]} exited $rc against a scribbled ring, expected 3 (SHMB_ECORRUPT) or 6 (timeout): $(tr -d '\r' <"grecv$i.out")" ;;
    esac
done
pass "a writer scribbling over the ring: every receiver ends with SHMB_ECORRUPT (3) or a timeout (6) within $((SECONDS - t0)) s of the end:$outcomes"

# ---- rights ----------------------------------------------------------------
expect_exit 3 ctl send bro --timeout 1000 </dev/null
pass "a receive-only account cannot send: the service refuses (exit 3)"
expect_exit 0 ctl info bro
object=$(sed -n 's/^object=//p' last.txt)
[ -n "$object" ] || fail "info of a receive-only channel gave no object name: $(cat last.txt)"
grep -qx "kind=broadcast" last.txt || fail "info kind: $(cat last.txt)"
grep -qx "slots=16" last.txt && grep -qx "slot_size=64" last.txt || fail "info geometry: $(cat last.txt)"
expect_exit 0 chantest kernel "$object"
grep -qx "map-write error 5" last.txt || fail "the kernel let a receive-only account map the ring for write: $(cat last.txt)"
grep -qx "map-read ok" last.txt || fail "the kernel refused the read mapping of a receive-only ring: $(cat last.txt)"
pass "the kernel refuses a write mapping of the ring object handed out for read (error 5), and allows the read"
for cmd in "info bsy" "recv bsy --timeout 200" "send bsy --timeout 200"; do
    rc=0
    ctl $cmd </dev/null >nogrant.out 2>nogrant.err || rc=$?
    case $rc in 3 | 4) ;; *) fail "shmbctl $cmd without any grant exited $rc, expected 3 or 4: $(cat nogrant.err)" ;; esac
    ! grep -q "object=" nogrant.out || fail "shmbctl $cmd without any grant printed an object name: $(cat nogrant.out)"
done
pass "no grant at all: info, recv and send refused (exit 3/4), no object name given out"

# ---- a plain section, oversize, timeout -------------------------------------
expect_exit 1 ctl send plain --timeout 200 </dev/null
grep -q "not a channel" last.err || fail "send to a plain section: $(cat last.err)"
expect_exit 1 ctl recv plain --timeout 200
grep -q "not a channel" last.err || fail "recv from a plain section: $(cat last.err)"
pass "a plain section given to send or recv: SHMB_ENOTCHANNEL (exit 1, '$(head -n1 last.err)')"

head -c 257 /dev/urandom >big.bin
expect_exit 1 ctl send small --timeout 1000 <big.bin
grep -q "larger than" last.err || fail "oversize message: $(cat last.err)"
expect_exit 6 ctl recv small --timeout 300
pass "a message above slot_size (257 > 256) is refused and nothing is sent (the next recv times out, exit 6)"
head -c 256 /dev/urandom >full.bin
expect_exit 0 ctl send small --timeout 1000 <full.bin
expect_exit 0 ctl recv small --timeout 1000
cmp -s last.out full.bin || fail "a message of exactly slot_size came back different"
pass "a message of exactly slot_size goes through byte for byte"
expect_exit 6 ctl recv small --timeout 300
grep -q "within 300 ms" last.err || fail "recv timeout message: $(cat last.err)"
pass "recv --timeout with nothing to receive exits 6"

# ---- a reload that removes a channel wakes its receiver ----------------------
# (the same reload removes gone2: a receiver and a sender that are not
# waiting then, below)
for m in m1 m2 m3; do
    echo $m | ctl send gone2 --timeout 1000 || fail "could not fill gone2"
done
rc=0
start_ready closer closing.out '^ready' 30 "$SHMB_BIN/chantest.exe" closing "$pipe" gone2 "$(winpath "$work/closed.flag")" || rc=$?
[ "$rc" = 0 ] || fail "chantest closing did not get ready (rc $rc): $(cat closing.out)"
at_exit 'kill -KILL "$closer" 2>/dev/null || true'
base=$(status_value doorbell_waiters)
sleeper=
at_exit '[ -z "$sleeper" ] || kill -KILL "$sleeper" 2>/dev/null || true'
for attempt in 1 2; do
    "${shmb_run[@]}" "$SHMB_BIN/shmbctl.exe" --pipe "$pipe" recv gone --timeout 30000 >gone.out 2>gone.err &
    sleeper=$!
    deadline=$((SECONDS + 20))
    # Until it sleeps on the doorbell (one more waiter), or it exited.
    while [ "$(status_value doorbell_waiters)" -le "$base" ]; do
        if ! kill -0 "$sleeper" 2>/dev/null; then
            rc=0; wait "$sleeper" || rc=$?
            [ "$rc" = "$shmb_wine_start_failure" ] && [ ! -s gone.out ] && [ ! -s gone.err ] && [ "$attempt" = 1 ] \
                || fail "the receiver on channel gone exited $rc before the reload: $(cat gone.err)"
            shmb_note_retry "shmbctl.exe exited $rc with no output (Wine did not run it); starting it again"
            continue 2
        fi
        [ $SECONDS -lt $deadline ] || fail "the receiver on channel gone did not start waiting within 20 s"
        sleep 0.1
    done
    break
done
sed -i '/^\[channel gone\]/,$d' shmb.conf
expect_exit 0 ctl reload
closed_at=$SECONDS
rc=0; wait "$sleeper" || rc=$?
took=$((SECONDS - closed_at))
[ "$rc" = 1 ] || fail "the receiver on a removed channel exited $rc, expected 1: $(cat gone.err)"
[ "$took" -lt 15 ] || fail "the receiver on a removed channel returned $took s after the reload, at its 30 s timeout: not woken"
grep -qi "closed" gone.err || fail "the receiver's message: $(cat gone.err)"
pass "a reload that removes a channel wakes its blocked receiver with SHMB_EBELLCLOSED in $took s (timeout 30 s): $(head -n1 gone.err | tr -d '\r')"

# After the removal, messages already in the ring are still the
# receiver's: each is returned, not dropped behind an error (the SDK's
# receive once took the message and then reported the closed doorbell
# its ring found, so the message was gone); once the ring has nothing
# left, SHMB_EBELLCLOSED. A sender hears of the closure from its next
# ring and then sends nothing more.
touch closed.flag
rc=0; wait "$closer" || rc=$?
got=$(tr -d '\r' <closing.out)
[ "$rc" = 0 ] || fail "chantest closing exited $rc: $got"
grep -qx "before ok m1" <<<"$got" || fail "before the removal: $got"
grep -qx "recv1 ok m2" <<<"$got" && grep -qx "recv2 ok m3" <<<"$got" \
    || fail "messages left in a removed channel's ring were not returned (a receive reported an error and the message was lost): $(tr '\n' ' ' <<<"$got")"
grep -qx "recv3 SHMB_EBELLCLOSED" <<<"$got" || fail "the drained receiver on a removed channel: $(tr '\n' ' ' <<<"$got")"
grep -qx "send2 SHMB_EBELLCLOSED" <<<"$got" || fail "a sender on a removed channel: $(tr '\n' ' ' <<<"$got")"
pass "after a channel's removal the receiver still gets the messages left in it, then SHMB_EBELLCLOSED; the sender is refused once its ring found the closure ($(tr '\n' ' ' <<<"$got"))"
