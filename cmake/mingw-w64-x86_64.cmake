# Cross-compiles for 64-bit Windows with Debian's mingw-w64 and runs the
# resulting programs (tests) under Wine.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SHMB_MINGW_PREFIX x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${SHMB_MINGW_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${SHMB_MINGW_PREFIX}-g++)
set(CMAKE_RC_COMPILER ${SHMB_MINGW_PREFIX}-windres)

# Appended to, so that a project built against an installed SDK can add its
# prefix with -DCMAKE_FIND_ROOT_PATH=... (examples/consumer).
list(APPEND CMAKE_FIND_ROOT_PATH /usr/${SHMB_MINGW_PREFIX} ${SHMB_DEPS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# SHMB_RUNNER runs the Windows programs (tools/lib.sh has the same name):
# ctest runs the Check suites through it as the emulator and hands it to
# the integration scripts. Wine unless given (-DSHMB_RUNNER=...).
if(NOT SHMB_RUNNER)
  find_program(SHMB_RUNNER wine)
endif()
if(SHMB_RUNNER)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SHMB_RUNNER})
endif()
