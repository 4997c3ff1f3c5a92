#!/usr/bin/env bash
# A config that does not parse, or a descriptor that would open a section to
# everyone or to no one, stops shmbrokerd before it serves anything, with
# the file, line or section and the reason.
. "$(dirname "$0")/lib.sh"

write_config bad.conf <<'EOF2'
[service]
pipe = @PIPE@

[section a]
size = 12 parsecs
sddl = O:SYG:SYD:P(A;;GA;;;SY)
EOF2
run_service_expecting 1 --console --config bad.conf
grep -q "bad.conf:5: size must be" out.log || fail "message: $(cat out.log)"
pass "a bad size stops the start with bad.conf:5"

# Windows makes D:NO_ACCESS_CONTROL a NULL DACL (refused as such); Wine makes
# it an empty one (refused as granting no one). Either way: no start.
for dacl in "D:NO_ACCESS_CONTROL" "D:P" "D:P(A;;GX;;;WD)"; do
    write_config dacl.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local

[section open-to-all]
size = 4KiB
sddl = O:SYG:SY$dacl
EOF2
    run_service_expecting 3 --console --config dacl.conf
    grep -Eq "section open-to-all.*(NULL DACL|grants no one)" out.log \
        || fail "message for $dacl: $(cat out.log)"
    pass "sddl $dacl is refused, naming the section"
done

write_config sacl.conf <<'EOF2'
[service]
pipe = @PIPE@
namespace = Local

[section audited]
size = 4KiB
sddl = O:SYG:SYD:P(A;;GR;;;WD)S:(AU;SA;GA;;;WD)
EOF2
run_service_expecting 3 --console --config sacl.conf
grep -q "section audited.*SACL" out.log || fail "message: $(cat out.log)"
pass "a SACL is refused, naming the section"

# A pipe NAME that is a path: Windows resolves ".." before it creates the
# pipe (\\.\pipe\..\x is \\.\x, another device), and '\' or '/' would make
# NAME more than one component.
for name in '\\.\pipe\..\x' '\\.\pipe\..' '\\.\pipe\a\b' '\\.\pipe\a/b'; do
    printf '[service]\npipe = %s\n' "$name" >pipe.conf
    run_service_expecting 1 --console --config pipe.conf
    grep -qF "pipe.conf:2: pipe must look like" out.log || fail "pipe = $name: $(cat out.log)"
    pass "pipe = $name stops the start with pipe.conf:2"
done

run_service_expecting 1 --console --config missing.conf
grep -q "missing.conf: cannot open" out.log || fail "message: $(cat out.log)"
pass "a missing config file is named"

run_service_expecting 2 --console
run_service_expecting 2 --console --config
pass "usage errors exit 2"
