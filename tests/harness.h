/* skl test harness: CHECK macros that count and report, and a closing line
 * "N passed, N failed" per test program. Not a framework: one file, no deps. */
#ifndef SKL_TEST_HARNESS_H
#define SKL_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int t_pass, t_fail;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) t_pass++;                                                        \
    else { t_fail++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
  } while (0)

#define CHECK_MSG(cond, ...)                                                   \
  do {                                                                         \
    if (cond) t_pass++;                                                        \
    else { t_fail++; fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); }                \
  } while (0)

#define CHECK_STR(a, b)                                                        \
  do {                                                                         \
    const char *a_ = (a), *b_ = (b);                                           \
    if (a_ && b_ && !strcmp(a_, b_)) t_pass++;                                 \
    else { t_fail++; fprintf(stderr, "%s:%d: CHECK_STR failed: '%s' != '%s'\n", __FILE__, __LINE__, \
                             a_ ? a_ : "(null)", b_ ? b_ : "(null)"); }        \
  } while (0)

/* substring check: the message shape tests use this */
#define CHECK_CONTAINS(hay, needle)                                            \
  do {                                                                         \
    const char *h_ = (hay), *n_ = (needle);                                    \
    if (h_ && n_ && strstr(h_, n_)) t_pass++;                                  \
    else { t_fail++; fprintf(stderr, "%s:%d: expected '%s' to contain '%s'\n", __FILE__, __LINE__, \
                             h_ ? h_ : "(null)", n_ ? n_ : "(null)"); }        \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                  \
  do {                                                                         \
    double a_ = (a), b_ = (b);                                                 \
    if (fabs(a_ - b_) <= (tol)) t_pass++;                                      \
    else { t_fail++; fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s=%.9g %s=%.9g tol=%g\n", __FILE__, \
                             __LINE__, #a, a_, #b, b_, (double)(tol)); }       \
  } while (0)

/* Call at the end of main: prints the closing line, returns the exit code. */
static inline int test_report(void) {
  printf("%d passed, %d failed\n", t_pass, t_fail);
  return t_fail ? 1 : 0;
}

#endif
