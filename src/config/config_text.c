/* skl config scalar text, both ways: reading numbers/bools the YAML way,
 * writing numbers and strings so they read back exactly. Not the tree walker. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_internal.h"

bool skl_cfg_parse_i64(const char *v, int64_t *out) {
  if (!*v) return false;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (!errno && end != v && !*end) {
    *out = x;
    return true;
  }
  /* 1e6 or 4096.0 are integers too, when exact */
  errno = 0;
  double d = strtod(v, &end);
  if (errno || end == v || *end || !isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0) return false;
  *out = (int64_t)d;
  return true;
}

bool skl_cfg_parse_double(const char *v, double *out) {
  static const char *const pinf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"};
  static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF"};
  for (size_t i = 0; i < sizeof pinf / sizeof pinf[0]; i++)
    if (!strcmp(v, pinf[i])) {
      *out = INFINITY;
      return true;
    }
  for (size_t i = 0; i < sizeof ninf / sizeof ninf[0]; i++)
    if (!strcmp(v, ninf[i])) {
      *out = -INFINITY;
      return true;
    }
  if (!*v) return false;
  char *end;
  double d = strtod(v, &end);
  if (end == v || *end || isnan(d)) return false;
  *out = d;
  return true;
}

int skl_cfg_parse_bool(const char *v) {
  static const char *const t[] = {"true", "yes", "on"}, *const f[] = {"false", "no", "off"};
  for (int i = 0; i < 3; i++) {
    if (!strcasecmp(v, t[i])) return 1;
    if (!strcasecmp(v, f[i])) return 0;
  }
  return -1;
}

void skl_cfg_fmt_double(double v, bool as_float, char *buf, size_t n) {
  char t[48]; /* "%.17g" needs at most 24 bytes, plus ".0" */
  if (isnan(v))
    snprintf(t, sizeof t, ".nan");
  else if (isinf(v))
    snprintf(t, sizeof t, v > 0 ? ".inf" : "-.inf");
  else {
    for (int p = 6; p <= 17; p++) {
      snprintf(t, sizeof t, "%.*g", p, v);
      if (strtod(t, NULL) == v) break;
    }
    /* "1.0", "1.0e+300": PyYAML (YAML 1.1) reads a float only with a dot */
    if (as_float && !strchr(t, '.')) {
      char *e = strchr(t, 'e');
      size_t at = e ? (size_t)(e - t) : strlen(t);
      memmove(t + at + 2, t + at, strlen(t + at) + 1);
      memcpy(t + at, ".0", 2);
    }
  }
  snprintf(buf, n, "%s", t);
}

void skl_cfg_fmt_bound(double v, char *buf, size_t n) {
  if (isinf(v))
    snprintf(buf, n, v > 0 ? "inf" : "-inf");
  else if (v == floor(v) && fabs(v) < 1e18)
    snprintf(buf, n, "%.0f", v);
  else
    skl_cfg_fmt_double(v, false, buf, n);
}

/* Plain YAML is safe for names and paths that no reader takes for a
 * null, a bool or a number. */
static bool plain_ok(const char *s) {
  static const char *const reserved[] = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"};
  if (!(*s == '_' || *s == '/' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return false;
  for (const char *p = s; *p; p++) {
    char ch = *p;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '.' || ch == '/' || ch == '-';
    if (!ok) return false;
  }
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (!strcasecmp(s, reserved[i])) return false;
  return true;
}

/* Decode one UTF-8 sequence at p; *len gets its byte count.
 * @return the code point, or -1 for an invalid sequence (len = 1). */
long skl_cfg_utf8_next(const unsigned char *p, int *len) {
  int n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
  *len = 1;
  if (n == 0) return -1;
  long cp = n == 1 ? p[0] : p[0] & (0x7f >> n);
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  static const long min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
  *len = n;
  return cp;
}

/* YAML's printable set, minus the line breaks NEL/LS/PS that a
 * double-quoted scalar would fold. */
static bool yaml_printable(long cp) {
  return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
         (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) || (cp >= 0x10000 && cp <= 0x10ffff);
}

bool skl_cfg_valid_utf8(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    int len;
    if (skl_cfg_utf8_next(p, &len) < 0) return false;
    p += len;
  }
  return true;
}

skl_status skl_cfg_put_string(skl_buf *b, const char *s) {
  if (!s) return skl_buf_puts(b, "null");
  if (plain_ok(s)) return skl_buf_puts(b, s);
  skl_status st = skl_buf_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p && !st;) {
    int len;
    long cp = skl_cfg_utf8_next(p, &len);
    switch (cp) {
      case '"': st = skl_buf_puts(b, "\\\""); break;
      case '\\': st = skl_buf_puts(b, "\\\\"); break;
      case '\n': st = skl_buf_puts(b, "\\n"); break;
      case '\t': st = skl_buf_puts(b, "\\t"); break;
      case '\r': st = skl_buf_puts(b, "\\r"); break;
      default:
        if (cp < 0)
          st = skl_buf_printf(b, "\\x%02x", *p); /* invalid UTF-8: lossy, as U+00NN */
        else if (yaml_printable(cp))
          st = skl_buf_append(b, p, (size_t)len);
        else if (cp <= 0xff)
          st = skl_buf_printf(b, "\\x%02lx", cp);
        else if (cp <= 0xffff)
          st = skl_buf_printf(b, "\\u%04lx", cp);
        else
          st = skl_buf_printf(b, "\\U%08lx", cp);
    }
    p += len;
  }
  return st ? st : skl_buf_puts(b, "\"");
}
