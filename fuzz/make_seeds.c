/* Write the seed corpora of fuzz/corpus/ (deterministic: run it again and
 * the files come out the same).
 *
 *   fuzz_make_seeds OUTDIR       # writes OUTDIR/fuzz_<target>/<name>
 *
 * Record seeds are encoded with the fixed test key of fuzz_common.c, so
 * fuzz_record can decode them; token seeds carry correct check digits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "fuzz_bundle_key.h"
#include "fuzz_common.h"
#include "record.h"
#include "token.h"

static const char *outdir;

static void put(const char *target, const char *name, const void *data,
		size_t len)
{
	char dir[1024], path[1200];

	snprintf(dir, sizeof(dir), "%s/%s", outdir, target);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void put_str(const char *target, const char *name, const char *s)
{
	put(target, name, s, strlen(s));
}

/* A string literal that may hold NUL bytes (the token selector is one). */
#define PUT_LIT(target, name, lit) put(target, name, lit, sizeof(lit) - 1)

/* A token with correct check digits: selector byte + text. */
static void token_seed(const char *name, uint8_t sel, const char *prefix,
		       const char *id, const char *secret, bool good_check)
{
	char text[128];
	int n = snprintf(text + 1, sizeof(text) - 1, "%s_%s_%s", prefix, id,
			 secret);
	text[0] = (char)sel;
	fuzz_token_check(text + 1, (size_t)n, text + 1 + n);
	if (!good_check)
		text[1 + n + 5] = text[1 + n + 5] == '0' ? '1' : '0';
	put("fuzz_token", name, text, 1 + (size_t)n + TOKEN_CHECK_LEN);
}

static void tokens(void)
{
	const char *id = "Ab3De6Gh9Jk0";
	const char *sec = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

	token_seed("ptk-valid", 0, "ptk", id, sec, true);
	token_seed("ptk-badcheck", 0, "ptk", id, sec, false);
	token_seed("one-letter", 1, "p", "zzzzzzzzzzzz",
		   "abcdefghijklmnopqrstuvwxyzABCDEF", true);
	token_seed("max-prefix", 2, "ABCDEFGHIJKLMNOP", "000000000000",
		   "00000000000000000000000000000000", true);
	/* Dynamic prefix: selector 0xf3 = 4 prefix bytes from the input. */
	{
		char text[128];
		int n = snprintf(text, sizeof(text), "%c%s%s_%s_%s",
				 (char)0xf3, "acme", "acme", id, sec);
		fuzz_token_check(text + 5, (size_t)n - 5, text + n);
		put("fuzz_token", "dynamic-prefix", text, (size_t)n + 6);
	}
	PUT_LIT("fuzz_token", "password", "\x00hunter2");
	PUT_LIT("fuzz_token", "wrong-prefix",
		"\x00ghp_Ab3De6Gh9Jk0_0123456789ABCDEFGHIJKLMNOPQRSTUV000000");
	PUT_LIT("fuzz_token", "underscore-in-id",
		"\x00ptk_Ab3De6Gh9J_0_0123456789ABCDEFGHIJKLMNOPQRSTUV000000");
	PUT_LIT("fuzz_token", "nul-inside",
		"\x00ptk_Ab3De6Gh9Jk0_01234567\x00"
		"9ABCDEFGHIJKLMNOPQRSTUV000000");
}

/* mode 0: the stored value with its MAC; mode 1: body, harness MACs it. */
static void record_seed_v(const char *name, const token_record *rec,
			  unsigned version)
{
	const site_key *key = fuzz_test_key();
	uint8_t buf[1 + TOKEN_ID_LEN + RECORD_ENCODED_MAX];
	size_t len = record_encode_version(rec, key, version,
					   buf + 1 + TOKEN_ID_LEN,
					   RECORD_ENCODED_MAX);
	char n2[128];

	if (len == 0) {
		fprintf(stderr, "cannot encode seed %s\n", name);
		exit(1);
	}
	memcpy(buf + 1, rec->id, TOKEN_ID_LEN);
	buf[0] = 0;
	put("fuzz_record", name, buf, 1 + TOKEN_ID_LEN + len);
	buf[0] = 1;
	snprintf(n2, sizeof(n2), "%s-body", name);
	put("fuzz_record", n2, buf, 1 + TOKEN_ID_LEN + len - MAC_LEN);
}

static void record_seed(const char *name, const token_record *rec)
{
	record_seed_v(name, rec, RECORD_VERSION_MAX);
}

