/* tokenadm scanner-rules: this site's token grammar as rules for secret
 * scanners (gitleaks, trufflehog, secretlint) and as a plain expression.
 *
 * The expression is the grammar of pam_apitoken(8), TOKEN FORMAT, and no
 * looser: the site's prefix, "_", 12 base62 characters, "_", then the
 * 32-character secret and the 6-character check, 38 base62 characters
 * together. \b on both ends: "_" and base62 are word characters, so a
 * longer run, a wider prefix ("xptk_...") or one character too many is no
 * match, while a token inside quotes, URLs or "user:token" still is.
 * The check digits cannot be told by a pattern; the man page shows how a
 * find is checked offline with the CRC. Nothing here reads the store. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tokenadm.h"

enum scanner_format {
	FORMAT_NONE,
	FORMAT_REGEX,
	FORMAT_GITLEAKS,
	FORMAT_TRUFFLEHOG,
	FORMAT_SECRETLINT,
};

static const struct {
	const char *name;
	enum scanner_format format;
} formats[] = {
	{ "regex", FORMAT_REGEX },
	{ "gitleaks", FORMAT_GITLEAKS },
	{ "trufflehog", FORMAT_TRUFFLEHOG },
	{ "secretlint", FORMAT_SECRETLINT },
};

typedef struct scanner_opts {
	enum scanner_format format;
} scanner_opts;

#define BASE62 "[0-9A-Za-z]"

static int scanner_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ 0 },
	};
	scanner_opts *o = opts;
	int c;

	(void)now;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'f')
			return EXIT_USAGE;
		o->format = FORMAT_NONE;
		for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
			if (strcmp(optarg, formats[i].name) == 0)
				o->format = formats[i].format;
		if (o->format == FORMAT_NONE) {
			warnx_("unknown format '%.32s': gitleaks, trufflehog, "
			       "secretlint or regex", optarg);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || o->format == FORMAT_NONE) {
		warnx_("usage: scanner-rules --format "
		       "gitleaks|trufflehog|secretlint|regex");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The expression for prefix p. The prefix is 1..16 base62 characters
 * (config.c refuses any other), so it needs no escaping in any of the
 * four syntaxes, nor in TOML, YAML or JSON strings below. */
static void print_regex(const char *p, const char *backslash)
{
	printf("%sb%s_" BASE62 "{%d}_" BASE62 "{%d}%sb", backslash, p,
	       TOKEN_ID_LEN, TOKEN_SECRET_LEN + TOKEN_CHECK_LEN, backslash);
}

static int scanner_report(tool *t, void *opts, int rc)
{
	const char *p = t->cfg.prefix;

	if (rc != EXIT_OK)
		return rc;
	if (!token_prefix_valid(p)) {
		/* config.c should have refused it: never print a rule that
		 * would be read as another expression. */
		warnx_("the configured prefix is not 1-16 base62 characters");
		return EXIT_USAGE;
	}
	switch (((scanner_opts *)opts)->format) {
	case FORMAT_REGEX:
		print_regex(p, "\\");
		putchar('\n');
		break;
	case FORMAT_GITLEAKS:
		/* A rule file that extends gitleaks' own rules. TOML's
		 * '''literal''' strings take the backslashes as they are. */
		printf("# gitleaks rules for pam_apitoken tokens of this site "
		       "(tokenadm scanner-rules)\n"
		       "[extend]\n"
		       "useDefault = true\n"
		       "\n"
		       "[[rules]]\n"
		       "id = \"pam-apitoken-%s\"\n"
		       "description = \"pam_apitoken API token (prefix %s)\"\n"
		       "regex = '''",
		       p, p);
		print_regex(p, "\\");
		printf("'''\n"
		       "keywords = [\"%s_\"]\n", p);
		break;
	case FORMAT_TRUFFLEHOG:
		/* A custom regex detector; YAML single quotes keep the
		 * backslashes as they are. */
		printf("# trufflehog custom detector for pam_apitoken tokens "
		       "of this site (tokenadm scanner-rules)\n"
		       "detectors:\n"
		       "  - name: pam_apitoken_%s\n"
		       "    keywords:\n"
		       "      - %s_\n"
		       "    regex:\n"
		       "      token: '",
		       p, p);
		print_regex(p, "\\");
		puts("'");
		break;
	case FORMAT_SECRETLINT:
		/* .secretlintrc.json for @secretlint/secretlint-rule-pattern:
		 * a JSON string, so each backslash is written twice. */
		printf("{\n"
		       "  \"rules\": [\n"
		       "    {\n"
		       "      \"id\": \"@secretlint/secretlint-rule-pattern\",\n"
		       "      \"options\": {\n"
		       "        \"patterns\": [\n"
		       "          {\n"
		       "            \"name\": \"pam_apitoken API token (prefix %s)\",\n"
		       "            \"pattern\": \"/",
		       p);
		print_regex(p, "\\\\");
		printf("/\"\n"
		       "          }\n"
		       "        ]\n"
		       "      }\n"
		       "    }\n"
		       "  ]\n"
		       "}\n");
		break;
	case FORMAT_NONE:
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

const command cmd_scanner_rules = {
	.name = "scanner-rules",
	.opts_size = sizeof(scanner_opts),
	.parse = scanner_parse,
	.report = scanner_report,
};
