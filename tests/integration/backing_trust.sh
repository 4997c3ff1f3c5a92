#!/usr/bin/env bash
# Backing files the service opens as SYSTEM (issue 11): an existing file is
# judged, never re-permissioned or changed. Refused and left untouched: a
# file others may read (its owner could have kept a handle open), a file
# with a second name (a hard link from a folder others can write), and a
# symbolic link (a reparse point, or under Wine a path that ends elsewhere).
# Accepted with its bytes: a file of the right size that only the service's
# account may use. Wine keeps a file's DACL as Unix mode bits, so here
# "others may read" is mode o+r; an untrusted owner only real Windows can
# show (docs/reliability.md).
. "$(dirname "$0")/lib.sh"
me=$SHMBROKER_SERVER_SID

config_for() { # config_for FILE
    local w
    w=$(winpath "$work/$1")
    write_config shmb.conf <<EOF2
[service]
pipe = @PIPE@
namespace = Local
log_level = debug

[section data]
size = 4KiB
write = $me
backing = file:$w
EOF2
}
# refused FILE TEXT: the service refuses to start on FILE, saying TEXT, and
# FILE is byte for byte what it was.
refused() {
    cp "$1" "$1.orig" || fail "cannot copy $1"
    config_for "$1"
    run_service_expecting 3 --console --config shmb.conf
    grep -qF -- "$2" out.log || fail "$1: no '$2' in: $(cat out.log)"
    cmp -s "$1" "$1.orig" || fail "$1 was changed"
}

head -c 4096 /dev/urandom >open.bin
chmod 0644 open.bin
refused open.bin "can be read by"
pass "a backing file others may read is refused, untouched: $(grep -o 'backing file.*read by[^)]*)' out.log | head -1)"

head -c 4096 /dev/urandom >linked.bin
chmod 0600 linked.bin
ln linked.bin linked-other-name.bin || fail "ln failed"
refused linked.bin "more than one name"
rm -f linked-other-name.bin
pass "a backing file with a second name is refused, untouched"

head -c 4096 /dev/urandom >target.bin
chmod 0600 target.bin
ln -s target.bin symlinked.bin || fail "ln -s failed"
cp target.bin target.orig
config_for symlinked.bin
run_service_expecting 3 --console --config shmb.conf
grep -qE "is a reparse point|is not at that path" out.log || fail "symlink: $(cat out.log)"
cmp -s target.bin target.orig || fail "the link's target was changed"
pass "a symbolic link is not followed: $(grep -oE 'is a reparse point|is not at that path' out.log | head -1)"

mkdir -p open-folder
head -c 4096 /dev/urandom >open-folder/inside.bin
chmod 0600 open-folder/inside.bin
cp open-folder/inside.bin inside.orig
out=$(shmbtest setsddl "$(winpath "$work/open-folder")" "D:P(A;OICI;FA;;;WD)(A;OICI;FA;;;$me)") \
    || fail "shmbtest setsddl failed: $out"
config_for 'open-folder\inside.bin'
run_service_expecting 3 --console --config shmb.conf
grep -q "open-folder can be written by Everyone" out.log || fail "open folder: $(cat out.log)"
cmp -s open-folder/inside.bin inside.orig || fail "the file in the open folder was changed"
pass "a backing file in a folder others can write to is refused, naming the folder"

head -c 4096 /dev/urandom >mine.bin
chmod 0600 mine.bin
cp mine.bin mine.orig
config_for mine.bin
start_service shmb.conf
expect_exit 0 ctl read data --length 4096
cmp -s last.out mine.orig || fail "the service does not serve the existing file's bytes"
stop_service
pass "an existing file only the service's account may use is served with its bytes"
