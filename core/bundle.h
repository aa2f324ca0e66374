/* The fleet bundle: the whole token store of an authority host as one
 * signed text file, for import-only hosts (man pam_apitoken-bundle(5)).
 *
 * A bundle crosses machines and untrusted hands, so nothing in it is
 * believed before its Ed25519 signature has been checked against keys the
 * importer already holds. Both sides stream: the writer hashes as it
 * writes and the verifier as it reads, so a store of millions of records
 * never has to fit in memory.
 *
 * Reading is two passes over the same file:
 *   1. bundle_verify (or bundle_verify_proof): framing only, then the
 *      signature; no field is interpreted before the signature is good.
 *   2. lseek(fd, 0, SEEK_SET), then bundle_read (or bundle_read_checked):
 *      the header, each record, the count.
 * Nothing pass 2 hands to a callback is final until bundle_read returns
 * 0: the count and the end of the file are only checked at the end, so an
 * importer builds the new store aside and installs it only then. */
#ifndef APITOKEN_BUNDLE_H
#define APITOKEN_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* Longest line, its "\n" included. The longest legal line is a record of
 * RECORD_ENCODED_MAX bytes: 7 + 12 + 1 + 5464 base64 characters + 1. */
#define BUNDLE_LINE_MAX 8192
/* Most records in one bundle. The reader keeps every id (12 bytes, in a
 * table at most 3/4 full) to refuse a duplicate: at this bound that is
 * about 200 MB, which is the worst a signed bundle can make it use. */
#define BUNDLE_RECORDS_MAX 10000000u
/* SHA-512 of the signed part, as bundle_verify_proof reports it. */
#define BUNDLE_DIGEST_LEN 64
/* A key fingerprint: SHA-256 of the raw public key, lowercase hex, NUL. */
#define BUNDLE_FPR_LEN 64

typedef struct bundle_header {
	char prefix[17];     /* token prefix, 1..16 base62 characters */
	uint64_t generation; /* 1 .. 2^63-1; the importer refuses a replay */
	int64_t created;     /* Unix time of the export, >= 0 */
	/* 0: a full bundle (format 1). Else a delta (format 2): only what
	 * changed from generation base (1 .. generation-1) to generation;
	 * it applies to a store at exactly base. */
	uint64_t base;
} bundle_header;

/* The format versions this code reads; it writes 1 for full bundles and
 * 2 for deltas. A reader refuses a higher version with a message that
 * says to upgrade. */
#define BUNDLE_VERSION_FULL 1
#define BUNDLE_VERSION_DELTA 2

typedef struct bundle_writer bundle_writer;

/* Start a bundle on fd (which the writer does not close, fsync or seek)
 * and write the header. Returns NULL with a reason in err if the header is
 * invalid (prefix, generation 0 or above 2^63-1, negative created), memory
 * runs out or the write fails. */
bundle_writer *bundle_writer_open(int fd, const bundle_header *h, char *err,
				  size_t errlen);

/* Add one record: a valid token id (12 base62 characters, not
 * NUL-terminated) and 1..RECORD_ENCODED_MAX bytes. Returns 0, or -1 if the
 * id is malformed or already written, the length is out of range, there
 * are BUNDLE_RECORDS_MAX records already or a write fails. An error is
 * sticky: every later call fails too and bundle_writer_finish reports the
 * first error; bundle_writer_error says it at once. */
int bundle_writer_record(bundle_writer *w, const char id[12],
			 const uint8_t *val, size_t len);

/* The first error of w, or "" while there is none. Valid until w is
 * finished or aborted. */
const char *bundle_writer_error(const bundle_writer *w);

/* Write the count and the signature made with signing_key (an Ed25519
 * private key), and flush. Frees w in every case. Returns 0, or -1 with a
 * reason in err (an earlier record error, a key that cannot sign, a failed
 * write). On -1 what is on fd is not a valid bundle: remove it. */
int bundle_writer_finish(bundle_writer *w, EVP_PKEY *signing_key, char *err,
			 size_t errlen);

