/* The harness shared by fuzz_bundle and fuzz_delta: both feed a mode byte
 * and a bundle file to a pass-2 reader and hold it to the same checks (see
 * the top of fuzz_bundle.c and fuzz_delta.c). One copy, so that a check
 * added for one reader cannot be missed for the other; what differs is the
 * reader (a fuzz_bundle_target) and fuzz_delta's extra full-only check. */
#ifndef APITOKEN_FUZZ_BUNDLE_COMMON_H
#define APITOKEN_FUZZ_BUNDLE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "token.h"

typedef struct fuzz_bundle_rec {
	char id[TOKEN_ID_LEN];
	size_t off, len; /* len 0: a remove line */
} fuzz_bundle_rec;

/* What the callbacks saw during one read. */
typedef struct fuzz_bundle_seen {
	bundle_header h;
	int headers;
	bool header_first;
	bool deltas; /* the reader takes deltas: on_header checks the base */
	bool stop_header, stop_record;
	size_t removes;
	fuzz_bundle_rec *recs;
	size_t n, cap;
	uint8_t *data;
	size_t dlen, dcap;
} fuzz_bundle_seen;

/* Callbacks for bundle_read* (ctx is a fuzz_bundle_seen). */
int fuzz_bundle_on_header(void *ctx, const bundle_header *h);
int fuzz_bundle_visit(void *ctx, const char id[12], const uint8_t *val,
		      size_t len);
int fuzz_bundle_on_remove(void *ctx, const char id[12]);

/* A zeroed fuzz_bundle_seen with the stop flags and deltas of like. */
void fuzz_bundle_seen_like(fuzz_bundle_seen *s, const fuzz_bundle_seen *like);
void fuzz_bundle_seen_free(fuzz_bundle_seen *s);

typedef struct fuzz_bundle_target {
	const char *name; /* in FUZZ_VERBOSE lines and memfd names */
	bool deltas;      /* reads deltas (on_remove, the base checked) */
	/* The pass-2 reader under test, with the callbacks above and ctx s;
	 * proof NULL: without pass 1's proof. */
	int (*read)(int fd, const bundle_proof *proof, bundle_header *h_out,
		    fuzz_bundle_seen *s, char *err, size_t errlen);
	/* Optional: more checks on the input fd (rrc, s: the first read). */
	void (*extra)(int fd, const fuzz_bundle_seen *s, int rrc);
} fuzz_bundle_target;

/* LLVMFuzzerTestOneInput of the target t. */
int fuzz_bundle_run(const fuzz_bundle_target *t, const uint8_t *data,
		    size_t size);

#endif
