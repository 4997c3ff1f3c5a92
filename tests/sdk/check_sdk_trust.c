/*
 * Tests for what the SDK believes of a server (client/trust.c, and the
 * section owner check in client/section.c): each decision is fed the lies
 * a hostile or buggy server could tell, and must refuse them with a
 * message that says what was wrong, and accept what the service really
 * sends. tests/integration/evil_server.sh plays the same lies through a
 * pipe against shmbctl and the SDK.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <windows.h>

#include <sddl.h>

#include "account.h"
#include "config.h" /* SHMB_PIPE_NAME_MAX */
#include "errors.h"
#include "protocol.h"
#include "transport.h"
#include "trust.h"

#define HEX32 "0123456789abcdef0123456789abcdef"

static char msg[1024];

static int object(const char *name) {
  msg[0] = '\0';
  return shmb__object_name_check(name, strlen(name), msg, sizeof(msg));
}

/* name is refused with SHMB_EBADSERVER and a message holding why. */
static void object_refused(const char *name, const char *why) {
  ck_assert_int_eq(object(name), SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, why) != NULL, "'%s': message '%s' lacks '%s'",
                name, msg, why);
  ck_assert_msg(strstr(msg, "refused before opening anything") != NULL,
                "message: %s", msg);
}

START_TEST(test_sdk_trust_object_names_of_the_service) {
  ck_assert_int_eq(object("Global\\shmb-" HEX32), 0);
  ck_assert_int_eq(object("Local\\shmb-" HEX32), 0);
  ck_assert_int_eq(strlen("Global\\shmb-" HEX32), SHMB_OBJECT_NAME_LONGEST);
}
END_TEST

START_TEST(test_sdk_trust_object_names_refused) {
  object_refused("Session\\1\\shmb-" HEX32, "a Session\\ name reaches into");
  object_refused("BaseNamedObjects\\shmb-" HEX32,
                 "its namespace 'BaseNamedObjects' is neither");
  object_refused("global\\shmb-" HEX32, "its namespace 'global' is neither");
  object_refused("shmb-" HEX32, "it has no namespace");
  object_refused("Global\\..\\Local\\shmb-" HEX32, "'..' at position 8");
  object_refused("Local\\shmb-" HEX32 "\\..", "'..' at position 45");
  object_refused("Local\\shmb-0123456789abcdef\\0123456789abcde",
                 "a backslash at position 28");
  object_refused("Local\\shmb-" HEX32 "0", "it goes on after the 32 hex "
                 "digits, from position 44 (over-long: 44 bytes");
  object_refused("Local\\shmb-" HEX32 HEX32 HEX32 HEX32 HEX32 HEX32 HEX32,
                 "(over-long: 235 bytes");
  object_refused("Local\\shmb-0123456789ABCDEF0123456789abcdef",
                 "'A' (0x41) at position 22 where a lowercase hex digit");
  object_refused("Local\\shmb-0123456789abcdef0123456789abcde",
                 "only 31 hex digits where 32 belong");
  object_refused("Local\\shmb-", "only 0 hex digits");
  object_refused("Local\\evil-" HEX32, "no 'shmb-' after the namespace");
  object_refused("Local\\shmb-0123456789abcdef0123456789abcde\x1b",
                 "the byte 0x1b at position 43");
  object_refused("", "it has no namespace");
  /* A NUL inside the wire string: checked on (pointer, length). */
  ck_assert_int_eq(shmb__object_name_check("Local\\shmb-" HEX32 "\0x", 45,
                                           msg, sizeof(msg)),
                   SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "the byte 0x00 at position 44"), "%s", msg);
}
END_TEST

START_TEST(test_sdk_trust_object_name_shown_escaped) {
  ck_assert_int_eq(object("Local\\shmb-\x1b[2J\x07"), SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "'Local\\shmb-\\x1b[2J\\x07'") != NULL, "%s",
                msg);
  for (const char *p = msg; *p; p++)
    ck_assert_msg((unsigned char)*p >= 0x20, "raw control in: %s", msg);
}
END_TEST

