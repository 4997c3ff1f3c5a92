#!/usr/bin/env bash
# The doorbell and channels by handle (issue 12): a section with
# notify = yes and delivery = handle, and channels by handle, have no named
# object at all, the doorbell's included. A waiter in one process is woken
# by a ringer in another; a ringer that attached first learns of each
# waiter that registers after it (PEERS) and wakes it; 30 waiters come and
# go while a ringer rings, and neither the ringer's nor the service's
# handle count grows; a client of protocol revision 1 asking for the
# doorbell gets SHMB_EVERSION with a message; a section opened before a
# rotation does not attach the new object's doorbell (there is no name to
# compare: the SDK compares the objects); 100,000 messages pass
# through a queue and a broadcast channel by handle, each checked.
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID

# The namespace check below counts every shmb- object of this Wine session.
# The tests share one wineserver, and a Windows program an earlier test
# left running holds its named objects (seen in CI: newcomer_client.sh's
# example_reconnect, started through the win function in the background;
# runner.sh now refuses that), so this test starts from a namespace
# without any, or says what is left.
deadline=$((SECONDS + 20))
until [ "$(hostile allnames -)" = "objects=0 events=0" ]; do
    [ $SECONDS -lt $deadline ] \
        || fail "the namespace still holds '$(hostile allnames -)' shmb- objects of earlier tests after 20 s"
    sleep 0.2
done
rw="O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)"
write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_level = debug

[section hbell]
size = 4KiB
notify = yes
delivery = handle
sddl = $rw

[section nbell]
size = 4KiB
notify = yes
sddl = $rw

[section hrot]
size = 4KiB
notify = yes
delivery = handle
on_revoke = rotate
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)(A;;GR;;;BG)

[channel hq]
kind = queue
slots = 4096
slot_size = 64
delivery = handle
sddl = $rw

[channel hb]
kind = broadcast
slots = 4096
slot_size = 64
delivery = handle
sddl = $rw
EOF2
start_service shmb.conf
belltest() { win "$SHMB_BIN/belltest.exe" "$@" | tr -d '\r'; }
chantest() { win "$SHMB_BIN/chantest.exe" "$@"; }
winpid=$(status_value pid) || fail "status has no pid"
handles_of() { hostile procinfo "$1" | sed -n 's/^handles=//p'; }
# Waits until the waiter (shell pid $1) is registered; one that exits
# first fails the test with what it said ($2).
registered() {
    local deadline=$((SECONDS + 20))
    until [ "$(status_value doorbell_waiters)" = 1 ]; do
        kill -0 "$1" 2>/dev/null || fail "the waiter exited before it registered: $(tr -d '\r' <"$2")"
        [ $SECONDS -lt $deadline ] || fail "no waiter registered within 20 s: $(tr -d '\r' <"$2")"
        sleep 0.1
    done
}

# ---- a waiter woken by a ringer in another process --------------------------
ctl wait hbell --timeout 20000 >wait.out 2>wait.err &
waiter=$!
registered "$waiter" wait.err
rung=$SECONDS
expect_exit 0 ctl notify hbell
rc=0; wait "$waiter" || rc=$?
took=$((SECONDS - rung))
[ "$rc" = 0 ] || fail "shmbctl wait by handle exited $rc: $(cat wait.err)"
[ "$took" -lt 15 ] || fail "the waiter by handle woke ${took} s after the ring, at its timeout"
got=$(tr -d '\r' <wait.out | sed -n 's/^counter=//p')
[ "$got" = 1 ] || fail "the waiter's counter is '$got', expected 1"
log_has service.log "section hbell: unnamed doorbell" || fail "the service did not log hbell's doorbell as unnamed"
pass "by handle: a waiter in one process wakes on a ring from another (counter=1, ${took} s after the ring)"
wait_status doorbell_waiters 0 10

