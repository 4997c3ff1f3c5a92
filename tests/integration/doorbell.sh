#!/usr/bin/env bash
# The section doorbell (notify = yes) end to end: a waiter wakes when a
# writer rings; 2000 ping-pong rounds between two processes lose no
# wake-up; a read-only grantee may wait but not ring (the service refuses,
# and the kernel refuses the ring rights on the objects themselves); no
# read right, no waiting; a waiter killed while asleep leaves the registry
# and rings go on; ringing with nobody asleep makes no SetEvent call, and
# a waiter that stays armed without sleeping costs one in all; a
# squatted doorbell name fails the section; refused waiters are logged
# within the per-account limit on refusal lines.
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID
write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_level = debug

[section bell]
size = 4KiB
notify = yes
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)

[section pinga]
size = 4KiB
notify = yes
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)

[section pingb]
size = 4KiB
notify = yes
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)

[section bellro]
size = 4KiB
notify = yes
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GR;;;$me)

[section bellsy]
size = 4KiB
notify = yes
sddl = O:SYG:SYD:P(A;;GA;;;SY)

[section quiet]
size = 4KiB
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)

[section rot]
size = 4KiB
notify = yes
on_revoke = rotate
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)(A;;GR;;;BG)

[section capped]
size = 4KiB
notify = yes
max_waiters = 2
sddl = O:SYG:SYD:P(A;;GA;;;SY)(A;;GRGW;;;$me)
EOF2
start_service shmb.conf
belltest() { win "$SHMB_BIN/belltest.exe" "$@"; }

# A waiter wakes on one ring made after it registered (the ring may come
# before it sleeps: then it must see the counter, not miss it). It must wake
# at the ring, not at its 20 s timeout (which re-reads the counter too).
ctl wait bell --timeout 20000 >wait.out 2>wait.err &
waiter=$!
wait_status doorbell_waiters 1 20
rung=$SECONDS
expect_exit 0 ctl notify bell
rc=0; wait "$waiter" || rc=$?
took=$((SECONDS - rung))
[ "$rc" = 0 ] || fail "shmbctl wait exited $rc: $(cat wait.err)"
[ "$took" -lt 15 ] || fail "the waiter woke ${took} s after the ring, at its 20 s timeout: the ring did not wake it"
got=$(tr -d '\r' <wait.out | sed -n 's/^counter=//p')
[ "$got" = 1 ] || fail "the waiter's counter is '$got', expected 1 (one ring)"
pass "a waiter wakes on a writer's ring (counter=1, exit 0, ${took} s after the ring)"
wait_status doorbell_waiters 0 10
pass "the waiter's registration ends with its connection"

expect_exit 0 ctl info bell
grep -qx "notify=yes" last.txt || fail "info of a doorbell section: $(cat last.txt)"
expect_exit 0 ctl info quiet
grep -qx "notify=no" last.txt || fail "info of a plain section: $(cat last.txt)"
pass "info says notify=yes for a doorbell section (OPEN reply flag), notify=no otherwise"

expect_exit 6 ctl wait bell --timeout 300
grep -q "not rung within 300 ms" last.err || fail "timeout message: $(cat last.err)"
pass "a wait nobody rings times out with exit 6"

# No lost wake-up: 2000 strict rounds, each wait bounded at 10 s, on two
# sections nobody rang before (after round i each counter is i).
belltest pingpong "$pipe" pinga pingb 2000 second >pong.out 2>pong.err &
second=$!
expect_exit 0 belltest pingpong "$pipe" pinga pingb 2000 first
rc=0; wait "$second" || rc=$?
[ "$rc" = 0 ] || fail "the second ping-pong process exited $rc: $(cat pong.err)"
grep -q "rounds=2000" last.txt || fail "first side: $(cat last.txt)"
grep -q "rounds=2000" <(tr -d '\r' <pong.out) || fail "second side: $(cat pong.out)"
pass "2000 ping-pong rounds between two processes: no lost or doubled ring"