/* A delta's "remove ID" line: the record id is gone since the base
 * generation. Only on a writer opened with h->base != 0; an id is either
 * a record or a remove, once. Returns 0 or -1 (sticky, as above). */
int bundle_writer_remove(bundle_writer *w, const char id[12]);

/* Free w without finishing (what was written is not a valid bundle).
 * NULL is fine. */
void bundle_writer_abort(bundle_writer *w);

/* What pass 1 proved, for pass 2 to hold the file to. */
typedef struct bundle_proof {
	uint8_t digest[BUNDLE_DIGEST_LEN];  /* SHA-512 of the signed part */
	char signer[BUNDLE_FPR_LEN + 1];    /* fingerprint of the key used */
} bundle_proof;

/* Pass 1: read fd from its current offset to its end (both passes do);
 * check only the framing (line length, printable ASCII, a "\n" at the end
 * of every line, the last line a signature line and nothing after it),
 * then verify the signature with the trusted key whose fingerprint the
 * signature line names. Returns 0, or -1 with one of these in err:
 *   "truncated"                   no final newline, or no signature line
 *   "malformed at line N: REASON" framing or the signature line's syntax
 *   "unknown key FPR"             no trusted key has that fingerprint
 *   "bad signature"               the signature does not verify
 *   "read: ..." or another setup failure (a trusted key not Ed25519...).
 * A trusted key may also be a private key (its public half is used). */
int bundle_verify(int fd, EVP_PKEY *const *trusted, size_t n_trusted,
		  char *err, size_t errlen);

/* bundle_verify, and on success fill *proof (NULL: not wanted) for
 * bundle_read_checked. */
int bundle_verify_proof(int fd, EVP_PKEY *const *trusted, size_t n_trusted,
			bundle_proof *proof, char *err, size_t errlen);

/* Called once per record with a valid id (not NUL-terminated) and
 * 1..RECORD_ENCODED_MAX bytes, valid only during the call. Return 0 to go
 * on; anything else stops the read. */
typedef int (*bundle_record_fn)(void *ctx, const char id[12],
				const uint8_t *val, size_t len);

/* Pass 2: parse the header into *h_out (may be NULL), hand it to on_header
 * (may be NULL) before any record, then each record to visit (may be
 * NULL), then check the count, the signature line's syntax and the end of
 * the file. Every check of pass 1 is made again, so this is safe on any
 * input, but it does not check the signature: call it only on a file that
 * passed bundle_verify and cannot have changed since (or use
 * bundle_read_checked). Returns 0, or -1 with "line N: REASON" in err;
 * when a callback stops the read, -1 with "line N: stopped by the caller"
 * (the callback keeps its own reason in ctx). */
int bundle_read(int fd, bundle_header *h_out,
		int (*on_header)(void *ctx, const bundle_header *h),
		bundle_record_fn visit, void *ctx, char *err, size_t errlen);

/* Called once per remove line of a delta, with a valid id. */
typedef int (*bundle_remove_fn)(void *ctx, const char id[12]);

/* The general pass 2: full bundles and deltas alike (h->base says which,
 * before any record). bundle_read and bundle_read_checked are this with
 * on_remove NULL, and then refuse a delta ("a delta bundle, where a full
 * bundle is expected"), so that no caller drops remove lines unseen. */
int bundle_read_ex(int fd, const bundle_proof *proof, bundle_header *h_out,
		   int (*on_header)(void *ctx, const bundle_header *h),
		   bundle_record_fn visit, bundle_remove_fn on_remove,
		   void *ctx, char *err, size_t errlen);

/* bundle_read that also hashes what it reads and, before returning 0,
 * checks it is exactly what pass 1 verified (the same digest and signer):
 * a file replaced or rewritten between the two passes is refused with
 * "changed since it was verified" (no line number). proof NULL: same as
 * bundle_read. */
int bundle_read_checked(int fd, const bundle_proof *proof,
			bundle_header *h_out,
			int (*on_header)(void *ctx, const bundle_header *h),
			bundle_record_fn visit, void *ctx, char *err,
			size_t errlen);

#endif
