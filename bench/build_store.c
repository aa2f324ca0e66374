/* build_store: fill a pam_apitoken store with N tokens for the benchmark.
 *
 * Through the project's own code, not a side door: the config is read by
 * config_load, tokens come from token_generate, digests from
 * record_token_digest, records from record_encode and they are written by
 * store_txn_put inside a store_txn, exactly as `tokenadm create --user U
 * --name NAME` run by root (an administrator, default 90-day lifetime, no
 * host or service rules) would write them. The only difference is that all
 * N inserts share ONE transaction: tokenadm commits (copies the whole store
 * and fsyncs) once per token, which for a million tokens would take days.
 *
 * The store must already exist (tokenadm init). Some tokens' texts are
 * written, with mode 0600, to --tokens-out for the benchmark to present:
 *
 *   valid TOKEN      a live token of --user (--known of them, spread over
 *                    the insertion order)
 *   wrong TOKEN      the first valid token's id with another secret
 *   unknown TOKEN    well-formed tokens whose ids are not in the store
 *
 * Usage: build_store --config PATH --user USER --count N --tokens-out FILE
 *                    [--known K]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "record.h"
#include "secure.h"
#include "sitekey.h"
#include "store.h"
#include "token.h"

/* tokenadm's default lifetime (cmd_create.c DEFAULT_LIFETIME). */
#define DEFAULT_LIFETIME (90 * 86400)

static void log_stderr(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_stderr(void *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("build_store: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fputs("usage: build_store --config PATH --user USER --count N "
	      "--tokens-out FILE [--known K]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "user", required_argument, NULL, 'u' },
		{ "count", required_argument, NULL, 'n' },
		{ "tokens-out", required_argument, NULL, 'o' },
		{ "known", required_argument, NULL, 'k' },
		{ 0 },
	};
	const char *conf = NULL, *user = NULL, *out = NULL;
	long count = -1, known = 16;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'u': user = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'o': out = optarg; break;
		case 'k': known = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!conf || !user || !out || count < 1 || known < 1 || known > count ||
	    optind != argc)
		usage();

	apitoken_config cfg;
	char err[256];
	if (config_defaults(&cfg) != 0 ||
	    config_load(conf, false, &cfg, log_stderr, NULL) != 0)
		return 2;
	/* tokenadm create refuses an owner that does not exist. */
	struct passwd *owner = strlen(user) > RECORD_USER_MAX ? NULL : getpwnam(user);
	uint32_t owner_uid = owner ? (uint32_t)owner->pw_uid : 0;
	if (!owner) {
		fprintf(stderr, "build_store: no such user '%s'\n", user);
		return 1;
	}
	site_key *key = NULL;
	if (site_key_load(cfg.key_path, &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "build_store: %s\n", err);
		return 1;
	}

	/* The texts we hand to the benchmark: written only once the store
	 * holds them. */
	int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0600);
	if (fd < 0) {
		fprintf(stderr, "build_store: cannot create %s: %s\n", out,
			strerror(errno));
		return 1;
	}
	FILE *tf = fdopen(fd, "w");
	if (!tf)
		return 1;

	store_txn *txn = NULL;
	double t0 = now_s();
	if (store_txn_begin(cfg.db_path, 30000, &txn, err, sizeof(err)) != 0) {
		fprintf(stderr, "build_store: %s\n", err);
		unlink(out);
		return 1;
	}

	int64_t now = (int64_t)time(NULL);
	long step = count / known, written = 0;
	char first_id[TOKEN_ID_LEN + 1] = "";
	for (long i = 0; i < count; i++) {
		token_record rec;
		token_parts parts;
		char token[TOKEN_TEXT_MAX + 1];
		uint8_t buf[RECORD_ENCODED_MAX];
		size_t len;

		memset(&rec, 0, sizeof(rec));
		/* As cmd_create: a fresh id that is not taken. */
		for (int tries = 0;; tries++) {
			if (tries == 8 || token_generate(cfg.prefix, &parts, token,
							 sizeof(token)) != 0) {
				fprintf(stderr, "build_store: cannot generate a token\n");
				goto fail;
			}
			if (store_get(store_txn_view(txn), parts.id,
				      TOKEN_ID_LEN, buf, sizeof(buf), &len, err,
				      sizeof(err)) == STORE_NOTFOUND)
				break;
		}
		memcpy(rec.id, parts.id, sizeof(rec.id));
		snprintf(rec.user, sizeof(rec.user), "%s", user);
		snprintf(rec.name, sizeof(rec.name), "bench-%07ld", i);
		rec.created = now;
		rec.expires = now + DEFAULT_LIFETIME;
		rec.creator_uid = (uint32_t)getuid();
		rec.owner_uid = owner_uid; /* as create binds it */
		rec.flags = 0; /* an administrator's token: not group-bound */
		len = 0;
		if (record_token_digest(key, &parts, rec.digest) != 0 ||
		    (len = record_encode(&rec, key, buf, sizeof(buf))) == 0 ||
		    store_txn_put(txn, rec.id, TOKEN_ID_LEN, buf, len) != 0) {
			fprintf(stderr, "build_store: cannot write token %ld\n", i);
			goto fail;
		}
		if (written < known && i == written * step) {
			fprintf(tf, "valid %s\n", token);
			if (written == 0)
				memcpy(first_id, parts.id, sizeof(first_id));
			written++;
		}
		secure_wipe(token, sizeof(token));
		token_parts_wipe(&parts);
		if ((i + 1) % 100000 == 0 || i + 1 == count)
			fprintf(stderr, "build_store: %ld/%ld tokens, %.1f s\n",
				i + 1, count, now_s() - t0);
	}

	/* A wrong secret for a known id, and ids the store does not hold. */
	{
		token_parts parts;
		char token[TOKEN_TEXT_MAX + 1];
		uint8_t buf[RECORD_ENCODED_MAX];
		size_t len;

		if (token_generate_for_id(cfg.prefix, first_id, &parts, token,
					  sizeof(token)) != 0)
			goto fail;
		fprintf(tf, "wrong %s\n", token);
		for (long k = 0; k < known;) {
			if (token_generate(cfg.prefix, &parts, token,
					   sizeof(token)) != 0)
				goto fail;
			if (store_get(store_txn_view(txn), parts.id,
				      TOKEN_ID_LEN, buf, sizeof(buf), &len, err,
				      sizeof(err)) != STORE_NOTFOUND)
				continue;
			fprintf(tf, "unknown %s\n", token);
			k++;
		}
		secure_wipe(token, sizeof(token));
		token_parts_wipe(&parts);
	}

	double t1 = now_s();
	if (store_txn_commit(txn, err, sizeof(err)) != 0) {
		txn = NULL;
		fprintf(stderr, "build_store: %s\n", err);
		goto fail;
	}
	txn = NULL;
	if (fclose(tf) != 0) {
		tf = NULL;
		fprintf(stderr, "build_store: cannot write %s\n", out);
		goto fail;
	}
	fprintf(stderr, "build_store: %ld tokens inserted in %.1f s, committed "
		"in %.1f s\n", count, t1 - t0, now_s() - t1);
	site_key_free(key);
	config_free(&cfg);
	return 0;
fail:
	store_txn_abort(txn);
	if (tf)
		fclose(tf);
	unlink(out);
	site_key_free(key);
	config_free(&cfg);
	return 1;
}
