/* The one assertion macro of the C tests: count and report a failure,
 * carry on. Each test includes this once and ends with
 * `return failures ? 1 : 0` (or prints its own summary). */
#ifndef PTK_TEST_CHECK_H
#define PTK_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			failures++;                                          \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
	} while (0)

#endif
