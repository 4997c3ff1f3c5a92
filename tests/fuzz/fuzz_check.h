/*
 * CHECK(cond): the fuzz targets' assertion. A violated invariant aborts, so
 * libFuzzer records the input as a crash like any sanitizer report (assert()
 * would vanish under NDEBUG).
 */
#ifndef SHMB_FUZZ_CHECK_H
#define SHMB_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#endif /* SHMB_FUZZ_CHECK_H */