static void records(void)
{
	token_record rec;

	memset(&rec, 0, sizeof(rec));
	memcpy(rec.id, "Ab3De6Gh9Jk0", TOKEN_ID_LEN + 1);
	rec.created = INT64_C(1767225600);
	rec.expires = rec.created + 90 * 86400;
	memset(rec.digest, 0x11, MAC_LEN);
	strcpy(rec.user, "alice");
	strcpy(rec.name, "ci");
	record_seed_v("minimal-v1", &rec, RECORD_VERSION_V1);
	rec.owner_uid = 1000;
	record_seed("minimal", &rec);

	rec.flags = RECORD_GROUP_BOUND;
	rec.creator_uid = 1000;
	strcpy(rec.allow_from, "10.0.0.0/8 2001:db8::/32 local");
	strcpy(rec.deny_from, "10.66.0.0/16");
	strcpy(rec.services, "sshd apache2");
	record_seed("rules", &rec);

	rec.flags = RECORD_REVOKED | RECORD_DISABLED;
	rec.changed = rec.created + 10;
	memset(rec.prev_digest, 0x22, MAC_LEN);
	rec.prev_until = rec.created + 86400;
	rec.expires = 0;
	strcpy(rec.name, "rotated token, never expires");
	record_seed("rotated", &rec);

	rec.flags = RECORD_DISABLED | RECORD_DISABLED_IDLE |
		    RECORD_ADMIN_ISSUED | RECORD_ISSUER_LAPSED;
	rec.idle_since = rec.created + 400 * 86400;
	rec.owner_uid = RECORD_UID_UNKNOWN;
	record_seed("v2-flags", &rec);
	rec.idle_since = 0;

	memcpy(rec.id, "zzzzzzzzzzzz", TOKEN_ID_LEN + 1);
	rec.flags = 0;
	memset(rec.user, 'u', RECORD_USER_MAX);
	memset(rec.name, 'n', RECORD_NAME_MAX);
	rec.allow_from[0] = '\0';
	rec.deny_from[0] = '\0';
	rec.services[0] = '\0';
	record_seed("long-names", &rec);
}

static void addrs(void)
{
	put_str("fuzz_addr", "spec", "10.0.0.0/8 2001:db8::/32 local\n"
				     "10.66.0.0/16\n10.1.2.3");
	put_str("fuzz_addr", "denied", "10.0.0.0/8\n10.66.0.0/16\n10.66.1.1");
	put_str("fuzz_addr", "mapped",
		"::ffff:192.0.2.0/120, ::1\n\n::ffff:192.0.2.7");
	put_str("fuzz_addr", "local-only", "local\n\n-");
	put_str("fuzz_addr", "hostname", "192.0.2.0/24\n\nhost.example.com");
	put_str("fuzz_addr", "v6", "2001:db8::/32,fe80::/10\n::/0\n2001:db8::1");
	put_str("fuzz_addr", "zone", "fe80::1%eth0\n\nfe80::1%eth0");
	put_str("fuzz_addr", "bad-prefix", "10.0.0.0/33 10.0.0.0/08\n\n10.0.0.1");
	put_str("fuzz_addr", "host-bits", "10.1.2.3/8 0.0.0.0/0\n\n0.0.0.0");
	put_str("fuzz_addr", "deny-only", "\n0.0.0.0/0\nUNKNOWN");
}

static void configs(void)
{
	put_str("fuzz_config", "spec",
		"db = /var/lib/pam_apitoken/tokens.db      # the store\n"
		"key = /etc/security/pam_apitoken.key      # the site key\n"
		"prefix = ptk\n"
		"allow_from = 10.0.0.0/8 2001:db8::/32 local\n"
		"deny_from = 10.66.0.0/16\n"
		"deny_services = sudo su su-l sudo-i polkit-1 passwd chfn chsh\n"
		"admin_group = tokenadmins\n"
		"max_tokens_per_user = 10\n"
		"\n"
		"[group token-users]\n"
		"max_lifetime = 90d\n"
		"\n"
		"[group ops]\n"
		"max_lifetime = never\n");
	put_str("fuzz_config", "empty", "");
	put_str("fuzz_config", "comments-crlf",
		"# only comments\r\n   # and blanks \xc3\xa9\r\n\r\n"
		"deny_services =\r\n");
	put_str("fuzz_config", "bad-key", "colour = blue\n");
	put_str("fuzz_config", "dup-section",
		"[group a]\nmax_lifetime = 1w\n[group a]\n");
	put_str("fuzz_config", "global-in-group",
		"[group a]\nprefix = abc\n");
	put_str("fuzz_config", "lists-commas",
		"allow_from = 10.0.0.1,10.0.0.2, ::1 ,local\n"
		"deny_services = sshd,login\nmax_tokens_per_user = 0\n");
	put_str("fuzz_config", "bad-utf8", "prefix = p\xff\n");
	PUT_LIT("fuzz_config", "nul", "prefix = a\0b\n");
	put_str("fuzz_config", "relative-path", "db = tokens.db\n");
	put_str("fuzz_config", "log-interval",
		"log_success_interval = 10m\nmax_tokens_per_user = 3\n");
}

