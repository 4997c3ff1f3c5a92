/*
 * The SDK trusts nothing a server says beyond what it verified (design.md,
 * security rule 9). A process that poses as the service, or a service that
 * is buggy, could name another session's object or a path out of the
 * namespace, promise a size larger than the memory (a crash on the first
 * read past the view), grant rights that were not asked for, answer an
 * older request, or put terminal escapes into text that shmbctl prints.
 * The decisions are here, free of Win32, so that each one is tested on its
 * own; transport.c, client.c and section.c apply them and do the opening.
 */
#include "trust.h"

#include <stdio.h>
#include <string.h>

#include "config.h" /* SHMB_PIPE_NAME_MAX */
#include "errors.h"
#include "protocol.h"

#define OBJECT_PREFIX "shmb-"
#define OBJECT_RULE                                                            \
  "the service makes only Global\\shmb- or Local\\shmb- and 32 lowercase "    \
  "hex digits"
/* How much of a hostile name a message shows. */
#define SHOWN_MAX 96

/* obj as it may be shown: escaped, cut to SHOWN_MAX bytes with "...". */
static void shown(const char *s, size_t len, char *out, size_t outlen) {
  size_t n = len > SHOWN_MAX ? SHOWN_MAX : len;
  size_t w = shmb__sanitise(s, n, out, outlen);
  if (n < len && w + 4 < outlen)
    memcpy(out + w, "...", 4);
}

static int starts(const char *s, size_t len, const char *prefix) {
  size_t n = strlen(prefix);
  return len >= n && memcmp(s, prefix, n) == 0;
}

/* The same, ASCII letters in any case (Windows' device and pipe names). */
static int starts_nocase(const char *s, size_t len, const char *prefix) {
  size_t n = strlen(prefix);
  if (len < n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z')
      a = (char)(a - 'A' + 'a');
    if (a != b)
      return 0;
  }
  return 1;
}

static const char *find2(const char *s, size_t len, const char *two) {
  for (size_t i = 0; i + 1 < len; i++)
    if (s[i] == two[0] && s[i + 1] == two[1])
      return s + i;
  return NULL;
}

/* What is wrong with the digits after the prefix (at s[at..len)), or 0. */
static int digits_wrong(const char *s, size_t len, size_t at, char *why,
                        size_t whylen) {
  size_t n = 0;
  for (size_t i = at; i < len; i++, n++) {
    char c = s[i];
    if (n == SHMB_OBJECT_DIGITS)
      return snprintf(why, whylen, "it goes on after the %d hex digits, "
                      "from position %lu (over-long: %lu bytes; the "
                      "service's names have at most %lu)", SHMB_OBJECT_DIGITS,
                      (unsigned long)(i + 1), (unsigned long)len,
                      (unsigned long)SHMB_OBJECT_NAME_LONGEST);
    if (c == '\\')
      return snprintf(why, whylen, "a backslash at position %lu: a path "
                      "into another directory of the object namespace",
                      (unsigned long)(i + 1));
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return snprintf(why, whylen, "'%c' (0x%02x) at position %lu where a "
                      "lowercase hex digit belongs", c, (unsigned char)c,
                      (unsigned long)(i + 1));
  }
  if (n < SHMB_OBJECT_DIGITS)
    return snprintf(why, whylen, "only %lu hex digits where %d belong",
                    (unsigned long)n, SHMB_OBJECT_DIGITS);
  return 0;
}

/* The namespace part: Global\ or Local\, exactly as the service writes
 * them; the length of it in *ns, or a reason in why. */
static int namespace_wrong(const char *s, size_t len, size_t *ns, char *why,
                           size_t whylen) {
  const char *slash = memchr(s, '\\', len);
  if (starts(s, len, "Global\\") || starts(s, len, "Local\\")) {
    *ns = (size_t)(slash - s) + 1;
    return 0;
  }
  if (slash && (size_t)(slash - s) == 7 && strncmp(s, "Session", 7) == 0)
    return snprintf(why, whylen, "a Session\\ name reaches into another "
                    "logon session's namespace");
  if (slash)
    return snprintf(why, whylen, "its namespace '%.*s' is neither Global "
                    "nor Local", (int)(slash - s), s);
  return snprintf(why, whylen, "it has no namespace (Global\\ or Local\\)");
}

