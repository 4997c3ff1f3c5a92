@echo off
rem install-service.cmd - registers shmbrokerd as the Windows service
rem "shmbroker", for administrators who deploy the files with their own
rem tools. The setup program does the same steps.
rem
rem Usage (from an elevated prompt):
rem   install-service.cmd BINDIR [CONFIG]
rem
rem   BINDIR  the folder that holds shmbrokerd.exe,
rem           e.g. "C:\Program Files\shmbroker\bin"
rem   CONFIG  the config file (docs\config.md); default
rem           %ProgramData%\shmbroker\shmbroker.conf. It must exist, and
rem           only SYSTEM and Administrators may be able to write it (the
rem           service refuses it otherwise), for example:
rem             icacls CONFIG /inheritance:r /grant:r *S-1-5-18:F
rem                    *S-1-5-32-544:F *S-1-1-0:R /setowner *S-1-5-32-544
rem
rem Steps:
rem   sc create shmbroker binPath= "\"BINDIR\shmbrokerd.exe\" --config \"CONFIG\"" start= auto
rem   sc description shmbroker ...
rem   sc failure shmbroker reset= 86400 actions= restart/5000/restart/5000/restart/5000
rem   reg add HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker
rem       EventMessageFile = BINDIR\shmbrokerd.exe, TypesSupported = 7
rem   sc start shmbroker, then waits up to 30 s for RUNNING
rem
rem Exit codes: 0 the service runs; 1 a step failed (the message names it);
rem 2 usage or a missing file; 3 registered, but the service did not reach
rem RUNNING (see the Application event log, source shmbroker).
rem A service named shmbroker must not exist yet: uninstall-service.cmd
rem removes it.
setlocal
set "BINDIR=%~1"
set "CONFIG=%~2"
if "%BINDIR%"=="" goto usage
if "%CONFIG%"=="" set "CONFIG=%ProgramData%\shmbroker\shmbroker.conf"
set "EXE=%BINDIR%\shmbrokerd.exe"
set "EVENTKEY=HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker"
if not exist "%EXE%" goto noexe
if not exist "%CONFIG%" goto noconfig

sc.exe create shmbroker binPath= "\"%EXE%\" --config \"%CONFIG%\"" start= auto DisplayName= "shmbroker shared-memory broker"
if errorlevel 1 goto failed_create
sc.exe description shmbroker "Owns named shared-memory sections and hands them to clients after an access check."
if errorlevel 1 goto failed_description
sc.exe failure shmbroker reset= 86400 actions= restart/5000/restart/5000/restart/5000
if errorlevel 1 goto failed_failure
reg.exe add "%EVENTKEY%" /v EventMessageFile /t REG_EXPAND_SZ /d "%EXE%" /f
if errorlevel 1 goto failed_reg
reg.exe add "%EVENTKEY%" /v TypesSupported /t REG_DWORD /d 7 /f
if errorlevel 1 goto failed_reg
sc.exe start shmbroker
if errorlevel 1 goto notrunning

rem sc start returns at START_PENDING.
set /a tries=0
:wait
sc.exe query shmbroker | find "RUNNING" >nul
if not errorlevel 1 goto running
sc.exe query shmbroker | find "STOPPED" >nul
if not errorlevel 1 goto notrunning
set /a tries+=1
if %tries% geq 30 goto notrunning
ping -n 2 127.0.0.1 >nul
goto wait

:running
echo shmbroker: the service is installed and running.
exit /b 0

:notrunning
echo shmbroker: the service is installed but not running; see the Application event log (source shmbroker) and %CONFIG%. 1>&2
exit /b 3

:failed_create
echo shmbroker: sc create failed (does a service named shmbroker exist already?). 1>&2
exit /b 1
:failed_description
echo shmbroker: sc description failed. 1>&2
exit /b 1
:failed_failure
echo shmbroker: sc failure failed. 1>&2
exit /b 1
:failed_reg
echo shmbroker: could not register the Event Log source. 1>&2
exit /b 1

:noexe
echo shmbroker: "%EXE%" does not exist. 1>&2
exit /b 2
:noconfig
echo shmbroker: the config "%CONFIG%" does not exist. 1>&2
exit /b 2
:usage
echo usage: install-service.cmd BINDIR [CONFIG] 1>&2
echo   BINDIR: the folder of shmbrokerd.exe; CONFIG: default %%ProgramData%%\shmbroker\shmbroker.conf 1>&2
exit /b 2
