#!/usr/bin/env bash
# Impostors: a process that creates the control pipe before the service
# makes it refuse to start, naming the pipe; a client that meets a server
# that is not the expected account refuses it and sends nothing; object
# names never repeat across restarts (SHMB_RESTARTS, default 40: 80 names
# of 128 random bits; a busy machine needs up to 1.6 s a restart).
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf

"${shmb_run[@]}" "$SHMB_BIN/hostile.exe" squat "$pipe" 0 >squat.out &
squatter=$!
wait_for 10 grep -q listening squat.out || fail "the squatter did not start: $(cat squat.out)"
run_service_expecting 3 --console --config shmb.conf
grep -qF "pipe $pipe already exists" out.log || fail "message: $(cat out.log)"
pass "a pipe created before the service makes it refuse to start, naming the pipe"

expect_exit 5 ctl --server-sid S-1-5-18 list
grep -q "not the expected account" last.err || fail "message: $(cat last.err)"
wait "$squatter" || fail "the squatter failed: $(cat squat.out)"
grep -q "received 0 bytes" squat.out || fail "the impostor got: $(cat squat.out)"
pass "a client refuses a server that is not the expected account, and sends it nothing"

restarts=${SHMB_RESTARTS:-40}
: >names.txt
for i in $(seq 1 "$restarts"); do
    start_service shmb.conf
    for s in readonly readwrite; do
        info=$(ctl_text info "$s") || fail "restart $i: shmbctl info $s failed"
        object=$(sed -n 's/^object=//p' <<<"$info")
        [ -n "$object" ] || fail "restart $i: 'shmbctl info $s' exited 0 but named no object (stdout: '$info', stderr: '$(cat ctl.err)')"
        echo "$object" >>names.txt
    done
    stop_service   # fails unless the service exits 0
done
total=$(wc -l <names.txt) || fail "counting names.txt"
unique=$(sort -u names.txt | wc -l) || fail "counting distinct names"
[ "$total" = $((2 * restarts)) ] || fail "$total names from $restarts restarts"
[ "$unique" = "$total" ] || fail "only $unique distinct names among $total"
pass "$total object names over $restarts restarts, all distinct"