int shmb__object_name_check(const char *obj, size_t len, char *err,
                            size_t errlen) {
  char why[160] = "", name[SHMB_SANITISED_MAX(SHOWN_MAX) + 4];
  const char *dots;
  size_t ns = 0;

  /* The most telling reason first; the digits last (which also catch a
   * name that goes on too long). */
  for (size_t i = 0; i < len && !*why; i++)
    if ((unsigned char)obj[i] < 0x20 || (unsigned char)obj[i] > 0x7e)
      snprintf(why, sizeof(why), "the byte 0x%02x at position %lu",
               (unsigned char)obj[i], (unsigned long)(i + 1));
  if (!*why && (dots = find2(obj, len, "..")))
    snprintf(why, sizeof(why), "'..' at position %lu: a path out of the "
             "namespace", (unsigned long)(dots - obj + 1));
  if (!*why && !namespace_wrong(obj, len, &ns, why, sizeof(why)) &&
      !starts(obj + ns, len - ns, OBJECT_PREFIX))
    snprintf(why, sizeof(why), "no '" OBJECT_PREFIX "' after the namespace");
  if (!*why)
    digits_wrong(obj, len, ns + strlen(OBJECT_PREFIX), why, sizeof(why));
  if (!*why)
    return 0;
  shown(obj, len, name, sizeof(name));
  return shmb__fail(err, errlen, SHMB_EBADSERVER,
                    "the server's OPEN reply names the object '%s', which "
                    "is not a name the service makes (%s): %s; refused "
                    "before opening anything", name, OBJECT_RULE, why);
}

/* What is wrong with NAME in "\\.\pipe\NAME" (at s), or 0. */
static int pipe_rest_wrong(const char *s, size_t at, char *why,
                           size_t whylen) {
  size_t start = at, i;
  if (!s[at])
    return snprintf(why, whylen, "no NAME after \\\\.\\pipe\\");
  for (i = at;; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\' || c == '\0') {
      size_t n = i - start;
      if (n == 0)
        return snprintf(why, whylen, "an empty component at position %lu",
                        (unsigned long)(i + 1));
      if ((n == 1 && s[start] == '.') ||
          (n == 2 && s[start] == '.' && s[start + 1] == '.'))
        return snprintf(why, whylen, "a '%.*s' component at position %lu, "
                        "which Windows resolves before it opens the pipe "
                        "(\\\\.\\pipe\\..\\UNC\\HOST\\pipe\\X reaches "
                        "another host)", (int)n, s + start,
                        (unsigned long)(start + 1));
      if (c == '\0')
        return 0;
      start = i + 1;
    } else if (c == '/') {
      return snprintf(why, whylen, "'/' at position %lu, which Windows "
                      "reads as '\\'", (unsigned long)(i + 1));
    } else if (c <= ' ' || c > 0x7e) {
      return snprintf(why, whylen, "the byte 0x%02x at position %lu (only "
                      "printable ASCII without blanks)", c,
                      (unsigned long)(i + 1));
    }
  }
}

int shmb__pipe_name_check(const char *name, char *err, size_t errlen) {
  static const char local[] = "\\\\.\\pipe\\";
  char why[256] = "", text[SHMB_SANITISED_MAX(SHOWN_MAX) + 4];
  size_t len = name ? strlen(name) : 0;

  if (!len)
    return shmb__fail(err, errlen, SHMB_EINVAL, "the pipe name is empty; "
                      "only local pipes, \\\\.\\pipe\\NAME, are accepted");
  if (len > SHMB_PIPE_NAME_MAX)
    snprintf(why, sizeof(why), "it is %lu bytes long, more than %d",
             (unsigned long)len, SHMB_PIPE_NAME_MAX);
  else if (starts(name, len, "\\\\?\\") || starts(name, len, "\\??\\"))
    snprintf(why, sizeof(why), "a \\\\?\\ path is passed to the object "
             "manager as it is, and may name any device or host");
  else if (starts(name, len, "\\\\.\\")) {
    if (!starts_nocase(name, len, local))
      snprintf(why, sizeof(why), "a \\\\.\\ name other than "
               "\\\\.\\pipe\\ is another device");
  } else if (starts(name, len, "\\\\") || starts(name, len, "//") ||
           starts(name, len, "\\/") || starts(name, len, "/\\"))
    snprintf(why, sizeof(why), "it names a pipe on another host, which "
             "would get this account's credentials");
  else
    snprintf(why, sizeof(why), "it does not start with \\\\.\\pipe\\");
  if (!*why && !pipe_rest_wrong(name, sizeof(local) - 1, why, sizeof(why)))
    return 0;
  shown(name, len, text, sizeof(text));
  return shmb__fail(err, errlen, SHMB_EINVAL,
                    "pipe name '%s' refused: %s; only local pipes, "
                    "\\\\.\\pipe\\NAME, are accepted", text, why);
}

