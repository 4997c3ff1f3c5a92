@echo off
rem uninstall-service.cmd - removes the Windows service "shmbroker" and its
rem Event Log source, for administrators who deploy with their own tools
rem (install-service.cmd registered them). The setup program's uninstaller
rem does the same steps.
rem
rem Usage (from an elevated prompt):
rem   uninstall-service.cmd
rem
rem Steps:
rem   sc stop shmbroker, then waits up to 60 s for STOPPED
rem   sc delete shmbroker
rem   reg delete HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker
rem
rem Files are left alone: the programs, and the config, logs and data
rem (by default in %ProgramData%\shmbroker) stay where they are; delete
rem them yourself if you no longer need them.
rem
rem Exit codes: 0 the service and the event source are gone (or were not
rem there); 1 a step failed (the message names it).
setlocal
set "EVENTKEY=HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\shmbroker"

sc.exe query shmbroker >nul 2>&1
if errorlevel 1 goto no_service
sc.exe query shmbroker | find "STOPPED" >nul
if not errorlevel 1 goto delete
sc.exe stop shmbroker
set /a tries=0
:wait
sc.exe query shmbroker | find "STOPPED" >nul
if not errorlevel 1 goto delete
set /a tries+=1
if %tries% geq 60 goto failed_stop
ping -n 2 127.0.0.1 >nul
goto wait

:delete
sc.exe delete shmbroker
if errorlevel 1 goto failed_delete
goto event_source

:no_service
echo shmbroker: no service named shmbroker.

:event_source
reg.exe query "%EVENTKEY%" >nul 2>&1
if errorlevel 1 goto done
reg.exe delete "%EVENTKEY%" /f
if errorlevel 1 goto failed_reg

:done
echo shmbroker: the service and its event source are removed.
exit /b 0

:failed_stop
echo shmbroker: the service did not stop within 60 s. 1>&2
exit /b 1
:failed_delete
echo shmbroker: sc delete failed. 1>&2
exit /b 1
:failed_reg
echo shmbroker: could not remove the Event Log source. 1>&2
exit /b 1