static void pipe_refused(const char *name, const char *why) {
  msg[0] = '\0';
  ck_assert_int_eq(shmb__pipe_name_check(name, msg, sizeof(msg)),
                   SHMB_EINVAL);
  ck_assert_msg(strstr(msg, why) != NULL, "'%s': message '%s' lacks '%s'",
                name, msg, why);
}

START_TEST(test_sdk_trust_pipe_names) {
  ck_assert_int_eq(shmb__pipe_name_check(SHMB_DEFAULT_PIPE, msg, sizeof(msg)),
                   0);
  ck_assert_int_eq(shmb__pipe_name_check("\\\\.\\pipe\\a\\b.c-d", msg,
                                         sizeof(msg)), 0);
  ck_assert_int_eq(shmb__pipe_name_check("\\\\.\\PIPE\\shmbroker", msg,
                                         sizeof(msg)), 0);
  pipe_refused("\\\\host\\pipe\\shmbroker", "a pipe on another host");
  pipe_refused("//host/pipe/shmbroker", "a pipe on another host");
  pipe_refused("\\/host\\pipe\\x", "a pipe on another host");
  pipe_refused("\\\\?\\pipe\\shmbroker", "a \\\\?\\ path");
  pipe_refused("\\??\\pipe\\shmbroker", "a \\\\?\\ path");
  pipe_refused("\\\\.\\UNC\\host\\pipe\\x", "is another device");
  pipe_refused("\\\\.\\C:\\x", "is another device");
  pipe_refused("\\\\.\\pipe\\..\\UNC\\host\\pipe\\x",
               "a '..' component at position 10");
  pipe_refused("\\\\.\\pipe\\x\\.\\y", "a '.' component at position 12");
  pipe_refused("\\\\.\\pipe\\x\\\\y", "an empty component at position 12");
  pipe_refused("\\\\.\\pipe\\x\\", "an empty component");
  pipe_refused("\\\\.\\pipe\\a/../../UNC/h", "'/' at position 11");
  pipe_refused("\\\\.\\pipe\\", "no NAME after");
  pipe_refused("\\\\.\\pipe\\a b", "the byte 0x20 at position 11");
  pipe_refused("\\\\.\\pipe\\a\x1b", "the byte 0x1b at position 11");
  pipe_refused("shmbroker", "does not start with \\\\.\\pipe\\");
  pipe_refused("", "the pipe name is empty");
  ck_assert_int_eq(shmb__pipe_name_check(NULL, NULL, 0), SHMB_EINVAL);
  {
    char longest[SHMB_PIPE_NAME_MAX + 2];
    memset(longest, 'a', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    memcpy(longest, "\\\\.\\pipe\\", 9);
    pipe_refused(longest, "bytes long, more than 256");
    longest[SHMB_PIPE_NAME_MAX] = '\0';
    ck_assert_int_eq(shmb__pipe_name_check(longest, msg, sizeof(msg)), 0);
  }
}
END_TEST

START_TEST(test_sdk_trust_access) {
  ck_assert_int_eq(shmb__access_check(1, 1, msg, sizeof(msg)), 0);
  ck_assert_int_eq(shmb__access_check(3, 3, msg, sizeof(msg)), 0);
  ck_assert_int_eq(shmb__access_check(1, 3, msg, sizeof(msg)),
                   SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "granted read,write access where read was "
                            "asked for"), "%s", msg);
  ck_assert_int_eq(shmb__access_check(3, 1, msg, sizeof(msg)),
                   SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "granted read access where read,write"), "%s",
                msg);
  ck_assert_int_eq(shmb__access_check(1, 0x5, msg, sizeof(msg)),
                   SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "granted access 0x5, with bits this SDK does "
                            "not know (0x4)"), "%s", msg);
  ck_assert_int_eq(shmb__access_check(1, 0x80000001u, msg, sizeof(msg)),
                   SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "(0x80000000)"), "%s", msg);
}
END_TEST

