#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "record.h"

#define MAX_TMP_FILES 8

static char tmpdir[256];
static char tmp_paths[MAX_TMP_FILES][320];
static size_t n_tmp_paths;
static site_key *test_key;

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FUZZ FINDING %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void fuzz_check_fail(const char *file, int line, const char *cond,
		     const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FUZZ FINDING %s:%d: check failed: %s: ", file, line,
		cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

static void cleanup(void)
{
	for (size_t i = 0; i < n_tmp_paths; i++)
		unlink(tmp_paths[i]);
	if (tmpdir[0])
		rmdir(tmpdir);
	site_key_free(test_key);
	test_key = NULL;
}

const char *fuzz_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir;
	const char *base = getenv("TMPDIR");
	if (!base || base[0] != '/' || strlen(base) > 200)
		base = "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/apitoken-fuzz-XXXXXX", base);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(2);
	}
	atexit(cleanup);
	return tmpdir;
}

const char *fuzz_tmp_path(const char *name)
{
	const char *dir = fuzz_tmpdir();

	for (size_t i = 0; i < n_tmp_paths; i++) {
		const char *slash = strrchr(tmp_paths[i], '/');
		if (slash && strcmp(slash + 1, name) == 0)
			return tmp_paths[i];
	}
	if (n_tmp_paths == MAX_TMP_FILES) {
		fprintf(stderr, "fuzz_tmp_path: too many files\n");
		exit(2);
	}
	snprintf(tmp_paths[n_tmp_paths], sizeof(tmp_paths[0]), "%s/%s", dir,
		 name);
	return tmp_paths[n_tmp_paths++];
}

void fuzz_write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		      0600);
	const char *p = data;

	if (fd < 0 || fchmod(fd, 0600) != 0) {
		fprintf(stderr, "fuzz_write_file %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (size > 0) {
		ssize_t n = write(fd, p, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "fuzz_write_file %s: %s\n", path,
				strerror(errno));
			exit(2);
		}
		p += n;
		size -= (size_t)n;
	}
	close(fd);
}

/* Make sure the white-box re-MAC of fuzz_record matches record.c: encode a
 * record, recompute its MAC over the body with FUZZ_RECORD_MAC_DOMAIN. */
static void check_mac_domain(const site_key *key)
{
	token_record rec;
	uint8_t buf[RECORD_ENCODED_MAX], mac[MAC_LEN];

	memset(&rec, 0, sizeof(rec));
	memcpy(rec.id, "Ab3De6Gh9Jk0", TOKEN_ID_LEN + 1);
	strcpy(rec.user, "alice");
	size_t len = record_encode(&rec, key, buf, sizeof(buf));
	if (len <= MAC_LEN ||
	    site_key_mac(key, FUZZ_RECORD_MAC_DOMAIN, rec.id, TOKEN_ID_LEN, buf,
			 len - MAC_LEN, mac) != 0 ||
	    memcmp(mac, buf + len - MAC_LEN, MAC_LEN) != 0) {
		fprintf(stderr, "fuzz: FUZZ_RECORD_MAC_DOMAIN no longer matches "
				"core/record.c: update fuzz_common.h\n");
		exit(2);
	}
}

const site_key *fuzz_test_key(void)
{
	static const char text[] = "ptkkey1:" FUZZ_TEST_KEY_HEX "\n";
	char err[256];

	if (test_key)
		return test_key;
	const char *path = fuzz_tmp_path("test.key");
	unlink(path);
	fuzz_write_file(path, text, sizeof(text) - 1);
	if (site_key_load(path, &test_key, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: cannot load the test key: %s\n", err);
		exit(2);
	}
	check_mac_domain(test_key);
	return test_key;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s) {
		fprintf(stderr, "fuzz: out of memory\n");
		exit(2);
	}
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

bool fuzz_verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("FUZZ_VERBOSE") != NULL;
	return v;
}

bool fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

void fuzz_token_check(const char *text, size_t len, char out[6])
{
	static const char digits[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned long crc = crc32(0L, (const Bytef *)text, (uInt)len);

	for (int i = 5; i >= 0; i--) {
		out[i] = digits[crc % 62];
		crc /= 62;
	}
}
