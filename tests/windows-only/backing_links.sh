#!/usr/bin/env bash
# Backing files and log_file on real NTFS (issue 11), what Wine cannot show
# (under Wine the only user is the service's account, junctions are Unix
# symlinks, and a file's DACL is mode bits):
#   - a backing file owned by another account (BUILTIN\Users, set with
#     icacls /setowner) is refused naming that account, and left as it was;
#   - a backing path through a junction, and a backing file that is a
#     symbolic link to another file, are refused and the target untouched;
#   - a log_file the service creates has a protected DACL with SYSTEM and
#     Administrators (and the service's account) only.
# Run it by hand, ELEVATED (mklink, icacls /setowner), in MSYS2's or Git
# for Windows' bash, from the repository with a Windows build:
#
#   bash tests/windows-only/backing_links.sh
#
# It works under C:\shmb-wo-backing and removes it at the end.
. "$(dirname "$0")/lib.sh"
is_admin || { echo "run this elevated (as an administrator)" >&2; exit 2; }

top='C:\shmb-wo-backing'
pipe="\\\\.\\pipe\\shmb-wo-backing-$$"
cleanup() { cmd //c "rmdir /s /q $top" >/dev/null 2>&1; }
trap cleanup EXIT
cleanup
mkdir -p "$(cygpath -u "$top\\data")" "$(cygpath -u "$top\\elsewhere")"
icacls "$top" /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' '*S-1-1-0:(OI)(CI)RX' >/dev/null
icacls "$top" /setowner '*S-1-5-32-544' /T >/dev/null

# config BACKING [LOG]: one file-backed 4 KiB section.
config() {
    {
        printf '[service]\npipe = %s\nnamespace = Local\n' "$pipe"
        [ -z "${2:-}" ] || printf 'log_file = %s\n' "$2"
        printf '\n[section wo]\nsize = 4KiB\nread = BUILTIN\\Users\nbacking = file:%s\n' "$1"
    } >"$(cygpath -u "$top\\shmb.conf")"
}
fourk() { head -c 4096 /dev/zero >"$(cygpath -u "$1")"; }
conf="$top\\shmb.conf"

# An untrusted owner.
fourk "$top\\data\\owned.bin"
icacls "$top\\data\\owned.bin" /setowner '*S-1-5-32-545' >/dev/null
before=$(icacls "$top\\data\\owned.bin")
config "$top\\data\\owned.bin"
if refused_naming "$conf" "owned by BUILTIN\\Users" && [ "$(icacls "$top\\data\\owned.bin")" = "$before" ]; then
    ok "a backing file owned by BUILTIN\\Users is refused, naming it, and left as it was"
else
    bad "a backing file owned by BUILTIN\\Users"
fi

# A junction in the backing path.
cmd //c "mklink /J $top\\via $top\\elsewhere" >/dev/null
fourk "$top\\elsewhere\\a.bin"
config "$top\\via\\a.bin"
if refused_naming "$conf" "reparse point"; then ok "a backing path through a junction is refused"; else bad "a backing path through a junction was not refused"; fi

# A symbolic link as the backing file, to a file the service must not touch.
printf 'precious' >"$(cygpath -u "$top\\elsewhere\\precious.txt")"
before=$(icacls "$top\\elsewhere\\precious.txt")
cmd //c "mklink $top\\data\\link.bin $top\\elsewhere\\precious.txt" >/dev/null
config "$top\\data\\link.bin"
if refused_naming "$conf" "backing file" &&
    [ "$(cat "$(cygpath -u "$top\\elsewhere\\precious.txt")")" = precious ] &&
    [ "$(icacls "$top\\elsewhere\\precious.txt")" = "$before" ]; then
    ok "a symbolic link as the backing file is refused; its target keeps its bytes and DACL"
else
    bad "a symbolic link as the backing file"
fi

# log_file: a protected DACL, SYSTEM and Administrators.
config "$top\\data\\new.bin" "$top\\data\\shmb.log"
serves "$conf" "$pipe" || bad "the service did not serve with log_file set"
sddl=$(shmbtest getsddl "$top\\data\\shmb.log")
case $sddl in
*D:P*) ok "log_file's DACL is protected: $sddl" ;;
*) bad "log_file's DACL is not protected: $sddl" ;;
esac
for sid in SY BA; do
    grep -Eq "\(A;[^;]*;FA;;;$sid\)" <<<"$sddl" || bad "log_file does not give $sid full access: $sddl"
done
grep -Eq ';;;(WD|AU|BU|IU)\)' <<<"$sddl" && bad "log_file lets others in: $sddl"
exit "$failures"