int shmb__access_check(uint32_t asked, uint32_t granted, char *err,
                       size_t errlen) {
  char a[32], g[32];
  if (granted & ~SHMB_WIRE_ACCESS_MASK)
    return shmb__fail(err, errlen, SHMB_EBADSERVER,
                      "the server granted access 0x%x, with bits this SDK "
                      "does not know (0x%x); refused before opening "
                      "anything", (unsigned)granted,
                      (unsigned)(granted & ~SHMB_WIRE_ACCESS_MASK));
  if (granted == asked)
    return 0;
  snprintf(a, sizeof(a), "%s", shmb__access_name(asked));
  snprintf(g, sizeof(g), "%s", shmb__access_name(granted));
  return shmb__fail(err, errlen, SHMB_EBADSERVER,
                    "the server granted %s access where %s was asked for: "
                    "the service grants exactly what is asked or refuses; "
                    "refused before opening anything", g, a);
}

int shmb__size_check(uint64_t said, uint64_t view, uint64_t page, char *err,
                     size_t errlen) {
  if (said == 0)
    return shmb__fail(err, errlen, SHMB_EBADSERVER,
                      "the server says the section has 0 bytes; the service "
                      "makes no empty sections");
  if (said > view)
    return shmb__fail(err, errlen, SHMB_EBADSERVER,
                      "the server says the section has %llu bytes, but the "
                      "section it named maps only %llu (whole pages): "
                      "reading the promised size would run past the view",
                      (unsigned long long)said, (unsigned long long)view);
  if (page && view - said >= page)
    return shmb__fail(err, errlen, SHMB_EBADSERVER,
                      "the server says the section has %llu bytes, but the "
                      "section it named maps %llu (whole pages of %llu): "
                      "not the section the service describes",
                      (unsigned long long)said, (unsigned long long)view,
                      (unsigned long long)page);
  return 0;
}

int shmb__reply_check(uint8_t sent_opcode, uint32_t sent_id,
                      uint8_t reply_opcode, uint32_t reply_id, char *err,
                      size_t errlen) {
  uint8_t answer = (uint8_t)(sent_opcode | SHMB_OP_REPLY);
  if (reply_opcode == answer && reply_id == sent_id)
    return 0;
  if (reply_opcode == SHMB_OP_ERROR && (reply_id == sent_id || reply_id == 0))
    return 0;
  if (reply_opcode == answer || reply_opcode == SHMB_OP_ERROR)
    return shmb__fail(err, errlen, SHMB_EPROTO,
                      "the reply carries request id %lu, not %lu (the id of "
                      "the request sent): a stale or forged reply; the "
                      "connection is dropped", (unsigned long)reply_id,
                      (unsigned long)sent_id);
  return shmb__fail(err, errlen, SHMB_EPROTO,
                    "the reply's opcode 0x%02x does not answer a request "
                    "of opcode 0x%02x; the connection is dropped",
                    reply_opcode, sent_opcode);
}

int shmb__process_verdict(enum shmb_process_lookup lookup, int same_account) {
  switch (lookup) {
  case SHMB_PROCESS_READ:
    return same_account ? 0 : SHMB_EBADSERVER;
  case SHMB_PROCESS_DENIED:
    return 0;
  default:
    return SHMB_EBADSERVER;
  }
}

/* The length of the well-formed UTF-8 sequence at s (at most len bytes)
 * that may be shown, or 0: invalid, overlong, surrogates, C1 controls,
 * line separators and the bidirectional overrides that reorder what a
 * terminal shows. */
static size_t utf8_shown(const unsigned char *s, size_t len) {
  uint32_t cp;
  size_t n;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2, cp = s[0] & 0x1fu;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3, cp = s[0] & 0x0fu;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4, cp = s[0] & 0x07u;
  else
    return 0;
  if (len < n)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3fu);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0 ||
      (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
    return 0;
  return n;
}

size_t shmb__sanitise(const char *in, size_t len, char *out, size_t outlen) {
  const unsigned char *s = (const unsigned char *)in;
  size_t o = 0, i = 0;
  if (outlen == 0)
    return 0;
  while (i < len) {
    char esc[5];
    const char *piece = in + i;
    size_t plen = 1, used;
    if (s[i] < 0x20 || s[i] == 0x7f ||
        (s[i] > 0x7f && !(plen = utf8_shown(s + i, len - i)))) {
      snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
      piece = esc;
      plen = 4;
    }
    if (o + plen >= outlen)
      break;
    memcpy(out + o, piece, plen);
    o += plen;
    used = piece == esc ? 1 : plen;
    i += used;
  }
  out[o] = '\0';
  return o;
}