# Read-only: waiting is allowed, ringing is not, by the service or the
# kernel.
expect_exit 6 ctl wait bellro --timeout 200
pass "a read-only grantee may wait"
expect_exit 3 ctl notify bellro
pass "a read-only grantee's ring is refused by the service (access denied, exit 3)"
expect_exit 0 belltest kernel "$pipe" bellro
grep -qx "counter-write error 5" last.txt || fail "counter page: $(cat last.txt)"
grep -qx "event-signal error 5" last.txt || fail "event: $(cat last.txt)"
grep -qx "event-wait ok" last.txt || fail "own event: $(cat last.txt)"
pass "the kernel refuses a read-only grantee the counter's write and the event's signal right (error 5); it may wait on its event"
expect_exit 0 belltest kernel "$pipe" bell
grep -qx "counter-write ok" last.txt || fail "writer counter page: $(cat last.txt)"
grep -qx "event-signal ok" last.txt || fail "writer event: $(cat last.txt)"
pass "a writer gets both (the same probe, the other answer)"
expect_exit 3 ctl wait bellsy --timeout 200
pass "without the read right there is no waiting (exit 3)"
expect_exit 1 ctl wait quiet --timeout 200
grep -q "notify = yes" last.err || fail "no-doorbell message: $(cat last.err)"
pass "a section without notify = yes says so"

# A waiter killed while asleep: the registry is clean again and rings go
# on (and wake nobody).
"${shmb_run[@]}" "$SHMB_BIN/belltest.exe" forever "$pipe" bell >forever.out 2>&1 &
victim=$!
wait_status doorbell_waiters 1 20
kill -KILL "$victim" 2>/dev/null || true
wait "$victim" 2>/dev/null || true
wait_status doorbell_waiters 0 10
expect_exit 0 belltest quiet "$pipe" bell 100
grep -qx "signals=0" last.txt || fail "rings after the kill: $(cat last.txt)"
pass "a waiter killed while waiting leaves the registry (doorbell_waiters back to 0); rings go on"

# Nobody asleep: no SetEvent, even with a waiter registered that is not
# waiting now; one asleep through the wait handle: one per ring.
"${shmb_run[@]}" "$SHMB_BIN/belltest.exe" idle "$pipe" bell >idle.out 2>&1 &
idler=$!
at_exit 'kill -KILL "$idler" 2>/dev/null || true'
wait_status doorbell_waiters 1 20
expect_exit 0 belltest quiet "$pipe" bell 1000
grep -qx "signals=0" last.txt || fail "quiet rings: $(cat last.txt)"
kill -KILL "$idler" 2>/dev/null || true
wait "$idler" 2>/dev/null || true
wait_status doorbell_waiters 0 10
pass "1000 rings with a waiter registered but none asleep make no SetEvent call"
# A waiter that stays armed and never sleeps (a wait handle nobody waits
# on; a hostile read-only grantee would do the same with its armed word)
# costs a ringer one SetEvent in all, not one per ring: the armed word is
# a ticket, and a ticket is signalled once (client/notify.c).
"${shmb_run[@]}" "$SHMB_BIN/belltest.exe" armed "$pipe" bell >armed.out 2>&1 &
armed=$!
at_exit 'kill -KILL "$armed" 2>/dev/null || true'
wait_status doorbell_waiters 1 20
expect_exit 0 belltest quiet "$pipe" bell 1000
grep -qx "signals=1" last.txt || fail "1000 rings to a waiter armed and never sleeping: $(cat last.txt), expected signals=1"
kill -KILL "$armed" 2>/dev/null || true
wait "$armed" 2>/dev/null || true
wait_status doorbell_waiters 0 10
pass "1000 rings to a waiter that stays armed without sleeping make 1 SetEvent call"
# The wait handle fires on a ring, and again on the same ringer's next
# ring once its owner read the counter (which arms a new ticket), as
# sdk.md says.
"${shmb_run[@]}" "$SHMB_BIN/belltest.exe" handle "$pipe" bell 20000 2 >handle.out 2>&1 &
h=$!
wait_status doorbell_waiters 1 20
expect_exit 0 belltest twice "$pipe" bell "$(winpath "$PWD/handle.out")"
grep -qx "signals=2" last.txt || fail "two rings, the second after the handle was read: $(cat last.txt), expected signals=2"
rc=0; wait "$h" || rc=$?
[ "$rc" = 0 ] && [ "$(grep -c "fired counter=" <(tr -d '\r' <handle.out))" = 2 ] \
    || fail "the wait handle did not fire twice (exit $rc): $(cat handle.out)"
