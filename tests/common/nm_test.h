/* SPDX-License-Identifier: MIT */
/*
 * A small TAP test harness: each test is a function; CHECK stops the test at
 * the first failed assertion and says what it compared. Output is TAP, which
 * meson counts test by test (protocol: 'tap').
 */
#ifndef NM_TEST_H
#define NM_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nm_test {
	const char *name;
	void (*fn)(void);
};

static int nm_test_failed;
static const char *nm_test_skip_reason;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		nm_test_failed = 1; \
		return; \
	} } while (0)

#define CHECK_MSG(cond, ...) do { \
	if (!(cond)) { \
		printf("# %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		nm_test_failed = 1; \
		return; \
	} } while (0)

#define CHECK_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { \
		printf("# %s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", \
		       __FILE__, __LINE__, #a, #b, _a, _b); \
		nm_test_failed = 1; \
		return; \
	} } while (0)

#define SKIP(reason) do { nm_test_skip_reason = (reason); return; } while (0)

#define NM_TEST(fn) { #fn, fn }

static inline int nm_test_run(const struct nm_test *tests, size_t n)
{
	int failures = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		nm_test_failed = 0;
		nm_test_skip_reason = NULL;
		tests[i].fn();
		if (nm_test_failed) {
			printf("not ok %zu - %s\n", i + 1, tests[i].name);
			failures++;
		} else if (nm_test_skip_reason) {
			printf("ok %zu - %s # SKIP %s\n", i + 1, tests[i].name,
			       nm_test_skip_reason);
		} else {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		}
	}
	return failures ? 1 : 0;
}

#define NM_TEST_MAIN(...) \
	int main(void) \
	{ \
		static const struct nm_test tests[] = { __VA_ARGS__ }; \
		return nm_test_run(tests, sizeof(tests) / sizeof(tests[0])); \
	}

#endif