static void durations(void)
{
	static const char *const texts[] = {
		"30m", "12h", "90d", "4w", "1s", "never", "2027-01-31",
		"2027-01-31T12:00:00Z", "2027-01-31T12:00:00.123456789+05:30",
		"2027-01-31t12:00:00-00:00", "1970-01-01T00:00:01Z",
		"9999-12-31T23:59:59Z", "9999-12-31", "2024-02-29",
		"2023-02-29", "3155760000s", "0d", "-1d", "2027-01-31T24:00:00Z",
	};
	char name[32], buf[64];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		snprintf(name, sizeof(name), "text-%02zu", i);
		buf[0] = (char)i; /* a different fixed "now" for each */
		size_t n = strlen(texts[i]);
		memcpy(buf + 1, texts[i], n);
		put("fuzz_duration", name, buf, 1 + n);
	}
	/* Selector >= 0x80: now from the next 8 bytes (2038-01-19 here). */
	static const uint8_t y2038[] = { 0x80, 0xff, 0xff, 0xff, 0x7f, 0, 0,
					  0, 0, '1', 'w' };
	put("fuzz_duration", "now-2038", y2038, sizeof(y2038));
}

/* Sent-notices files of tokenadm notify (<db>.notified): what notify
 * writes, and the damage a file may carry. */
static void notices(void)
{
	put_str("fuzz_notices", "written",
		"AbCdEf012345 expiry 86400 1767225600\n"
		"AbCdEf012345 expiry 1209600 1767225600\n"
		"AbCdEf012345 idle 1209600 1774915200\n"
		"zzzzzzzzzzzz inactive 0 0\n"
		"000000000000 revoked 0 1767200000\n");
	put_str("fuzz_notices", "spacing",
		"  AbCdEf012345   expiry 86400 1767225600   \n\n\n"
		"AbCdEf012345 expiry 1209600 1767225600");
	PUT_LIT("fuzz_notices", "hostile",
		"AbCdEf01234 expiry 1 2\n"
		"AbCdEf0123456 expiry 1 2\n"
		"AbCdEf01234- expiry 1 2\n"
		"AbCdEf012345 Expiry 1 2\n"
		"AbCdEf012345 expiry -1 2\n"
		"AbCdEf012345 expiry 1 1234567890123456\n"
		"AbCdEf012345 expiry 1 999999999999999\n"
		"AbCdEf012345 expiry 1 2 3\n"
		"AbCdEf012345\texpiry 1 2\n"
		"AbCdEf012345 expiry 1 2\r\n"
		"AbCdEf012345 exp\0ry 1 2\n"
		"\xff\xfe garbage\n");
	put_str("fuzz_notices", "empty", "");
}

/* A bundle written by the real writer and signed with the fixed test key
 * of fuzz_bundle_key.h; mode byte 0 (used as it is). n records of len
 * bytes each (len 0: mixed lengths up to RECORD_ENCODED_MAX). */
