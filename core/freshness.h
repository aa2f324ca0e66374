/* What an import-only host knows of its authority's freshness, kept
 * outside the store (pam_apitoken.conf(5), max_bundle_age, stale_action).
 *
 * The store says which generation a host holds; it cannot say whether the
 * authority still stands behind it. A mirror that froze keeps serving the
 * bundle the host already has, and a host that only compared generations
 * would go on accepting tokens the authority revoked since. So every
 * signed statement a host verifies (a bundle, or the pointer of a
 * published directory) records when the authority made it, and a host
 * whose newest such statement is older than max_bundle_age is stale.
 *
 * The record is a small file beside the store, "<db>.freshness", written
 * atomically by tokenadm: a heartbeat (the same generation, signed again)
 * renews it without rebuilding the store, and the module reads it with
 * one open and one read per login when stale_action = refuse. */
#ifndef APITOKEN_FRESHNESS_H
#define APITOKEN_FRESHNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define FRESHNESS_SUFFIX ".freshness"
/* The file's longest legal content, with room to notice more. */
#define FRESHNESS_MAX 96

typedef struct freshness {
	int64_t seen;        /* creation time of the newest signed statement */
	uint64_t generation; /* the generation it vouched for (the host's) */
} freshness;

/* "<db_path>.freshness" into buf. Returns 0, or -1 if it does not fit. */
int freshness_path(const char *db_path, char *buf, size_t bufsz);

/* Read and parse the file of db_path. It decides who gets in (with
 * stale_action = refuse), so it is held to the config's rule: a regular
 * file, not a symlink, owned by root or the effective uid, not writable
 * by group or others. Returns 0, 1 when there is none (*f zeroed), or -1
 * with a reason in err (unreadable, badly owned, malformed). */
int freshness_read(const char *db_path, freshness *f, char *err,
		   size_t errlen);

/* Replace it (mode 0644: a time and a generation are no secret, and
 * services that read the store read this too). Returns 0 or -1 (err). */
int freshness_write(const char *db_path, const freshness *f, char *err,
		    size_t errlen);

/* The file's text for f, and the strict parser of it (exposed for the
 * tests and the fuzz corpus). parse returns 0 or -1. */
int freshness_format(const freshness *f, char *buf, size_t bufsz);
int freshness_parse(const char *s, size_t len, freshness *f);

/* Is a host that holds f (have: whether there is any) stale at now under
 * cfg? Only an import-only host with max_bundle_age set can be. When
 * stale, why says so in one line for logs and status. */
bool freshness_stale(const apitoken_config *cfg, const freshness *f,
		     bool have, int64_t now, char *why, size_t whylen);

/* The module's check, for a login that would otherwise succeed: 0 when
 * tokens may be accepted (fresh, or stale_action = warn, or not an
 * import-only host with max_bundle_age), -1 with a reason in why when
 * they must be refused (stale with stale_action = refuse, or the file
 * cannot be trusted: fail closed). Costs one open, fstat and read. */
int freshness_gate(const apitoken_config *cfg, int64_t now, char *why,
		   size_t whylen);

#endif
