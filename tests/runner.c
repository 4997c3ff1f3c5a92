/*
 * One Check runner per group of suites: `runner SUITE` runs one suite (one
 * ctest entry each, so a crash or hang is pinned to its suite), `runner`
 * alone runs all. The suite list comes from the generated suites.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHMB_SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef SHMB_SUITE

static const struct {
  const char *name;
  Suite *(*make)(void);
} suites[] = {
#define SHMB_SUITE(name) {#name, name##_suite},
#include "suites.h"
#undef SHMB_SUITE
};

int main(int argc, char **argv) {
  SRunner *sr = NULL;
  int failed;

  for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
    if (argc > 1 && strcmp(argv[1], suites[i].name) != 0)
      continue;
    if (!sr)
      sr = srunner_create(suites[i].make());
    else
      srunner_add_suite(sr, suites[i].make());
  }
  if (!sr) {
    fprintf(stderr, "no suite named '%s'\n", argc > 1 ? argv[1] : "");
    return 2;
  }
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