# ---- no name in the namespace ---------------------------------------------
# A waiter on hbell (by handle) and one on nbell (by name, the probe's
# control: its section, counter page, registry page, event and armed page
# are named). Had hbell's doorbell any name, there would be more.
start_ready w1 w1.out '^waiting' 30 "$SHMB_BIN/belltest.exe" forever "$pipe" hbell \
    || fail "the waiter on hbell did not register: $(cat w1.out)"
at_exit 'kill -KILL "$w1" 2>/dev/null || true'
start_ready w2 w2.out '^waiting' 30 "$SHMB_BIN/belltest.exe" forever "$pipe" nbell \
    || fail "the waiter on nbell did not register: $(cat w2.out)"
at_exit 'kill -KILL "$w2" 2>/dev/null || true'
wait_status doorbell_waiters 2 10
out=$(hostile allnames "$pipe")
[ "$out" = "objects=5 events=1" ] \
    || fail "the namespace holds '$out'; expected only nbell's 5 objects (section, counter, registry, event, armed) and its 1 event"
pass "Local\\shmb-* holds only the named section's 5 objects ($out): none for hbell, its doorbell, its waiter, or the channels"
kill -KILL "$w1" "$w2" 2>/dev/null || true
wait "$w1" "$w2" 2>/dev/null || true
wait_status doorbell_waiters 0 10

# ---- a client of revision 1 ------------------------------------------------
out=$(hostile rev1bell "$pipe" hbell)
[[ "$out" == "SHMB_EVERSION: section 'hbell' is delivered by handle only"*"and so is its doorbell"* ]] \
    || fail "a revision-1 client asking hbell's doorbell got: $out"
grep -q "revision 1" <<<"$out" || fail "the message does not say which revision: $out"
out=$(hostile rev1bell "$pipe" nbell)
[ "$out" = ok ] || fail "a revision-1 client could not wait on a named doorbell: $out"
pass "a revision-1 client gets SHMB_EVERSION with a message for a doorbell by handle, and names as before"

# ---- a rotation between the open and the first wait -----------------------
# By name the SDK compares the object names of two OPENs; by handle it
# compares the objects (CompareObjectHandles): a section opened before a
# rotation must not register on the new object's doorbell, whose writers
# would never wake it.
rm -f go.txt
"${shmb_run[@]}" "$SHMB_BIN/belltest.exe" stale "$pipe" hrot "$(winpath "$PWD/go.txt")" >stale.out 2>&1 &
stale=$!
at_exit 'kill -KILL "$stale" 2>/dev/null || true'
wait_for 20 grep -q opened stale.out || fail "the stale probe did not open hrot: $(cat stale.out)"
sed -i 's/(A;;GR;;;BG)$/(A;;GR;;;BU)/' shmb.conf
expect_exit 0 ctl reload
grep -q "1 rotated" last.txt || fail "the reload did not rotate hrot: $(cat last.txt)"
echo go >go.txt
rc=0; wait "$stale" || rc=$?
[ "$rc" = 0 ] && grep -q "counter SHMB_EBELLCLOSED" stale.out \
    || fail "a wait by handle through a section opened before its rotation: exit $rc, $(cat stale.out), expected counter SHMB_EBELLCLOSED"
pass "by handle, a section opened before a rotation does not wait on the new object's doorbell: SHMB_EBELLCLOSED"

