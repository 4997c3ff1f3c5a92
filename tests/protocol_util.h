/*
 * Helpers shared by the wire-protocol suites; see protocol_util.c.
 */
#ifndef SHMB_TESTS_PROTOCOL_UTIL_H
#define SHMB_TESTS_PROTOCOL_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

void set_u16(uint8_t *p, uint16_t v);
void set_u32(uint8_t *p, uint32_t v);
uint8_t *dup_bytes(const uint8_t *p, size_t n);
int decode_exact(const uint8_t *frame, size_t len, shmb_request *req);
const uint8_t *payload_of(const uint8_t *f, size_t len, unsigned opcode,
                          uint32_t id, size_t *plen);
void assert_str(shmb_str s, const char *want);
void forge_begin(shmb_frame_buf *b, uint8_t opcode);
uint8_t *forge_end(shmb_frame_buf *b, size_t *len);
uint8_t *forge_open(uint32_t access, uint16_t reserved, uint16_t name_len,
                    const char *name, size_t nbytes, size_t *len);
int decode_forged_open(uint32_t access, const char *name, size_t n);
const uint8_t *pl(const shmb_frame_buf *b);
size_t pllen(const shmb_frame_buf *b);
int reply_code_exact(const uint8_t *p, size_t n, char *msg, size_t msglen);

#endif /* SHMB_TESTS_PROTOCOL_UTIL_H */
