/*
 * The one translation from Win32 error numbers to shmbroker codes. Anything
 * not listed is SHMB_ESYSTEM; callers log the Win32 number next to it.
 */
#include <windows.h>

#include "../errors.h"

int shmb__from_win32(unsigned long win32_error) {
  switch (win32_error) {
  case ERROR_SUCCESS:
    return SHMB_OK;
  case ERROR_ACCESS_DENIED:
  case ERROR_PRIVILEGE_NOT_HELD:
    return SHMB_EACCES;
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND:
    return SHMB_ENOENT;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
  case ERROR_COMMITMENT_LIMIT:
    return SHMB_ENOMEM;
  case ERROR_INVALID_PARAMETER:
  case ERROR_INVALID_NAME:
    return SHMB_EINVAL;
  case ERROR_ALREADY_EXISTS:
  case ERROR_FILE_EXISTS:
    return SHMB_EEXIST;
  case ERROR_PIPE_BUSY:
    return SHMB_EBUSY;
  case ERROR_SEM_TIMEOUT:
  case WAIT_TIMEOUT:
    return SHMB_ETIMEDOUT;
  case ERROR_BROKEN_PIPE:
  case ERROR_NO_DATA:
  case ERROR_PIPE_NOT_CONNECTED:
    return SHMB_EDISCONNECTED;
  case ERROR_HANDLE_EOF:
  case ERROR_READ_FAULT:
  case ERROR_WRITE_FAULT:
    return SHMB_EIO;
  default:
    return SHMB_ESYSTEM;
  }
}
