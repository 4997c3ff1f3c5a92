#!/usr/bin/env bash
# The setup program, end to end, in a fresh Wine prefix of its own: a
# silent install (files, registry, service RUNNING, Event Log source, the
# config and its descriptor), the SDK as installed (the consumer example
# built on Linux with mingw through find_package and through pkg-config,
# then run under Wine against the installed service), an upgrade that keeps
# an edited config and restarts the service, an upgrade whose config does
# not load (exit code 3), a silent uninstall that keeps the config, the
# install-service.cmd / uninstall-service.cmd scripts, and /PURGE.
#
# Wine differences (see docs and the notes): the service runs as the test
# user, not LocalSystem, so clients expect that SID; Wine keeps a file's
# descriptor only as Unix mode bits, so the config's DACL check can see
# what Everyone may do, not the owner or who else is named.
. "$(dirname "$0")/lib.sh"
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${SHMB_INSTALLER:-}" ]; then
    echo "skip: no installer (makensis not found when configuring)"
    exit 77
fi
[ -f "$SHMB_INSTALLER" ] || fail "$SHMB_INSTALLER is missing: build the 'installer' target"

# A prefix of our own, with its own persistent wineserver: the shared one
# must not get our service, and ours must outlive each wine command. Its
# output goes to /dev/null, or ctest would wait for it.
# Right after `wineboot -i` has made a prefix, two services.exe run for it,
# and SCM calls land on either: a service that one created is unknown to
# the other (sc start: error 1060). So the prefix's first server is ended
# before the persistent one starts. (`wineserver -p` while a server runs
# does not make that one persistent either.)
# Natively there is no prefix: the test installs into the machine itself
# (a throw-away CI runner).
if [ -z "$shmb_native_windows" ]; then
    export WINEPREFIX=$work/prefix
    shmb_drive_c=$WINEPREFIX/drive_c
    wine_env start
    # 700 MB: keep it only to look at a failure.
    finish_prefix() {
        wine_env stop
        [ "$1" != 0 ] || rm -rf "$WINEPREFIX"
    }
    at_exit 'finish_prefix $rc'
fi

SHMBROKER_SERVER_SID=$(shmbtest whoami)
export SHMBROKER_SERVER_SID
me=$SHMBROKER_SERVER_SID
pf="$shmb_drive_c/Program Files/shmbroker"
confdir="$shmb_drive_c/ProgramData/shmbroker"
conf="$confdir/shmbroker.conf"
winconf='C:\ProgramData\shmbroker\shmbroker.conf'
svc_key='HKLM\SYSTEM\CurrentControlSet\Services\shmbroker'
event_key='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker'
uninst_key='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\shmbroker'

sc() { win sc "$@" | tr -d '\r'; }
reg() { win reg "$@" | tr -d '\r'; }
state_is() { sc query shmbroker | grep -q "STATE.*$1"; }
service_gone() { ! win sc query shmbroker >/dev/null 2>&1; }
ictl() { win "$pf/bin/shmbctl.exe" "$@"; }   # the installed shmbctl
setup() { win "$SHMB_INSTALLER" "$@"; }
installed_pid() { ictl status | tr -d '\r' | sed -n 's/^pid=//p'; }

