#!/usr/bin/env bash
# The SDK through its DLL, from C: see sdk_dll.c for the checks.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf

wine "$SHMB_BIN/sdk_dll.exe" "$pipe" | tr -d '\r' >sdk.out || true
cat sdk.out
grep -qx "sdk ok" sdk.out || fail "the SDK checks failed"
pass "the SDK DLL maps, shares and refuses as documented"
