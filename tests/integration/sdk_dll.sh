#!/usr/bin/env bash
# The SDK through its DLL, from C: see sdk_dll.c for the checks. The
# program must print "sdk ok" as its last line and exit 0.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf

rc=0
win "$SHMB_BIN/sdk_dll.exe" "$pipe" >sdk.raw 2>sdk.err || rc=$?
tr -d '\r' <sdk.raw >sdk.out
cat sdk.out
[ "$rc" = 0 ] || fail "sdk_dll.exe exited $rc: $(cat sdk.err)"
[ "$(tail -n1 sdk.out)" = "sdk ok" ] || fail "the SDK checks did not end with 'sdk ok'"
pass "the SDK DLL maps, shares and refuses as documented"