# writers SDDL: the SIDs (or SDDL aliases) that an allow ACE grants a right
# to change the file: write or append data, WRITE_DAC, WRITE_OWNER, DELETE,
# GENERIC_WRITE or GENERIC_ALL (the rights the service's trust check looks
# for). Every right SDDL can spell is parsed; one this parser does not know
# is reported as a writer named unparsed-right-TOKEN, so that it fails the
# check instead of passing unseen.
sddl_right() {
    case $1 in
    GA) echo 0x10000000 ;; GR) echo 0x80000000 ;; GW) echo 0x40000000 ;; GX) echo 0x20000000 ;;
    FA) echo 0x1f01ff ;; FR) echo 0x120089 ;; FW) echo 0x120116 ;; FX) echo 0x1200a0 ;;
    SD) echo 0x10000 ;; RC) echo 0x20000 ;; WD) echo 0x40000 ;; WO) echo 0x80000 ;;
    # The directory-service letters name the low bits that files share:
    # CC 1 (read data), DC 2 (write data), LC 4 (append data), ...
    CC) echo 0x1 ;; DC) echo 0x2 ;; LC) echo 0x4 ;; SW) echo 0x8 ;;
    RP) echo 0x10 ;; WP) echo 0x20 ;; DT) echo 0x40 ;; LO) echo 0x80 ;; CR) echo 0x100 ;;
    *) return 1 ;;
    esac
}
writers() {
    local rights sid mask tok bits
    grep -o '(A;[^)]*)' <<<"$1" | while IFS=';' read -r _ _ rights _ _ sid; do
        sid=${sid%)}
        mask=0
        if [[ $rights == 0x* ]]; then
            mask=$((rights))
        else
            while [ -n "$rights" ]; do
                tok=${rights:0:2} rights=${rights:2}
                if bits=$(sddl_right "$tok"); then
                    mask=$((mask | bits))
                else
                    echo "unparsed-right-$tok"
                fi
            done
        fi
        if (( mask & (0x2 | 0x4 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000) )); then
            echo "$sid"
        fi
    done
}
untrusted_writers() {
    writers "$1" | grep -vxE "SY|BA|S-1-5-18|S-1-5-32-544|$me" || true
}
# The parser itself, before anything relies on it.
for t in "D:P(A;;DC;;;WD)=WD" "D:P(A;;LC;;;WD)=WD" "D:P(A;;CCDC;;;WD)=WD" \
            "D:P(A;;FR;;;WD)=" "D:P(A;;CCSWRPLORC;;;WD)=" "D:P(A;;0x4;;;WD)=WD" \
            "D:P(A;;FA;;;SY)(A;;GW;;;AU)=AU" "D:P(A;;ZZ;;;WD)=unparsed-right-ZZ"; do
    got=$(untrusted_writers "${t%%=*}" | tr '\n' ' ')
    [ "${got% }" = "${t#*=}" ] || fail "rights parser: ${t%%=*} gave writers '${got% }', expected '${t#*=}'"
done
pass "the rights parser reads every SDDL right, DC and LC among them"

# --------------------------------------------------------------- install
expect_exit 0 setup /S
for f in bin/shmbrokerd.exe bin/shmbctl.exe bin/libshmbroker.dll \
         include/shmbroker.h include/shmb_errno.h \
         lib/libshmbroker.dll.a lib/libshmbroker_static.a \
         lib/cmake/shmbroker/shmbrokerConfig.cmake \
         lib/cmake/shmbroker/shmbrokerConfigVersion.cmake \
         lib/cmake/shmbroker/shmbrokerTargets.cmake \
         lib/pkgconfig/shmbroker.pc lib/pkgconfig/shmbroker-static.pc \
         share/shmbroker/shmbroker.conf.example \
         share/shmbroker/install-service.cmd share/shmbroker/uninstall-service.cmd \
         share/doc/shmbroker/admin.md share/doc/shmbroker/sdk.md \
         share/doc/shmbroker/examples/example.c \
         share/doc/shmbroker/examples/consumer/CMakeLists.txt uninstall.exe; do
    [ -f "$pf/$f" ] || fail "not installed: $f"
done
cmp -s "$conf" "$src/installer/shmbroker.conf" || fail "the example config was not written to ProgramData"
pass "silent install: programs, SDK, docs and the example config in place"

wait_for 30 state_is RUNNING || fail "the service is not RUNNING: $(sc query shmbroker)"
reg query "$svc_key" >svc.reg || fail "no service key"
grep -qF 'ImagePath    REG_SZ    "C:\Program Files\shmbroker\bin\shmbrokerd.exe" --config "C:\ProgramData\shmbroker\shmbroker.conf"' svc.reg \
    || fail "service command line: $(grep ImagePath svc.reg)"
