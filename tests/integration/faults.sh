#!/usr/bin/env bash
# The service killed hard while a client holds a mapping: the view stays
# valid and readable; the old connection reports a transport error; after a
# restart the client reconnects and gets a new object name.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf
printf 'still here' | expect_exit 0 ctl write readwrite

rm -f go
at_exit 'touch "$work/go"'   # a failed test must not leave the holder waiting
"${shmb_run[@]}" "$SHMB_BIN/shmbtest.exe" reconnect "$pipe" readwrite go >holder.out &
holder=$!
wait_for 10 grep -q '^mapped' holder.out || fail "the holder did not map: $(cat holder.out)"
old=$(sed -n 's/^mapped //p' holder.out | tr -d '\r') || fail "reading the holder's object name: $(cat holder.out)"
[ -n "$old" ] || fail "the holder printed no object name: $(cat holder.out)"

kill_service
start_service shmb.conf
touch go
wait "$holder" || fail "the holder failed: $(cat holder.out)"
tr -d '\r' <holder.out >holder.txt || fail "holder.out unreadable"
grep -Eq "^old client: SHMB_E[A-Z]+ transport=1$" holder.txt || fail "old client: $(cat holder.txt)"
pass "the old connection reports a transport error: $(grep '^old client' holder.txt)"
grep -qx "view: still here" holder.txt || fail "view: $(cat holder.txt)"
pass "a view mapped before the kill still reads its bytes"
new=$(sed -n 's/^new object //p' holder.txt) || fail "reading holder.txt"
[[ "$new" =~ ^Local\\shmb-[0-9a-f]{32}$ ]] || fail "reconnect: $(cat holder.txt)"
[ "$new" != "$old" ] || fail "the restarted service reused $old"
pass "after the restart the client reconnects and gets a new object name"