START_TEST(test_sdk_trust_size) {
  ck_assert_int_eq(shmb__size_check(4096, 4096, 4096, msg, sizeof(msg)), 0);
  ck_assert_int_eq(shmb__size_check(100, 4096, 4096, msg, sizeof(msg)), 0);
  ck_assert_int_eq(shmb__size_check(4097, 8192, 4096, msg, sizeof(msg)), 0);
  ck_assert_int_eq(shmb__size_check(4097, 4096, 4096, msg, sizeof(msg)),
                   SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "has 4097 bytes, but the section it named maps "
                            "only 4096"), "%s", msg);
  ck_assert_int_eq(shmb__size_check(UINT64_MAX, 4096, 4096, msg,
                                    sizeof(msg)), SHMB_EBADSERVER);
  ck_assert_int_eq(shmb__size_check(4096, 8192, 4096, msg, sizeof(msg)),
                   SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "has 4096 bytes, but the section it named maps "
                            "8192"), "%s", msg);
  ck_assert_int_eq(shmb__size_check(0, 4096, 4096, msg, sizeof(msg)),
                   SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "0 bytes"), "%s", msg);
}
END_TEST

START_TEST(test_sdk_trust_reply_ids) {
  const uint8_t open = SHMB_OP_OPEN, rep = SHMB_OP_OPEN | SHMB_OP_REPLY;
  ck_assert_int_eq(shmb__reply_check(open, 7, rep, 7, msg, sizeof(msg)), 0);
  ck_assert_int_eq(shmb__reply_check(open, 7, SHMB_OP_ERROR, 7, msg,
                                     sizeof(msg)), 0);
  /* The service's refusal before it read a request (too many clients). */
  ck_assert_int_eq(shmb__reply_check(open, 7, SHMB_OP_ERROR, 0, msg,
                                     sizeof(msg)), 0);
  ck_assert_int_eq(shmb__reply_check(open, 7, rep, 6, msg, sizeof(msg)),
                   SHMB_EPROTO);
  ck_assert_msg(strstr(msg, "request id 6, not 7"), "%s", msg);
  ck_assert_int_eq(shmb__reply_check(open, 7, rep, 0, msg, sizeof(msg)),
                   SHMB_EPROTO);
  ck_assert_int_eq(shmb__reply_check(open, 7, SHMB_OP_ERROR, 8, msg,
                                     sizeof(msg)), SHMB_EPROTO);
  ck_assert_int_eq(shmb__reply_check(open, 7, SHMB_OP_LIST | SHMB_OP_REPLY,
                                     7, msg, sizeof(msg)), SHMB_EPROTO);
  ck_assert_msg(strstr(msg, "opcode 0x82 does not answer a request of "
                            "opcode 0x03"), "%s", msg);
}
END_TEST

START_TEST(test_sdk_trust_process_verdict) {
  ck_assert_int_eq(shmb__process_verdict(SHMB_PROCESS_READ, 1), 0);
  ck_assert_int_eq(shmb__process_verdict(SHMB_PROCESS_READ, 0),
                   SHMB_EBADSERVER);
  ck_assert_int_eq(shmb__process_verdict(SHMB_PROCESS_DENIED, 0), 0);
  ck_assert_int_eq(shmb__process_verdict(SHMB_PROCESS_UNKNOWN, 0),
                   SHMB_EBADSERVER);
  ck_assert_int_eq(shmb__process_verdict(SHMB_PROCESS_UNKNOWN, 1),
                   SHMB_EBADSERVER);
}
END_TEST

static const char *clean(const char *in, size_t len, size_t outlen) {
  static char out[256];
  ck_assert_uint_le(outlen, sizeof(out));
  shmb__sanitise(in, len, out, outlen);
  return out;
}
#define CLEAN(s) clean(s, sizeof(s) - 1, 256)