grep -Eq 'Start +REG_DWORD +0x2$' svc.reg || fail "not start= auto: $(grep Start svc.reg)"
grep -q 'Description.*shared-memory' svc.reg || fail "no description"
reg query "$event_key" >event.reg || fail "no Event Log source"
grep -qF 'EventMessageFile    REG_EXPAND_SZ    C:\Program Files\shmbroker\bin\shmbrokerd.exe' event.reg \
    || fail "EventMessageFile: $(cat event.reg)"
grep -Eq 'TypesSupported +REG_DWORD +0x7$' event.reg || fail "TypesSupported: $(cat event.reg)"
reg query "$uninst_key" >uninst.reg || fail "not in Programs and Features"
grep -q 'QuietUninstallString.*uninstall.exe" /S' uninst.reg || fail "no QuietUninstallString"
pass "service RUNNING (auto start, quoted paths), Event Log source and uninstall entry registered"

expect_exit 0 ictl status
grep -qxF "config=$winconf" last.txt || fail "status: $(cat last.txt)"
pass "the installed shmbctl reaches the installed service"

# ------------------------------------------------------------ config DACL
sddl=$(shmbtest getsddl "$winconf")
case $sddl in error*|"") fail "getsddl: $sddl" ;; esac
[ -z "$(untrusted_writers "$sddl")" ] || fail "the config can be written by $(untrusted_writers "$sddl"): $sddl"
grep -q '(A;[^)]*;FR;;;WD)\|(A;[^)]*;0x1200a9;;;WD)' <<<"$sddl" || fail "Everyone cannot read the config: $sddl"
dsddl=$(shmbtest getsddl 'C:\ProgramData\shmbroker')
[ -z "$(untrusted_writers "$dsddl")" ] || fail "the config folder can be written by $(untrusted_writers "$dsddl"): $dsddl"
# The check above can fail: a copy that Everyone may write is caught.
cp "$conf" "$confdir/probe.conf"
[ "$(shmbtest setsddl 'C:\ProgramData\shmbroker\probe.conf' 'D:P(A;;FA;;;SY)(A;;FA;;;WD)')" = ok ] || fail "setsddl"
[ -n "$(untrusted_writers "$(shmbtest getsddl 'C:\ProgramData\shmbroker\probe.conf')")" ] \
    || fail "a world-writable file passed the DACL check"
rm -f "$confdir/probe.conf"
pass "only SYSTEM, Administrators (and the owner) may write the config and its folder; everyone may read ($sddl)"

# The installed service trusts the installer's descriptor (it started);
# made writable by Everyone, the same config makes a reload fail, naming
# Everyone, and the service keeps serving. Then the installer's descriptor
# (CONF_FILE_SDDL in installer/shmbroker.nsi) is put back.
[ "$(shmbtest setsddl "$winconf" "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;WD)")" = ok ] || fail "setsddl"
expect_exit 1 ictl reload
grep -q "shmbroker.conf can be written by .*S-1-1-0" last.err || fail "reload said: $(cat last.err)"
expect_exit 0 ictl list
[ "$(shmbtest setsddl "$winconf" "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;WD)")" = ok ] || fail "setsddl back"
expect_exit 0 ictl reload
pass "a config made writable by Everyone makes a reload fail, naming Everyone; restored, it reloads"

# ------------------------------------------------ the SDK, as installed
printf 'installed SDK' | expect_exit 0 ictl write scratch

# find_package(shmbroker CONFIG), from the example project as installed.
cmake -S "$pf/share/doc/shmbroker/examples/consumer" -B "$work/consumer-cmake" \
    -DCMAKE_TOOLCHAIN_FILE="$src/cmake/mingw-w64-x86_64.cmake" \
    -DCMAKE_PREFIX_PATH="$pf" -DCMAKE_FIND_ROOT_PATH="$pf" \
    >cmake-configure.log 2>&1 || fail "consumer configure: $(tail -20 cmake-configure.log)"
cmake --build "$work/consumer-cmake" >cmake-build.log 2>&1 \
    || fail "consumer build: $(tail -20 cmake-build.log)"
