/* The host's freshness record (see freshness.h). */
#include "freshness.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "readfile.h"
#include "writeall.h"

/* "pam_apitoken-freshness 1 seen=T generation=G\n": one line, one
 * spelling, so a damaged file is noticed rather than half-read. */
#define MAGIC "pam_apitoken-freshness 1 "

int freshness_path(const char *db_path, char *buf, size_t bufsz)
{
	int n = snprintf(buf, bufsz, "%s" FRESHNESS_SUFFIX,
			 db_path ? db_path : "");
	return (!db_path || n < 0 || (size_t)n >= bufsz) ? -1 : 0;
}

int freshness_format(const freshness *f, char *buf, size_t bufsz)
{
	int n = snprintf(buf, bufsz, MAGIC "seen=%" PRId64
			 " generation=%" PRIu64 "\n", f->seen, f->generation);
	return (n < 0 || (size_t)n >= bufsz) ? -1 : n;
}

/* "NAME=" and a decimal without sign or leading zero, up to INT64_MAX,
 * then the byte end. */
static int take(const char **p, const char *e, const char *name, char end,
		uint64_t *out)
{
	size_t n = strlen(name);
	const char *s = *p;
	uint64_t v = 0;

	if ((size_t)(e - s) < n + 2 || memcmp(s, name, n) != 0)
		return -1;
	s += n;
	if (*s < '0' || *s > '9' || (*s == '0' && s + 1 < e && s[1] >= '0' &&
				     s[1] <= '9'))
		return -1;
	for (; s < e && *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (s >= e || *s != end)
		return -1;
	*p = s + 1;
	*out = v;
	return 0;
}

int freshness_parse(const char *s, size_t len, freshness *f)
{
	const char *e = s + len;
	uint64_t seen, gen;

	memset(f, 0, sizeof(*f));
	if (len < sizeof(MAGIC) - 1 || memcmp(s, MAGIC, sizeof(MAGIC) - 1) != 0)
		return -1;
	s += sizeof(MAGIC) - 1;
	if (take(&s, e, "seen=", ' ', &seen) != 0 ||
	    take(&s, e, "generation=", '\n', &gen) != 0 || s != e)
		return -1;
	f->seen = (int64_t)seen;
	f->generation = gen;
	return 0;
}

int freshness_read(const char *db_path, freshness *f, char *err,
		   size_t errlen)
{
	char path[4096], buf[FRESHNESS_MAX + 2], why[160];
	size_t len = 0;

	memset(f, 0, sizeof(*f));
	if (freshness_path(db_path, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "freshness record: path too long");
		return -1;
	}
	if (read_file_buf(AT_FDCWD, path, READ_TRUSTED, buf, sizeof(buf),
			  &len, why, sizeof(why)) != 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path,
			 errno == EFBIG ? "too large" : why);
		return -1;
	}
	if (freshness_parse(buf, len, f) != 0) {
		snprintf(err, errlen, "%s: malformed", path);
		return -1;
	}
	return 0;
}

int freshness_write(const char *db_path, const freshness *f, char *err,
		    size_t errlen)
{
	char path[4096], buf[FRESHNESS_MAX];
	atomic_file af;
	int n = freshness_format(f, buf, sizeof(buf));

	if (n < 0 || freshness_path(db_path, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "freshness record: path too long");
		return -1;
	}
	if (atomic_create(&af, AT_FDCWD, path, 0644, (gid_t)-1, 0, err,
			  errlen) != 0)
		return -1;
	if (write_all(af.fd, buf, (size_t)n) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		atomic_abort(&af);
		return -1;
	}
	return atomic_commit(&af, err, errlen);
}

bool freshness_stale(const apitoken_config *cfg, const freshness *f,
		     bool have, int64_t now, char *why, size_t whylen)
{
	if (cfg->role != ROLE_IMPORT_ONLY || cfg->max_bundle_age <= 0)
		return false;
	if (!have) {
		snprintf(why, whylen, "stale: no signed bundle or pointer "
			 "recorded (max_bundle_age is %llds)",
			 (long long)cfg->max_bundle_age);
		return true;
	}
	if (now - f->seen <= cfg->max_bundle_age)
		return false;
	snprintf(why, whylen, "stale: the newest signed bundle or pointer "
		 "was made %llds ago, max_bundle_age is %llds",
		 (long long)(now - f->seen), (long long)cfg->max_bundle_age);
	return true;
}

int freshness_gate(const apitoken_config *cfg, int64_t now, char *why,
		   size_t whylen)
{
	freshness f;
	char err[200];

	if (!cfg->stale_refuse || cfg->role != ROLE_IMPORT_ONLY ||
	    cfg->max_bundle_age <= 0)
		return 0;
	int rc = freshness_read(cfg->db_path, &f, err, sizeof(err));
	if (rc < 0) {
		snprintf(why, whylen, "stale_action = refuse and the "
			 "freshness record is unusable: %s", err);
		return -1;
	}
	return freshness_stale(cfg, &f, rc == 0, now, why, whylen) ? -1 : 0;
}
