#!/usr/bin/env bash
# What the caller may not have: a SYSTEM-only section is not listed and
# opening it is refused (exit 3); an unknown name is exit 4; a server that
# is not the expected account, or no service at all, is exit 5.
. "$(dirname "$0")/lib.sh"
standard_config shmb.conf
start_service shmb.conf

expect_exit 0 ctl list
grep -q "^readonly .* read  *section$" last.txt || fail "list lacks readonly: $(cat last.txt)"
grep -q "^readwrite .* read,write  *section$" last.txt || fail "list lacks readwrite: $(cat last.txt)"
grep -q sysonly last.txt && fail "list shows the SYSTEM-only section"
pass "list shows the granted sections with their access and hides sysonly"

expect_exit 3 ctl info sysonly
expect_exit 3 ctl read sysonly
pass "opening the SYSTEM-only section is refused with exit 3"

expect_exit 4 ctl info no-such-section
grep -q "no such section" last.err || fail "message: $(cat last.err)"
pass "an unknown section is exit 4"

expect_exit 2 ctl frobnicate
expect_exit 2 ctl read
pass "bad usage is exit 2"

expect_exit 5 ctl --server-sid S-1-5-18 list
grep -q "not the expected account" last.err || fail "message: $(cat last.err)"
pass "a server that is not LocalSystem is refused before anything is sent"

refused=$(status_value opens_refused)
[ "$refused" = 3 ] || fail "opens_refused=$refused, expected 3"
pass "the service counted 3 refused opens"

stop_service
expect_exit 5 ctl --timeout 500 list
grep -q "could not reach the service" last.err || fail "message: $(cat last.err)"
pass "no service is exit 5"
