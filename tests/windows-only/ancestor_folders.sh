#!/usr/bin/env bash
# Every folder up to the volume root (issue 11), on real NTFS with real
# accounts, which Wine cannot give (one user; its folders are mode bits):
#   - a folder two levels above the config that Authenticated Users may
#     delete entries from (delete-child), or delete, or re-permission: the
#     start is refused naming that folder and the account;
#   - the same folder letting them only add files and folders (what C:\ and
#     C:\ProgramData grant users): served;
#   - a junction on the config's path: refused;
#   - the default layout, C:\ProgramData\<folder> with the descriptor of
#     docs/admin.md: served (C:\ is owned by TrustedInstaller, and
#     C:\ProgramData lets Users add files: both must pass).
# Run it by hand, ELEVATED (icacls and mklink), in MSYS2's or Git for
# Windows' bash, from the repository with a Windows build:
#
#   bash tests/windows-only/ancestor_folders.sh
#
# It works under C:\shmb-wo-ancestors and C:\ProgramData\shmb-wo-ancestors
# and removes both at the end.
. "$(dirname "$0")/lib.sh"
is_admin || { echo "run this elevated (as an administrator)" >&2; exit 2; }

top='C:\shmb-wo-ancestors'
pd='C:\ProgramData\shmb-wo-ancestors'
pipe="\\\\.\\pipe\\shmb-wo-ancestors-$$"
cleanup() { cmd //c "rmdir /s /q $top" >/dev/null 2>&1; cmd //c "rmdir /s /q $pd" >/dev/null 2>&1; }
trap cleanup EXIT
cleanup

# tight FOLDER: SYSTEM and Administrators only, everyone may read (admin.md).
tight() {
    icacls "$1" /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' '*S-1-1-0:(OI)(CI)RX' >/dev/null &&
        icacls "$1" /setowner '*S-1-5-32-544' /T >/dev/null
}
# fresh: top tight, and every folder and file below inheriting only that.
fresh() { tight "$top" && icacls "$top\\outer" /reset /T >/dev/null; }
config() {
    printf '[service]\npipe = %s\nnamespace = Local\n\n[section wo]\nsize = 4KiB\nread = BUILTIN\\Users\n' "$pipe" >"$(cygpath -u "$1")"
}

mkdir -p "$(cygpath -u "$top\\outer\\conf")"
tight "$top"
config "$top\\outer\\conf\\shmb.conf"
tight "$top\\outer\\conf\\shmb.conf"
conf="$top\\outer\\conf\\shmb.conf"
if serves "$conf" "$pipe"; then ok "a tight chain under C:\\ is served"; else bad "a tight chain under C:\\ was refused"; fi

# The grand-parent (outer) given one replace right at a time.
for right in DC D WDAC WO; do
    fresh
    icacls "$top\\outer" /grant "*S-1-5-11:($right)" >/dev/null
    if refused_naming "$conf" "outer can be written by"; then
        ok "outer granting Authenticated Users ($right) is refused, naming outer"
    else
        bad "outer granting Authenticated Users ($right) was not refused naming outer"
    fi
done

# Adding entries there is harmless: the conf folder exists and a new name
# cannot take its place.
fresh
icacls "$top\\outer" /grant '*S-1-5-11:(AD,WD)' >/dev/null
if serves "$conf" "$pipe"; then ok "outer letting users add files and folders is served"; else bad "outer letting users add files and folders was refused"; fi

# ...but not in the folder holding the file.
fresh
icacls "$top\\outer\\conf" /grant '*S-1-5-11:(WD)' >/dev/null
if refused_naming "$conf" "conf can be written by"; then ok "the config's own folder letting users add files is refused"; else bad "the config's own folder letting users add files was not refused"; fi

# A junction on the path.
fresh
cmd //c "mklink /J $top\\via $top\\outer" >/dev/null
if refused_naming "$top\\via\\conf\\shmb.conf" "reparse point"; then ok "a junction on the path is refused"; else bad "a junction on the path was not refused"; fi

# The default layout.
mkdir -p "$(cygpath -u "$pd")"
tight "$pd"
config "$pd\\shmb.conf"
tight "$pd\\shmb.conf"
if serves "$pd\\shmb.conf" "$pipe"; then ok "C:\\ProgramData\\<folder> with admin.md's descriptor is served (C:\\ and C:\\ProgramData pass as ancestors)"; else bad "the default layout was refused"; fi
exit "$failures"