grep -q "shmbroker_DIR:PATH=$pf/lib/cmake/shmbroker" "$work/consumer-cmake/CMakeCache.txt" \
    || fail "find_package did not use the installed package"
[ -f "$work/consumer-cmake/libshmbroker.dll" ] || fail "the DLL was not copied beside example-dll.exe"
pass "the consumer project builds with find_package(shmbroker CONFIG) against the installed SDK"

# pkg-config, with only the installed .pc files on its path.
make -f "$src/examples/consumer/Makefile" OUT="$work" \
    PKG_CONFIG_LIBDIR="$pf/lib/pkgconfig" >make.log 2>&1 || fail "pkg-config build: $(cat make.log)"
grep -qF -- '-DSHMB_SHARED' make.log || fail "shmbroker.pc gave no -DSHMB_SHARED: $(cat make.log)"
grep -qF -- '-lshmbroker_static -ladvapi32' make.log || fail "shmbroker-static.pc: $(cat make.log)"
pass "the consumer Makefile builds with pkg-config against the installed SDK"

# run_example EXE [ENV...]: maps scratch read-only, expects our bytes.
run_example() {
    local exe=$1; shift
    expect_exit 0 env "$@" "${shmb_run[@]}" "$exe" scratch
    grep -q '^section scratch: 1048576 bytes, object Global\\shmb-' last.txt \
        || fail "$(basename "$exe"): $(cat last.txt) $(cat last.err)"
    grep -qF '"installed SDK' last.txt || fail "$(basename "$exe") did not read the bytes: $(cat last.txt)"
}
run_example "$work/consumer-cmake/example-dll.exe"
run_example "$work/consumer-cmake/example-static.exe"
run_example "$work/example-pc-static.exe"
run_example "$work/example-pc-dll.exe" 'WINEPATH=C:\Program Files\shmbroker\bin'
pass "all four builds map the section from the installed service"

expect_exit 1 win "$work/consumer-cmake/example-static.exe" no-such-section
grep -q "SHMB_ENOENT" last.err || fail "no ENOENT: $(cat last.err)"
expect_exit 2 env SHMBROKER_SERVER_SID=S-1-5-18 "${shmb_run[@]}" "$work/consumer-cmake/example-dll.exe"
grep -q "SHMB_EBADSERVER" last.err || fail "no EBADSERVER: $(cat last.err)"
pass "the example tells answers (exit 1) from transport errors (exit 2)"

# --------------------------------------------------------------- upgrade
pid=$(installed_pid)
printf '\r\n; edited by the installer test\r\n[section upgraded]\r\nsize = 4KiB\r\nread = %s\r\n' "$me" >>"$conf"
cp "$conf" edited.conf
expect_exit 0 setup /S
cmp -s "$conf" edited.conf || fail "the upgrade changed the edited config"
wait_for 30 state_is RUNNING || fail "not RUNNING after the upgrade"
[ "$(installed_pid)" != "$pid" ] || fail "the service was not restarted"
expect_exit 0 ictl list
grep -q '^upgraded ' last.txt || fail "the restarted service does not serve the edit: $(cat last.txt)"
pass "an upgrade keeps the edited config and restarts the service with it"

printf '[service]\r\nbogus = 1\r\n' >"$conf"
expect_exit 3 setup /S
state_is STOPPED || fail "not STOPPED with a bad config: $(sc query shmbroker)"
sc query shmbroker | grep -Eq "SERVICE_EXIT_CODE *: *1 " || fail "no exit code 1: $(sc query shmbroker)"
cp edited.conf "$conf"
sc start shmbroker >/dev/null || fail "sc start"
wait_for 30 state_is RUNNING || fail "not RUNNING with the good config again"
pass "an upgrade whose config does not load exits 3, the service STOPPED with exit code 1"