pass "a wait handle fires on a ring, and again on the next ring after its owner read the counter"

# An account asking again and again for a waiter place it cannot have:
# every request is refused, and the refusal lines are rate-limited per
# account like every other refusal (service/refusal.c: at most 20 a
# minute), so that a read-only grantee cannot fill the Event Log.
"${shmb_run[@]}" "$SHMB_BIN/shmbctl.exe" --pipe "$pipe" wait capped --timeout 30000 >holder.out 2>&1 &
holder=$!   # the program itself (not a function in a subshell), to kill it
at_exit 'kill -KILL "$holder" 2>/dev/null || true'
wait_status doorbell_waiters 1 20
for i in $(seq 1 25); do
    expect_exit 1 ctl wait capped --timeout 100
    grep -q "waiter places" last.err || grep -qi "waiter" last.err \
        || fail "refusal $i does not say why: $(cat last.err)"
done
logged=$(tr -d '\r' <"$svc_log" | grep -c "section capped: waiter for .* refused") || logged=0
[ "$logged" -ge 1 ] && [ "$logged" -le 20 ] \
    || fail "25 refused waiters gave $logged refusal lines in the log, expected 1 to 20 (rate-limited)"
kill -KILL "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
wait_status doorbell_waiters 0 10
pass "25 refused waiter requests: each refused with its reason, $logged logged (rate-limited per account)"

# A section opened before a rotation keeps the old object; its first wait
# must not register on the new object's doorbell (where the old object's
# writers would never wake it): the SDK sees the section is no longer the
# object it mapped and says SHMB_EBELLCLOSED.
rm -f go.txt
"${shmb_run[@]}" "$SHMB_BIN/belltest.exe" stale "$pipe" rot "$(winpath "$PWD/go.txt")" >stale.out 2>&1 &
stale=$!
at_exit 'kill -KILL "$stale" 2>/dev/null || true'
for i in $(seq 1 200); do grep -q opened stale.out && break; sleep 0.1; done
grep -q opened stale.out || fail "the stale probe did not open rot: $(cat stale.out)"
sed -i 's/(A;;GR;;;BG)$/(A;;GR;;;BU)/' shmb.conf
expect_exit 0 ctl reload
grep -q "1 rotated" last.txt || fail "the reload did not rotate rot: $(cat last.txt)"
echo go >go.txt
rc=0; wait "$stale" || rc=$?
[ "$rc" = 0 ] && grep -q "counter SHMB_EBELLCLOSED" stale.out \
    || fail "a wait through a section opened before its rotation: exit $rc, $(cat stale.out), expected counter SHMB_EBELLCLOSED"
pass "a section opened before a rotation does not wait on the new object's doorbell: SHMB_EBELLCLOSED"

# A reload that removes the section closes its doorbell: the service marks
# it closed and wakes its waiters, who return at once (SHMB_EBELLCLOSED)
# rather than sleep on a doorbell nobody can ring any more. The same path
# serves a rotation (on_revoke = rotate) and a stop.
"${shmb_run[@]}" "$SHMB_BIN/shmbctl.exe" --pipe "$pipe" wait capped --timeout 30000 >closed.out 2>closed.err &
sleeper=$!
at_exit 'kill -KILL "$sleeper" 2>/dev/null || true'
wait_status doorbell_waiters 1 20
sed -i '/^\[section capped\]/,$d' shmb.conf
expect_exit 0 ctl reload
closed_at=$SECONDS
rc=0; wait "$sleeper" || rc=$?
took=$((SECONDS - closed_at))
[ "$rc" = 1 ] || fail "the waiter on a removed section exited $rc, expected 1: $(cat closed.err)"
[ "$took" -lt 15 ] || fail "the waiter on a removed section returned ${took} s after the reload, at its 30 s timeout: it was not woken"
grep -q "closed this doorbell" closed.err || fail "the waiter's message: $(cat closed.err)"
pass "a reload that removes the section wakes its waiters, who return SHMB_EBELLCLOSED in ${took} s (timeout 30 s)"
