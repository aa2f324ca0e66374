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
#include <sys/stat.h>

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
static void record_seed(const char *name, const token_record *rec)
{
	const site_key *key = fuzz_test_key();
	uint8_t buf[1 + TOKEN_ID_LEN + RECORD_ENCODED_MAX];
	size_t len = record_encode(rec, key, buf + 1 + TOKEN_ID_LEN,
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
	return 0;
}
