/* Shared helpers of the fuzz targets in fuzz/.
 *
 * Every target is one LLVMFuzzerTestOneInput. It is linked either with
 * libFuzzer (clang, -Dfuzzing=true) or with replay_main.c, which runs it over
 * the files of a corpus directory (any compiler, part of `meson test`).
 *
 * A target reports a finding by calling FUZZ_FAIL / FUZZ_CHECK, which print
 * the reason and abort(): libFuzzer then saves the input as a crash, and the
 * replay test fails. */
#ifndef APITOKEN_FUZZ_COMMON_H
#define APITOKEN_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sitekey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fuzz_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

void fuzz_check_fail(const char *file, int line, const char *cond,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));

#define FUZZ_FAIL(...) fuzz_fail(__FILE__, __LINE__, __VA_ARGS__)
#define FUZZ_CHECK(cond, ...)                                                \
	do {                                                                 \
		if (!(cond))                                                 \
			fuzz_check_fail(__FILE__, __LINE__, #cond,           \
					__VA_ARGS__);                        \
	} while (0)

/* A private directory (mode 0700) made once per process and removed, with
 * the files fuzz_tmp_path() named, at exit. */
const char *fuzz_tmpdir(void);

/* "<tmpdir>/<name>" in a static buffer (one per name is enough here). */
const char *fuzz_tmp_path(const char *name);

/* The fixed test site key: bytes 0x00..0x1f. Loaded through the real
 * site_key_load from a 0600 file in fuzz_tmpdir(), once. Seeds of
 * fuzz_record are made with it (make_seeds.c). Never a production key. */
const site_key *fuzz_test_key(void);
#define FUZZ_TEST_KEY_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

/* A malloc'd, NUL-terminated copy of size bytes (NULs inside are kept, so
 * C-string consumers see only the part before the first one). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* Replace the whole content of a private 0600 file with data. */
void fuzz_write_file(const char *path, const void *data, size_t size);

/* FUZZ_VERBOSE set in the environment: targets say what each input did
 * (for checking that seeds reach what they were written for). */
bool fuzz_verbose(void);

/* True when every byte of s is printable ASCII (what a log line may hold). */
bool fuzz_printable(const char *s);

/* The record MAC label of core/record.c (white box: the record target
 * re-MACs fuzzed bodies so that decode's field checks are reached).
 * fuzz_test_key() verifies at start-up that it still matches. */
#define FUZZ_RECORD_MAC_DOMAIN "pam_apitoken record v1"

/* The token's check digits (tokenadm(8), TOKEN FORMAT), written
 * independently of core/token.c:
 * CRC-32 (zlib) of text as 6 base62 digits, most significant first. */
void fuzz_token_check(const char *text, size_t len, char out[6]);

#endif
