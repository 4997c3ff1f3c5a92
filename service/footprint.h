/*
 * The service's own footprint (open handles, private memory), for STATUS:
 * the load tests and benchmarks watch it for leaks.
 */
#ifndef SVC_FOOTPRINT_H
#define SVC_FOOTPRINT_H

#include <stdint.h>

void svc_footprint(uint64_t *handles, uint64_t *private_kib);

#endif /* SVC_FOOTPRINT_H */