expect_exit 0 setup /S /NOSTART
state_is STOPPED || fail "/NOSTART: $(sc query shmbroker)"
expect_exit 0 setup /S
state_is STOPPED || fail "an upgrade started a service that was stopped"
sc start shmbroker >/dev/null || fail "sc start"
wait_for 30 state_is RUNNING || fail "not RUNNING after sc start"
pass "/NOSTART leaves the service stopped, and an upgrade keeps a stopped service stopped"

# ------------------------------------------------------------- uninstall
# uninstall.exe /S re-runs itself from a temporary copy and returns at once.
expect_exit 0 win "$pf/uninstall.exe" /S
wait_for 60 test ! -e "$pf/uninstall.exe" || fail "the uninstaller did not finish"
wait_for 10 test ! -e "$pf" || fail "left behind: $(find "$pf" | head)"
service_gone || fail "the service still exists"
reg query "$event_key" >/dev/null 2>&1 && fail "the Event Log source is still registered"
reg query "$uninst_key" >/dev/null 2>&1 && fail "still in Programs and Features"
cmp -s "$conf" edited.conf || fail "the uninstaller did not keep the config"
pass "silent uninstall removes service, programs, SDK and event source, keeps the config"

# ------------------------------------------- the scripts for own tooling
root="$shmb_drive_c/shmbcmd"
mkdir -p "$root/bin"
cp "$SHMB_BIN/shmbrokerd.exe" "$SHMB_BIN/shmbctl.exe" "$root/bin/"
cp "$src/installer/install-service.cmd" "$src/installer/uninstall-service.cmd" "$root/"
expect_exit 2 win cmd /c 'C:\shmbcmd\install-service.cmd'
expect_exit 0 win cmd /c 'C:\shmbcmd\install-service.cmd' 'C:\shmbcmd\bin'
state_is RUNNING || fail "install-service.cmd: not RUNNING"
reg query "$svc_key" | grep -qF 'ImagePath    REG_SZ    "C:\shmbcmd\bin\shmbrokerd.exe" --config "C:\ProgramData\shmbroker\shmbroker.conf"' \
    || fail "install-service.cmd ImagePath: $(reg query "$svc_key")"
reg query "$event_key" | grep -qF 'C:\shmbcmd\bin\shmbrokerd.exe' || fail "install-service.cmd: no event source"
expect_exit 0 win "$root/bin/shmbctl.exe" list
grep -q '^upgraded ' last.txt || fail "install-service.cmd: $(cat last.txt)"
expect_exit 0 win cmd /c 'C:\shmbcmd\uninstall-service.cmd'
service_gone || fail "uninstall-service.cmd left the service"
reg query "$event_key" >/dev/null 2>&1 && fail "uninstall-service.cmd left the event source"
expect_exit 0 win cmd /c 'C:\shmbcmd\uninstall-service.cmd'
pass "install-service.cmd and uninstall-service.cmd register and remove the service"

# ----------------------------------------------------------------- purge
# Into another folder this time (/D=, which must be last and unquoted:
# Wine would re-quote a path with spaces).
alt="$shmb_drive_c/Apps/shmbroker"
expect_exit 0 setup /S '/D=C:\Apps\shmbroker'
[ -f "$alt/bin/shmbrokerd.exe" ] || fail "/D= did not install into C:\Apps\shmbroker"
[ ! -e "$pf" ] || fail "/D= installed into Program Files too"
reg query "$svc_key" | grep -qF 'ImagePath    REG_SZ    "C:\Apps\shmbroker\bin\shmbrokerd.exe"' \
    || fail "/D= service path: $(reg query "$svc_key")"
wait_for 30 state_is RUNNING || fail "not RUNNING after reinstalling"
cmp -s "$conf" edited.conf || fail "reinstalling replaced the kept config"
expect_exit 0 win "$alt/uninstall.exe" /S /PURGE
wait_for 60 test ! -e "$confdir" || fail "/PURGE kept $(ls "$confdir")"
wait_for 10 test ! -e "$alt" || fail "left behind after /PURGE: $(find "$alt" | head)"
service_gone || fail "the service still exists after /PURGE"
pass "a reinstall (elsewhere, /D=) keeps the config; uninstall /PURGE removes it too"
