# Project-wide compile settings and the lookup of Check on both platforms.

# shmb_target_defaults(TARGET): warnings and Windows version for our code
# (third-party targets keep their own flags).
function(shmb_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wformat=2
    -Wstrict-prototypes -Wno-unused-parameter)
  if(SHMB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()

  if(WIN32)
    target_compile_definitions(${target} PRIVATE _WIN32_WINNT=0x0A00
      WINVER=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX __USE_MINGW_ANSI_STDIO=1)
  endif()
endfunction()

# shmb_static_exe(TARGET): Windows programs link the C runtime and
# winpthreads statically, so they run under Wine and on Windows with no DLL
# beside them (a missing libwinpthread-1.dll fails with a silent exit 53).
function(shmb_static_exe target)
  if(WIN32)
    target_link_options(${target} PRIVATE -static)
  endif()
endfunction()

# Check: its CMake package in the cross-built prefix on Windows (its mingw
# build uses winpthreads without saying so), pkg-config natively.
macro(shmb_find_check)
  if(WIN32)
    find_package(check CONFIG REQUIRED)
    find_package(Threads REQUIRED)
    add_library(shmb_check INTERFACE)
    target_link_libraries(shmb_check INTERFACE Check::check Threads::Threads)
  else()
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check)
    add_library(shmb_check INTERFACE)
    target_link_libraries(shmb_check INTERFACE PkgConfig::CHECK)
  endif()
endmacro()
