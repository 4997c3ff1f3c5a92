/*
 * The outer struct of an embedded libuv handle (as libuv's uv-common.h
 * does), so callbacks need not rely on a handle being the first member.
 */
#ifndef SVC_CONTAINER_OF_H
#define SVC_CONTAINER_OF_H

#include <stddef.h>

#define container_of(ptr, type, member)                                        \
  ((type *)((char *)(ptr)-offsetof(type, member)))

#endif /* SVC_CONTAINER_OF_H */