static void bundle_seed(const char *name, uint64_t generation, size_t n,
			size_t len)
{
	bundle_header h;
	char err[256], id[TOKEN_ID_LEN + 1];
	static uint8_t val[RECORD_ENCODED_MAX];
	static uint8_t buf[1 << 16];
	int fd = memfd_create("seed", MFD_CLOEXEC);

	memset(&h, 0, sizeof(h));
	strcpy(h.prefix, "ptk");
	h.generation = generation;
	h.created = INT64_C(1796583600);
	bundle_writer *w = fd < 0 ? NULL
				  : bundle_writer_open(fd, &h, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "bundle seed %s: %s\n", name, err);
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		size_t l = len ? len : i == 0 ? RECORD_ENCODED_MAX : 1 + i * 37;
		snprintf(id, sizeof(id), "Ab3De6Gh%04u", (unsigned)(i % 10000));
		for (size_t k = 0; k < l; k++)
			val[k] = (uint8_t)(i * 31 + k * 7);
		if (bundle_writer_record(w, id, val, l) != 0) {
			fprintf(stderr, "bundle seed %s: %s\n", name,
				bundle_writer_error(w));
			exit(1);
		}
	}
	if (bundle_writer_finish(w, fuzz_bundle_key(), err, sizeof(err)) != 0) {
		fprintf(stderr, "bundle seed %s: %s\n", name, err);
		exit(1);
	}
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0 || (size_t)size >= sizeof(buf) ||
	    pread(fd, buf + 1, (size_t)size, 0) != size) {
		fprintf(stderr, "bundle seed %s: cannot read it back\n", name);
		exit(1);
	}
	close(fd);
	buf[0] = 0;
	put("fuzz_bundle", name, buf, 1 + (size_t)size);
}

/* Mode byte 1: the harness appends a signature with the test key, so these
 * reach the content checks of pass 2. */
static void bundle_body(const char *name, const char *body)
{
	char buf[1024];
	size_t n = strlen(body);

	if (n + 2 > sizeof(buf))
		exit(1);
	buf[0] = 1;
	memcpy(buf + 1, body, n + 1);
	put("fuzz_bundle", name, buf, n + 1);
}

#define BUNDLE_HEAD \
	"pam_apitoken-bundle 1\nprefix ptk\ngeneration 42\ncreated 1796583600\n"

static void bundles(void)
{
	bundle_seed("signed-empty", 1, 0, 0);
	bundle_seed("signed-two", 42, 2, 5);
	bundle_seed("signed-mixed", 7, 4, 0); /* a 4096-byte record */
	bundle_body("body-two", BUNDLE_HEAD "record Ab3De6Gh9Jk0 aGVsbG8=\n"
					    "record Ab3De6Gh9Jk1 eA==\ncount 2\n");
	bundle_body("body-dup-id", BUNDLE_HEAD "record Ab3De6Gh9Jk0 AQID\n"
					       "record Ab3De6Gh9Jk0 AQID\ncount 2\n");
	bundle_body("body-count", BUNDLE_HEAD "record Ab3De6Gh9Jk0 AQID\ncount 3\n");
	bundle_body("body-bad-b64", BUNDLE_HEAD "record Ab3De6Gh9Jk0 AQJ=\ncount 1\n");
	bundle_body("body-gen0", "pam_apitoken-bundle 1\nprefix ptk\ngeneration 0\n"
				 "created 0\ncount 0\n");
	bundle_body("body-gen-max", "pam_apitoken-bundle 1\nprefix ptk\n"
				    "generation 9223372036854775807\ncreated 0\n"
				    "count 0\n");
	bundle_body("body-header-order", "pam_apitoken-bundle 1\ngeneration 1\n"
					 "prefix ptk\ncreated 0\ncount 0\n");
	bundle_body("body-version2", "pam_apitoken-bundle 2\nprefix ptk\n"
				     "generation 1\ncreated 0\ncount 0\n");
	bundle_body("body-crlf", "pam_apitoken-bundle 1\r\nprefix ptk\r\n");
	bundle_body("body-no-count", BUNDLE_HEAD "record Ab3De6Gh9Jk0 AQID\n");
	/* Mode 6 (stop at the header, stop at a record) on a good body. */
	{
		char buf[256];
		const char *b = BUNDLE_HEAD "record Ab3De6Gh9Jk0 AQID\ncount 1\n";
		buf[0] = 7;
		memcpy(buf + 1, b, strlen(b) + 1);
		put("fuzz_bundle", "body-stop-header", buf, 1 + strlen(b));
		buf[0] = 5;
		put("fuzz_bundle", "body-stop-record", buf, 1 + strlen(b));
	}
	/* Used as they are: unsigned, trailing data, a NUL. */
	PUT_LIT("fuzz_bundle", "raw-unsigned", "\x00" BUNDLE_HEAD "count 0\n");
	PUT_LIT("fuzz_bundle", "raw-nul", "\x00pam_apitoken-bundle 1\n\x00\n");
	PUT_LIT("fuzz_bundle", "raw-bad-sig",
		"\x00" BUNDLE_HEAD "count 0\nsignature ed25519 "
		"0000000000000000000000000000000000000000000000000000000000000000 "
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAA==\ntrailing");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	tokens();
	records();
	addrs();
	configs();
	durations();
	bundles();
	notices();
	return 0;
}