# ---- a ringer learns of waiters who come after it; no handle leaks --------
rm -f stop.flag
: >ring.out
"${shmb_run[@]}" "$SHMB_BIN/belltest.exe" ringloop "$pipe" hbell "$(winpath "$work/stop.flag")" 5 >ring.out 2>ring.err &
ringer=$!
at_exit 'kill -KILL "$ringer" 2>/dev/null || true'
wait_for 20 grep -q '^pid=' ring.out || fail "the ringer did not start: $(cat ring.out ring.err)"
rpid=$(tr -d '\r' <ring.out | sed -n 's/^pid=//p')
# Each waiter is a new process that registers after the ringer attached:
# only a ringer that learns of it (PEERS) can wake it before its 10 s.
cycle() {
    local out
    if [ $(($1 % 2)) = 0 ]; then
        out=$(belltest handle "$pipe" hbell 10000)
        [[ "$out" == *"fired counter="* ]] || fail "waiter $1 (wait handle) was not woken by the ringer: $out"
    else
        ctl wait hbell --timeout 10000 >cycle.out 2>cycle.err \
            || fail "waiter $1 (shmbctl wait) was not woken by the ringer: $(cat cycle.out cycle.err)"
    fi
}
cycle 0
wait_status doorbell_waiters 0 10
sleep 0.5 # the ringer's next rings see the waiter gone and close its handles
r0=$(handles_of "$rpid"); s0=$(handles_of "$winpid")
[[ "$r0" =~ ^[0-9]+$ && "$s0" =~ ^[0-9]+$ ]] || fail "cannot count handles: ringer '$r0', service '$s0'"
for i in $(seq 1 30); do cycle "$i"; done
wait_status doorbell_waiters 0 10
sleep 0.5
r1=$(handles_of "$rpid"); s1=$(handles_of "$winpid")
echo stop >stop.flag
rc=0; wait "$ringer" || rc=$?
[ "$rc" = 0 ] || fail "the ringer exited $rc: $(cat ring.err)"
summary=$(tr -d '\r' <ring.out | grep '^rings=') || fail "the ringer printed: $(cat ring.out ring.err)"
[[ "$summary" == *" errors=0 "* ]] || fail "the ringer's rings failed: $summary $(cat ring.err)"
pass "30 waiters that registered after the ringer attached were each woken by it ($summary)"
[ "$r1" -le $((r0 + 2)) ] || fail "the ringer's handles grew from $r0 to $r1 over 30 waiters that came and went"
[ "$s1" -le $((s0 + 2)) ] || fail "the service's handles grew from $s0 to $s1 over 30 waiters that came and went"
pass "handles flat over 30 waiter cycles: the ringer $r0 -> $r1, the service $s0 -> $s1"

# ---- channels by handle ------------------------------------------------------
N=100000
rc=0
start_ready qr qrecv.out '^ready' 30 "$SHMB_BIN/chantest.exe" recv "$pipe" hq $N || rc=$?
[ "$rc" = 0 ] || fail "the queue receiver did not get ready (rc $rc): $(cat qrecv.out)"
at_exit 'kill -KILL "$qr" 2>/dev/null || true'
rc_send=0
chantest send "$pipe" hq $N 64 >qsend.out 2>qsend.err || rc_send=$?
rc=0; wait "$qr" || rc=$?
[ "$rc" = 0 ] || fail "the queue receiver exited $rc: $(tr -d '\r' <qrecv.out) (the sender: exit $rc_send, $(cat qsend.err))"
[ "$rc_send" = 0 ] || fail "the queue sender exited $rc_send: $(cat qsend.err)"
grep -q "^received=$N " <(tr -d '\r' <qrecv.out) || fail "queue receiver: $(tr -d '\r' <qrecv.out)"
pass "$N messages through a queue by handle, each checked ($(tr -d '\r' <qsend.out); $(tr -d '\r' <qrecv.out | grep received=))"

brs=()
for i in 1 2; do
    rc=0
    start_ready br "brecv$i.out" '^ready' 30 "$SHMB_BIN/chantest.exe" brecv "$pipe" hb || rc=$?
    [ "$rc" = 0 ] || fail "broadcast receiver $i did not get ready (rc $rc): $(cat "brecv$i.out")"
    brs+=("$br")
done
at_exit 'for p in "${brs[@]}"; do kill -KILL "$p" 2>/dev/null || true; done'
expect_exit 0 chantest send "$pipe" hb $N 64
check_broadcast $N "${brs[@]}"
pass "$N messages through a broadcast channel by handle to two receivers, delivered + lost == sent for each ($bcast_summary)"

expect_exit 0 ctl status
