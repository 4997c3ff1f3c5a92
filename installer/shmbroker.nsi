; shmbroker.nsi - the Windows installer of shmbroker (NSIS 3).
;
; Installs the programs, the DLL and the SDK (the tree that `cmake --install`
; stages) into "C:\Program Files\shmbroker", writes the example config to
; C:\ProgramData\shmbroker\shmbroker.conf when there is none (an upgrade
; keeps the administrator's file), registers the service and the Event Log
; source and starts the service. An upgrade stops the service before it
; replaces files and starts it again afterwards if it was running.
;
; Built by the project (`cmake --build build/windows --target installer`):
;   makensis -DVERSION=0.2.0 -DSTAGE=<staged install tree>
;            -DGEN=<dir of install-files.nsh, uninstall-files.nsh>
;            -DOUTFILE=<setup.exe> shmbroker.nsi
;
; Command line (see docs/admin.md):
;   setup.exe [/S] [/NOSTART] [/D=C:\path\without\quotes]
;   uninstall.exe [/S] [/PURGE]
; Exit codes: 0 done; 1 cancelled; 2 failed (nothing or not everything was
; installed: not an administrator, the service would not stop, sc.exe
; failed); 3 installed, but the service did not reach RUNNING (see the
; Event Log, source shmbroker).
;
; The installer must be 64-bit: Windows on ARM aside, 64-bit Windows (and a
; 64-bit-only Wine) runs it natively, it writes the 64-bit registry view and
; $SYSDIR is the real System32.
Unicode true
Target amd64-unicode
ManifestSupportedOS all

!ifndef VERSION
  !error "define VERSION, STAGE, GEN and OUTFILE (see the header)"
!endif
!ifndef STAGE
  !error "define STAGE: the staged install tree"
!endif
!ifndef GEN
  !error "define GEN: the directory of install-files.nsh"
!endif
!ifndef OUTFILE
  !error "define OUTFILE: the setup program to write"
!endif

!define PRODUCT "shmbroker"
!define SERVICE "shmbroker"
!define SERVICE_DISPLAY "shmbroker shared-memory broker"
!define SERVICE_DESCRIPTION "Owns named shared-memory sections and hands them to clients after an access check."
!define SERVICE_KEY "SYSTEM\CurrentControlSet\Services\${SERVICE}"
!define EVENT_KEY "SYSTEM\CurrentControlSet\Services\EventLog\Application\${SERVICE}"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${PRODUCT}"
!define PRODUCT_KEY "Software\${PRODUCT}"

; The config directory: SYSTEM and Administrators full control, everyone
; else read (inherited by what the service or an administrator creates in
; it). The config file itself gets the same rights explicitly, protected
; from inheritance. Owner: Administrators. The service refuses a config
; that others can write (docs/config.md).
!define CONF_DIR_SDDL "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FRFX;;;WD)"
!define CONF_FILE_SDDL "O:BAG:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;WD)"

; SERVICE_STATUS.dwCurrentState values.
!define SVC_NONE 0      ; (ours) no such service
!define SVC_STOPPED 1
!define SVC_RUNNING 4

Name "shmbroker ${VERSION}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${PRODUCT}"
InstallDirRegKey HKLM "${PRODUCT_KEY}" "InstallDir"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
ShowInstDetails show
ShowUninstDetails show
BrandingText "shmbroker ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "shmbroker"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "shmbroker ${VERSION} setup"
VIAddVersionKey "LegalCopyright" "shmbroker authors"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "Sections.nsh"

!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_NOAUTOCLOSE
!define MUI_UNFINISHPAGE_NOAUTOCLOSE
!define MUI_COMPONENTSPAGE_NODESC
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Var ConfDir
Var ConfFile
Var Existed     ; the service was registered before this run
Var WasRunning  ; ... and not stopped
Var NoStart     ; /NOSTART

; SetSddl PATH SDDL: owner and protected DACL of a file or directory, through
; SetNamedSecurityInfoW (icacls would do on Windows, but Wine's is a stub;
; this works on both). Sets $0 to the Win32 error, 0 on success.
!macro SetSddl PATH SDDL
  Push $1
  Push $2
  Push $3
  Push $4
  System::Call 'advapi32::ConvertStringSecurityDescriptorToSecurityDescriptorW(w "${SDDL}", i 1, *p .r1, p 0) i .r0'
  ${If} $0 == 0
    StrCpy $0 1336 ; ERROR_INVALID_ACL
  ${Else}
    System::Call 'advapi32::GetSecurityDescriptorOwner(p r1, *p .r2, *i .r4)'
    System::Call 'advapi32::GetSecurityDescriptorDacl(p r1, *i .r4, *p .r3, *i .r4)'
    ; OWNER | DACL | PROTECTED_DACL; SE_FILE_OBJECT = 1
    System::Call 'advapi32::SetNamedSecurityInfoW(w "${PATH}", i 1, i 0x80000005, p r2, p 0, p r3, p 0) i .r0'
    System::Call 'kernel32::LocalFree(p r1)'
  ${EndIf}
  Pop $4
  Pop $3
  Pop $2
  Pop $1
!macroend

; Sc ARGS: runs "sc.exe ARGS", its output to the details; $0 = exit code.
!macro Sc ARGS
  DetailPrint `sc ${ARGS}`
  nsExec::ExecToLog '"$SYSDIR\sc.exe" ${ARGS}'
  Pop $0
!macroend

; The service functions, once for the installer and once ("un.") for the
; uninstaller: NSIS keeps their code apart.
!macro SERVICE_FUNCTIONS UN
  ; $R0 = the service's state (SVC_*), through the SCM's API rather than
  ; parsing sc.exe's output.
  Function ${UN}ServiceState
    Push $0
    Push $1
    Push $2
    StrCpy $R0 ${SVC_NONE}
    System::Call 'advapi32::OpenSCManagerW(p 0, p 0, i 1) p .r0' ; CONNECT
    ${If} $0 != 0
      System::Call 'advapi32::OpenServiceW(p r0, w "${SERVICE}", i 4) p .r1' ; QUERY_STATUS
      ${If} $1 != 0
        System::Call '*(i, i, i, i, i, i, i) p .r2'
        System::Call 'advapi32::QueryServiceStatus(p r1, p r2) i .R0'
        ${If} $R0 != 0
          System::Call '*$2(i, i .R0)'
        ${Else}
          StrCpy $R0 ${SVC_STOPPED} ; it exists; assume stopped
        ${EndIf}
        System::Free $2
        System::Call 'advapi32::CloseServiceHandle(p r1)'
      ${EndIf}
      System::Call 'advapi32::CloseServiceHandle(p r0)'
    ${EndIf}
    Pop $2
    Pop $1
    Pop $0
  FunctionEnd

  ; Waits up to $R2 seconds for state $R1; ends early when the service is
  ; gone or, waiting for RUNNING, has stopped. $R0 = the last state seen.
  Function ${UN}WaitForState
    Push $R3
    IntOp $R3 $R2 * 4
    ${Do}
      Call ${UN}ServiceState
      ${If} $R0 == $R1
      ${OrIf} $R0 == ${SVC_NONE}
        ${Break}
      ${EndIf}
      ${If} $R1 == ${SVC_RUNNING}
      ${AndIf} $R0 == ${SVC_STOPPED}
        ${Break}
      ${EndIf}
      ${If} $R3 <= 0
        ${Break}
      ${EndIf}
      IntOp $R3 $R3 - 1
      Sleep 250
    ${Loop}
    Pop $R3
  FunctionEnd

  ; Stops the service if it runs; $R0 = its state afterwards.
  Function ${UN}StopService
    Call ${UN}ServiceState
    ${If} $R0 != ${SVC_NONE}
    ${AndIf} $R0 != ${SVC_STOPPED}
      DetailPrint "Stopping the ${SERVICE} service"
      !insertmacro Sc 'stop ${SERVICE}'
      StrCpy $R1 ${SVC_STOPPED}
      StrCpy $R2 60
      Call ${UN}WaitForState
    ${EndIf}
  FunctionEnd

  Function ${UN}RequireAdmin
    UserInfo::GetAccountType
    Pop $0
    ${If} $0 != "Admin"
      MessageBox MB_ICONSTOP "shmbroker: run this as an administrator." /SD IDOK
      SetErrorLevel 2
      Quit
    ${EndIf}
  FunctionEnd
!macroend
!insertmacro SERVICE_FUNCTIONS ""
!insertmacro SERVICE_FUNCTIONS "un."

Function .onInit
  Call RequireAdmin
  StrCpy $NoStart 0
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/NOSTART" $R1
  ${IfNot} ${Errors}
    StrCpy $NoStart 1
  ${EndIf}
FunctionEnd

Function Fail
  ; $R9: the message.
  DetailPrint "$R9"
  MessageBox MB_ICONSTOP "$R9" /SD IDOK
  SetErrorLevel 2
  Abort
FunctionEnd

Section "shmbroker" SecMain
  SectionIn RO
  SetShellVarContext all
  StrCpy $ConfDir "$APPDATA\${PRODUCT}"
  StrCpy $ConfFile "$ConfDir\shmbroker.conf"

  ; An upgrade: the running service holds shmbrokerd.exe open.
  Call ServiceState
  StrCpy $Existed 0
  StrCpy $WasRunning 0
  ${If} $R0 != ${SVC_NONE}
    StrCpy $Existed 1
    ${If} $R0 != ${SVC_STOPPED}
      StrCpy $WasRunning 1
      Call StopService
      ${If} $R0 != ${SVC_STOPPED}
        StrCpy $R9 "The ${SERVICE} service did not stop within 60 s; nothing was changed."
        Call Fail
      ${EndIf}
    ${EndIf}
  ${EndIf}

  ; Programs, DLL and SDK: exactly the staged install tree.
  !include "${GEN}\install-files.nsh"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; The config folder and file: made once, never replaced, and an
  ; administrator's changes to their descriptors are kept. A folder or file
  ; that someone else made first is left as it is, too: the service's trust
  ; check refuses it, loudly, until an administrator fixes it.
  ${IfNot} ${FileExists} "$ConfDir\*.*"
    CreateDirectory "$ConfDir"
    !insertmacro SetSddl "$ConfDir" "${CONF_DIR_SDDL}"
    ${If} $0 != 0
      StrCpy $R9 "Could not restrict who may change $ConfDir (Win32 error $0)."
      Call Fail
    ${EndIf}
  ${EndIf}
  ${IfNot} ${FileExists} "$ConfFile"
    SetOutPath "$ConfDir"
    File "/oname=$ConfFile" "${STAGE}/share/shmbroker/shmbroker.conf.example"
    !insertmacro SetSddl "$ConfFile" "${CONF_FILE_SDDL}"
    ${If} $0 != 0
      Delete "$ConfFile"
      StrCpy $R9 "Could not restrict who may write $ConfFile (Win32 error $0)."
      Call Fail
    ${EndIf}
    DetailPrint "Wrote the example config $ConfFile"
  ${Else}
    DetailPrint "Kept the existing config $ConfFile"
  ${EndIf}
  SetOutPath "$INSTDIR"

  ; The service. Quoted path and argument: both may contain spaces.
  StrCpy $1 '"$INSTDIR\bin\shmbrokerd.exe" --config "$ConfFile"'
  ${If} $Existed == 0
    !insertmacro Sc 'create ${SERVICE} binPath= "\"$INSTDIR\bin\shmbrokerd.exe\" --config \"$ConfFile\"" start= auto DisplayName= "${SERVICE_DISPLAY}"'
    ${If} $0 != 0
      StrCpy $R9 "sc create ${SERVICE} failed (exit code $0)."
      Call Fail
    ${EndIf}
  ${Else}
    ; Installed elsewhere than before: point the service at the new place.
    ReadRegStr $2 HKLM "${SERVICE_KEY}" "ImagePath"
    ${If} $2 != $1
      !insertmacro Sc 'config ${SERVICE} binPath= "\"$INSTDIR\bin\shmbrokerd.exe\" --config \"$ConfFile\""'
      ${If} $0 != 0
        DetailPrint "warning: could not update the service's path (sc config exit code $0)"
      ${EndIf}
    ${EndIf}
  ${EndIf}
  !insertmacro Sc 'description ${SERVICE} "${SERVICE_DESCRIPTION}"'
  !insertmacro Sc 'failure ${SERVICE} reset= 86400 actions= restart/5000/restart/5000/restart/5000'
  ${If} $0 != 0
    DetailPrint "warning: could not set the recovery actions (sc failure exit code $0)"
  ${EndIf}

  ; The Event Log source the service reports under.
  WriteRegExpandStr HKLM "${EVENT_KEY}" "EventMessageFile" "$INSTDIR\bin\shmbrokerd.exe"
  WriteRegDWORD HKLM "${EVENT_KEY}" "TypesSupported" 7

  ; Programs and Features.
  WriteRegStr HKLM "${PRODUCT_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${PRODUCT_KEY}" "Version" "${VERSION}"
  WriteRegStr HKLM "${PRODUCT_KEY}" "Config" "$ConfFile"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "shmbroker"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "shmbroker"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\bin\shmbrokerd.exe"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $2 $3 $4
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" $2

  ; Start: a new install, or an upgrade of a service that was running.
  ${If} $NoStart == 1
    DetailPrint "/NOSTART: not starting the service (sc start ${SERVICE})"
  ${ElseIf} $Existed == 1
  ${AndIf} $WasRunning == 0
    DetailPrint "The service was stopped before the upgrade; it stays stopped (sc start ${SERVICE})"
  ${Else}
    !insertmacro Sc 'start ${SERVICE}'
    StrCpy $R1 ${SVC_RUNNING}
    StrCpy $R2 60
    Call WaitForState
    ${If} $R0 == ${SVC_RUNNING}
      DetailPrint "The ${SERVICE} service is running"
    ${Else}
      DetailPrint "The ${SERVICE} service did not start (state $R0)"
      MessageBox MB_ICONEXCLAMATION "shmbroker is installed, but the service did not start.$\r$\nCheck $ConfFile and the Application event log (source ${SERVICE}), then run: sc start ${SERVICE}" /SD IDOK
      SetErrorLevel 3
    ${EndIf}
  ${EndIf}
SectionEnd

; ---------------------------------------------------------------- uninstall

Section "un.shmbroker (programs, SDK, service)" SecUninstall
  SectionIn RO
  SetShellVarContext all

  Call un.StopService
  ${If} $R0 != ${SVC_NONE}
    ${If} $R0 != ${SVC_STOPPED}
      DetailPrint "warning: the service did not stop within 60 s"
      SetErrorLevel 2
    ${EndIf}
    !insertmacro Sc 'delete ${SERVICE}'
    ; The SCM removes it once the last handle to it is closed.
    StrCpy $R1 ${SVC_NONE}
    StrCpy $R2 10
    Call un.WaitForState
  ${EndIf}
  DeleteRegKey HKLM "${EVENT_KEY}"

  !include "${GEN}\uninstall-files.nsh"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  DeleteRegKey HKLM "${UNINST_KEY}"
  DeleteRegKey HKLM "${PRODUCT_KEY}"
SectionEnd

; Off unless chosen on the components page or with /PURGE.
Section /o "un.Configuration, logs and data in ProgramData\shmbroker" SecPurge
  SetShellVarContext all
  DetailPrint "Removing $APPDATA\${PRODUCT}"
  RMDir /r "$APPDATA\${PRODUCT}"
SectionEnd

Section "-un.kept"
  SetShellVarContext all
  ${If} ${FileExists} "$APPDATA\${PRODUCT}\*.*"
    DetailPrint "Kept $APPDATA\${PRODUCT} (config, logs); uninstall with /PURGE to remove it"
  ${EndIf}
SectionEnd

; After the sections: it names ${SecPurge}.
Function un.onInit
  Call un.RequireAdmin
  ${un.GetParameters} $R0
  ClearErrors
  ${un.GetOptions} $R0 "/PURGE" $R1
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecPurge}
  ${EndIf}
FunctionEnd
