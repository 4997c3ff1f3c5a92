#!/usr/bin/env bash
# What only real Windows can show of the SDK's checks (issue 11; Wine has
# one user, who owns the service's sections and may inspect every
# process). Run it by hand in MSYS2's or Git for Windows' bash, as a
# STANDARD user (not elevated), against the installed service running as
# LocalSystem with a section SECTION this user may read:
#
#   bash tests/windows-only/sdk_trust.sh [SECTION] [SHMBCTL]
#
# SHMBCTL defaults to the installed one. Each step prints ok: or FAIL:;
# the exit status is the number of failures. Not in ctest: it needs an
# installed service and a second account.
set -u
section=${1:-counters}
ctl=${2:-"C:/Program Files/shmbroker/bin/shmbctl.exe"}
failures=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The process check: a standard user cannot read LocalSystem's token, so
# the SDK must accept the service on its pipe's owner (an administrator
# reads SYSTEM and passes the full check).
if out=$("$ctl" list 2>&1); then
    ok "connected to the LocalSystem service (server process check: access denied tolerated, or SYSTEM read)"
else
    bad "shmbctl list: $out"
fi

# The owner check needs READ_CONTROL on the section: the service must
# grant it with every grant, or every open by a standard user is refused
# with "does not let this account read its owner".
if out=$("$ctl" read "$section" --length 1 2>&1 >/dev/null); then
    ok "opened $section: its owner (SYSTEM) was read and matched"
else
    bad "shmbctl read $section: $out"
fi

# A remote pipe name is refused before any connection (no SMB session to
# the host is attempted: watch with `net use` or a packet capture).
out=$("$ctl" --pipe '\\localhost\pipe\shmbroker' list 2>&1)
if [ $? = 2 ] && grep -q "another host" <<<"$out"; then
    ok "remote pipe name refused (exit 2)"
else
    bad "remote pipe name: $out"
fi
exit "$failures"