START_TEST(test_sdk_trust_sanitise) {
  ck_assert_str_eq(CLEAN("plain text, C:\\path"), "plain text, C:\\path");
  ck_assert_str_eq(CLEAN("a\x1b[2Jb\x07\r\n\t\x7f"),
                   "a\\x1b[2Jb\\x07\\x0d\\x0a\\x09\\x7f");
  ck_assert_str_eq(CLEAN("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                   "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  /* C1 CSI, invalid bytes, an overlong '/', a surrogate, bidi overrides. */
  ck_assert_str_eq(CLEAN("\xc2\x9b" "31m"), "\\xc2\\x9b31m");
  ck_assert_str_eq(CLEAN("\xff\xc3"), "\\xff\\xc3");
  ck_assert_str_eq(CLEAN("\xc0\xaf"), "\\xc0\\xaf");
  ck_assert_str_eq(CLEAN("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  ck_assert_str_eq(CLEAN("\xe2\x80\xae" "txt"), "\\xe2\\x80\\xaetxt");
  /* Embedded NUL: the length counts, not the C string. */
  ck_assert_str_eq(clean("a\0b", 3, 256), "a\\x00b");
  /* Cut at the buffer, never inside an escape or a UTF-8 sequence. */
  ck_assert_str_eq(clean("ab\x1b", 3, 6), "ab");
  ck_assert_str_eq(clean("ab\x1b", 3, 7), "ab\\x1b");
  ck_assert_str_eq(clean("a\xc3\xa9", 3, 3), "a");
  /* Its output is left as it is. */
  ck_assert_str_eq(CLEAN("a\\x1b[2Jb"), "a\\x1b[2Jb");
  {
    char one[1] = {'x'};
    ck_assert_uint_eq(shmb__sanitise("abc", 3, one, 1), 0);
    ck_assert_int_eq(one[0], '\0');
  }
}
END_TEST

/* A section owned by owner (an SDDL SID) that grants everyone rights. */
static HANDLE section_owned_by(const char *owner, const char *rights) {
  char sddl[256];
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  HANDLE h;
  snprintf(sddl, sizeof(sddl), "O:%sG:%sD:P(A;;%s;;;WD)", owner, owner,
           rights);
  ck_assert(ConvertStringSecurityDescriptorToSecurityDescriptorA(
      sddl, SDDL_REVISION_1, &sa.lpSecurityDescriptor, NULL));
  h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa, PAGE_READWRITE, 0, 4096,
                         NULL);
  LocalFree(sa.lpSecurityDescriptor);
  ck_assert_msg(h != NULL, "CreateFileMappingW: %lu", GetLastError());
  return h;
}

START_TEST(test_sdk_trust_section_owner) {
  char me_text[192];
  PSID me, sy = NULL;
  HANDLE mine, theirs, hidden, dup;

  ck_assert_int_eq(shmb__token_user(NULL, &me), 0);
  shmb__sid_text(me, me_text, sizeof(me_text));
  ck_assert(ConvertStringSidToSidW(L"S-1-5-18", &sy));
  mine = section_owned_by(me_text, "GA");
  theirs = section_owned_by("SY", "GA");
  hidden = section_owned_by("SY", "0x7");
  ck_assert_int_eq(shmb__object_owner_check(mine, me, "mine", 1, msg,
                                            sizeof(msg)), 0);
  ck_assert_int_eq(shmb__object_owner_check(theirs, me, "theirs", 1, msg,
                                            sizeof(msg)), SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "object theirs is owned by") &&
                    strstr(msg, "(S-1-5-18), not by the server account"),
                "%s", msg);
  ck_assert_int_eq(shmb__object_owner_check(theirs, sy, "theirs", 1, msg,
                                            sizeof(msg)), 0);
  /* A handle without READ_CONTROL cannot show the owner: refused. */
  ck_assert(DuplicateHandle(GetCurrentProcess(), hidden, GetCurrentProcess(),
                            &dup, FILE_MAP_READ, FALSE, 0));
  ck_assert_int_eq(shmb__object_owner_check(dup, sy, "hidden", 1, msg,
                                            sizeof(msg)), SHMB_EBADSERVER);
  ck_assert_msg(strstr(msg, "cannot read the owner of object hidden"), "%s",
                msg);
  CloseHandle(dup);
  CloseHandle(hidden);
  CloseHandle(theirs);
  CloseHandle(mine);
  LocalFree(sy);
  LocalFree(me);
}
END_TEST

static int still_open(HANDLE h) {
  DWORD flags;
  return GetHandleInformation(h, &flags) != 0;
}

/* A handle of ours with exactly the rights the service delivers for read:
 * query, map-read, read-control. */
static HANDLE delivered_like(HANDLE section) {
  HANDLE h;
  ck_assert(DuplicateHandle(GetCurrentProcess(), section, GetCurrentProcess(),
                            &h, SECTION_QUERY | FILE_MAP_READ | READ_CONTROL,
                            FALSE, 0));
  return h;
}

/* The SDK's check of a reply by handle (shmb__delivered_handle): the pid
 * the reply names must be ours, even when the value is a section handle of
 * ours with the very rights and owner a delivery has (what a reader of a
 * pipe another process connected may hold at that value); the object must
 * be the server account's. A refused value is never closed. */
START_TEST(test_sdk_trust_delivered_handle) {
  char me_text[192];
  shmb_client c;
  shmb_open_reply rep;
  HANDLE mine, theirs, h, got;

  memset(&c, 0, sizeof(c));
  c.revision = 2;
  ck_assert_int_eq(shmb__token_user(NULL, &c.server_sid), 0);
  shmb__sid_text(c.server_sid, me_text, sizeof(me_text));
  mine = section_owned_by(me_text, "GA");
  theirs = section_owned_by("SY", "GA");
  memset(&rep, 0, sizeof(rep));
  rep.access = SHMB_WIRE_ACCESS_READ;
  rep.flags = SHMB_OPEN_FLAG_HANDLE;

  /* Into another process: refused for the pid, the value left alone. */
  h = delivered_like(mine);
  rep.handle = (uint64_t)(uintptr_t)h;
  rep.pid = GetCurrentProcessId() + 4;
  ck_assert_int_eq(shmb__delivered_handle(&c, &rep, &got), SHMB_EBADSERVER);
  ck_assert_ptr_null(got);
  ck_assert_msg(strstr(c.message, "into process") &&
                    strstr(c.message, "not into this one") &&
                    strstr(c.message, "left alone"),
                "%s", c.message);
  ck_assert(still_open(h));
  /* Into this one: the same value is taken. */
  rep.pid = GetCurrentProcessId();
  ck_assert_int_eq(shmb__delivered_handle(&c, &rep, &got), 0);
  ck_assert_ptr_eq(got, h);
  CloseHandle(h);

  /* Ours, the rights right, but not the server account's object. */
  h = delivered_like(theirs);
  rep.handle = (uint64_t)(uintptr_t)h;
  ck_assert_int_eq(shmb__delivered_handle(&c, &rep, &got), SHMB_EBADSERVER);
  ck_assert_ptr_null(got);
  ck_assert_msg(strstr(c.message, "(S-1-5-18), not by the server account") &&
                    strstr(c.message, "left open"),
                "%s", c.message);
  ck_assert(still_open(h));
  CloseHandle(h);

  /* Without READ_CONTROL: not the rights a delivery has. */
  ck_assert(DuplicateHandle(GetCurrentProcess(), mine, GetCurrentProcess(), &h,
                            SECTION_QUERY | FILE_MAP_READ, FALSE, 0));
  rep.handle = (uint64_t)(uintptr_t)h;
  ck_assert_int_eq(shmb__delivered_handle(&c, &rep, &got), SHMB_EBADSERVER);
  ck_assert_msg(strstr(c.message, "has rights 0x5, not the 0x20005"), "%s",
                c.message);
  ck_assert(still_open(h));
  CloseHandle(h);

  /* A revision-1 session carries no handles at all. */
  c.revision = 1;
  ck_assert_int_eq(shmb__delivered_handle(&c, &rep, &got), SHMB_EPROTO);
  CloseHandle(theirs);
  CloseHandle(mine);
  LocalFree(c.server_sid);
}
END_TEST

Suite *sdk_trust_suite(void) {
  Suite *s = suite_create("sdk_trust");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_sdk_trust_object_names_of_the_service);
  tcase_add_test(tc, test_sdk_trust_object_names_refused);
  tcase_add_test(tc, test_sdk_trust_object_name_shown_escaped);
  tcase_add_test(tc, test_sdk_trust_pipe_names);
  tcase_add_test(tc, test_sdk_trust_access);
  tcase_add_test(tc, test_sdk_trust_size);
  tcase_add_test(tc, test_sdk_trust_reply_ids);
  tcase_add_test(tc, test_sdk_trust_process_verdict);
  tcase_add_test(tc, test_sdk_trust_sanitise);
  tcase_add_test(tc, test_sdk_trust_section_owner);
  tcase_add_test(tc, test_sdk_trust_delivered_handle);
  suite_add_tcase(s, tc);
  return s;
}
