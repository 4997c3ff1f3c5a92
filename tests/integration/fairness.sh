#!/usr/bin/env bash
# Fairness between clients (issue 11): one account cannot hold every slot
# (max_clients_per_account, refused with the reason and logged with the
# SID); a client pipelining many requests is served in turns and still gets
# every reply, in order; refusal log lines are rate-limited per account
# while the counters count every refusal; STATUS tells a caller who is not
# one of the service's admins only counters.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
sed -i 's/^log_level = debug$/log_level = debug\nmax_clients = 16\nmax_clients_per_account = 2/' shmb.conf
start_service shmb.conf

raw_hostile() { "${shmb_run[@]}" "$SHMB_BIN/hostile.exe" "$@"; }
connected() {
    local f
    for f in "$@"; do grep -q '^connected' "$f" || return 1; done
}

# Two idle connections use up this account's share (STATUS itself is a
# third connection only while it asks, so wait on the log instead).
raw_hostile idle "$pipe" 4000 >idle1.out & idle1=$!
raw_hostile idle "$pipe" 4000 >idle2.out & idle2=$!
wait_for 10 connected idle1.out idle2.out || fail "the idle clients did not connect: $(cat idle*.out)"
wait_for 10 grep -q "connected (2 clients)" "$work/service.log" \
    || fail "the service does not show the two idle clients"
expect_exit 5 ctl list
grep -q "max_clients_per_account" last.err || fail "refusal does not name max_clients_per_account: $(cat last.err)"
log_has "$work/service.log" "refusing client pid" || fail "no refusal line in the log"
tr -d '\r' <"$work/service.log" | grep "refusing client pid" | grep -q "($SHMBROKER_SERVER_SID)" \
    || fail "the refusal line does not carry the SID $SHMBROKER_SERVER_SID"
pass "a third connection of one account is refused: $(cat last.err)"
wait "$idle1" || fail "idle client 1 failed: $(cat idle1.out)"
wait "$idle2" || fail "idle client 2 failed: $(cat idle2.out)"
wait_for 10 grep -q "disconnected (0 clients)" "$work/service.log" \
    || fail "the idle clients are still counted"
expect_exit 0 ctl list
pass "the account is served again once its connections are gone"

out=$(hostile pipeline "$pipe" 200 list) || fail "hostile pipeline list failed: $out"
[ "$out" = "replies=200 ok=200 refused=0 out_of_order_at=0" ] || fail "pipelined LISTs: $out"
log_has "$work/service.log" "the rest waits its turn" || fail "200 pipelined requests were served in one turn"
pass "200 pipelined LISTs are served in turns, every reply in order"

# A client that sends 3,000 LISTs and reads nothing for 6 s: its replies
# fill the pipe's 64 KiB buffer, the reply that does not fit stalls the
# connection (no more of its requests are read), others are served all the
# while, and once it reads, the rest is served in order.
raw_hostile pipeline "$pipe" 3000 list 6000 >stall.out & staller=$!
wait_for 10 grep -q '^waiting' stall.out || fail "the pipelining client did not start: $(cat stall.out)"
wait_for 3 log_has "$work/service.log" "is not reading its replies" \
    || fail "no reply stalled for a client that reads nothing (3,000 LISTs)"
grep -q '^replies=' stall.out && fail "the stalled client got its replies before it read: $(cat stall.out)"
expect_exit 0 ctl list
pass "while one client's replies stall, another is served"
wait "$staller" || fail "the stalled client failed: $(cat stall.out)"
tr -d '\r' <stall.out | grep -qx "replies=3000 ok=3000 refused=0 out_of_order_at=0" \
    || fail "the stalled client's replies: $(tr '\n' ' ' <stall.out)"
pass "once it reads, all 3,000 replies come, in order"

refused_before=$(status_value opens_refused)
out=$(hostile pipeline "$pipe" 60 sysonly) || fail "hostile pipeline sysonly failed: $out"
[ "$out" = "replies=60 ok=0 refused=60 out_of_order_at=0" ] || fail "pipelined refused OPENs: $out"
refused_after=$(status_value opens_refused)
[ $((refused_after - refused_before)) = 60 ] || fail "opens_refused grew by $((refused_after - refused_before)), expected 60"
# This account was refused once already (the third connection): with the
# 60 OPENs, 61 refusals in one window, of which the burst of 20 is logged.
lines=$(tr -d '\r' <"$work/service.log" | grep -cE "refus(ing|ed) .*$SHMBROKER_SERVER_SID") \
    || fail "no refusal lines logged"
[ "$lines" = 20 ] || fail "$lines refusal lines for 61 refusals, expected the burst of 20"
pass "61 refusals counted, 20 logged (the rest held back for this account)"

stop_service
sed -i "s/^max_clients_per_account = 2$/max_clients_per_account = 2\nadmins = S-1-5-18/" shmb.conf
start_service shmb.conf
text=$(ctl_text status)
grep -q "^opens_granted=" <<<"$text" || fail "status has no counters: $text"
for key in config config_loaded pid handles private_kib; do
    ! grep -q "^$key=" <<<"$text" || fail "status tells a non-admin $key: $text"
done
pass "STATUS tells a caller who is not an admin only counters"
