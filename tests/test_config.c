/* Unit tests for core/config.c: the pam_apitoken.conf parser.
 *
 * Every file is written into a fresh mkdtemp directory; log output goes
 * through the callback into a buffer so the messages can be checked. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

static char dir[64];

struct logbuf {
	char text[8192];
	size_t len;
	int count;
};

__attribute__((format(printf, 2, 3)))
static void capture(void *ctx, const char *fmt, ...)
{
	struct logbuf *lb = ctx;
	va_list ap;

	lb->count++;
	if (lb->len >= sizeof(lb->text) - 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(lb->text + lb->len, sizeof(lb->text) - lb->len, fmt,
			  ap);
	va_end(ap);
	if (n > 0)
		lb->len += (size_t)n;
	if (lb->len > sizeof(lb->text) - 2)
		lb->len = sizeof(lb->text) - 2;
	lb->text[lb->len++] = '\n';
	lb->text[lb->len] = '\0';
}

/* Write len bytes to dir/name with exactly the given mode (not umask's). */
static void write_bytes(const char *name, const char *data, size_t len,
			mode_t mode)
{
	char path[256];

	th_path(path, sizeof(path), dir, name);
	if (th_replace_file(path, data, len, mode) != 0) {
		perror(path);
		exit(2);
	}
}

static void write_text(const char *name, const char *text)
{
	write_bytes(name, text, strlen(text), 0644);
}

/* Load dir/name; the log goes to *lb (reset first). */
static int load(const char *name, bool missing_ok, apitoken_config *cfg,
		struct logbuf *lb)
{
	char path[256];

	memset(lb, 0, sizeof(*lb));
	th_path(path, sizeof(path), dir, name);
	/* The callers' pattern: defaults first, then the file over them. */
	if (config_defaults(cfg) != 0) {
		fprintf(stderr, "config_defaults failed\n");
		exit(2);
	}
	return config_load(path, missing_ok, cfg, capture, lb);
}

static const char full_example[] =
	"# the example of pam_apitoken.conf(5), EXAMPLES\n"
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
	"max_lifetime = never\n";

static void test_full_example(void)
{
	apitoken_config cfg;
	struct logbuf lb;
	char want_path[256];

	write_text("full.conf", full_example);
	th_path(want_path, sizeof(want_path), dir, "full.conf");
	int rc = load("full.conf", false, &cfg, &lb);
	CHECK(rc == 0, "full example refused: %s", lb.text);
	if (rc != 0)
		return;
	CHECK(lb.count == 0, "full example logged: %s", lb.text);
	CHECK(cfg.path && strcmp(cfg.path, want_path) == 0, "path %s",
	      cfg.path ? cfg.path : "(null)");
	CHECK(strcmp(cfg.db_path, "/var/lib/pam_apitoken/tokens.db") == 0,
	      "db %s", cfg.db_path);
	CHECK(strcmp(cfg.key_path, "/etc/security/pam_apitoken.key") == 0,
	      "key %s", cfg.key_path);
	CHECK(strcmp(cfg.prefix, "ptk") == 0, "prefix %s", cfg.prefix);

	char buf[256];
	CHECK(cfg.allow_from.n == 3, "allow_from has %zu rules",
	      cfg.allow_from.n);
	CHECK(addr_list_format(&cfg.allow_from, buf, sizeof(buf)) == 0 &&
		      strcmp(buf, "10.0.0.0/8 2001:db8::/32 local") == 0,
	      "allow_from = %s", buf);
	CHECK(cfg.deny_from.n == 1 &&
		      addr_list_format(&cfg.deny_from, buf, sizeof(buf)) == 0 &&
		      strcmp(buf, "10.66.0.0/16") == 0,
	      "deny_from = %s", buf);

	CHECK(cfg.n_deny_services == 8, "%zu deny_services",
	      cfg.n_deny_services);
	CHECK(cfg.n_deny_services == 8 &&
		      strcmp(cfg.deny_services[0], "sudo") == 0 &&
		      strcmp(cfg.deny_services[3], "sudo-i") == 0 &&
		      strcmp(cfg.deny_services[7], "chsh") == 0,
	      "deny_services content");
	CHECK(config_service_denied(&cfg, "su-l"), "su-l not denied");
	CHECK(!config_service_denied(&cfg, "sshd"), "sshd denied");
	CHECK(!config_service_denied(&cfg, "SUDO"), "lookup not case-sensitive");
	CHECK(!config_service_denied(&cfg, "sud"), "prefix match");

	CHECK(cfg.admin_group && strcmp(cfg.admin_group, "tokenadmins") == 0,
	      "admin_group");
	CHECK(cfg.max_tokens_per_user == 10, "max_tokens_per_user %u",
	      cfg.max_tokens_per_user);

	CHECK(cfg.n_groups == 2, "%zu groups", cfg.n_groups);
	const group_policy *g = config_find_group(&cfg, "token-users");
	CHECK(g && g->max_lifetime == 90 * 86400 && g->line == 11,
	      "token-users: lifetime %" PRId64 " line %u",
	      g ? g->max_lifetime : 0, g ? g->line : 0);
	g = config_find_group(&cfg, "ops");
	CHECK(g && g->max_lifetime == LIFETIME_NEVER && g->line == 14,
	      "ops: lifetime %" PRId64 " line %u", g ? g->max_lifetime : 0,
	      g ? g->line : 0);
	CHECK(config_find_group(&cfg, "OPS") == NULL, "group lookup case");
	CHECK(config_find_group(&cfg, "nobody") == NULL, "unknown group found");
	CHECK(config_find_group(&cfg, NULL) == NULL, "NULL group found");

	config_free(&cfg);
	CHECK(th_all_zero(&cfg, sizeof(cfg)), "config_free did not zero");
	config_free(&cfg); /* twice: must be harmless */
}

static void check_defaults(const apitoken_config *cfg, const char *what)
{
	CHECK(cfg->db_path &&
		      strcmp(cfg->db_path, "/var/lib/pam_apitoken/tokens.db") == 0,
	      "%s: db", what);
	CHECK(cfg->key_path &&
		      strcmp(cfg->key_path, "/etc/security/pam_apitoken.key") == 0,
	      "%s: key", what);
	CHECK(cfg->prefix && strcmp(cfg->prefix, "ptk") == 0, "%s: prefix",
	      what);
	CHECK(cfg->n_deny_services == 11, "%s: %zu deny_services", what,
	      cfg->n_deny_services);
	static const char *const dflt[] = { "sudo",   "su",     "su-l",
					    "sudo-i", "polkit-1", "passwd",
					    "chfn",   "chsh",   "doas",
					    "systemd-run0", "apitoken-web" };
	for (size_t i = 0; i < 11; i++)
		CHECK(config_service_denied(cfg, dflt[i]), "%s: %s not denied",
		      what, dflt[i]);
	CHECK(!config_service_denied(cfg, "sshd"), "%s: sshd denied", what);
	CHECK(cfg->allow_from.n == 0 && cfg->deny_from.n == 0,
	      "%s: host rules", what);
	CHECK(cfg->n_groups == 0 && cfg->groups == NULL, "%s: groups", what);
	CHECK(cfg->admin_group == NULL, "%s: admin_group", what);
	/* Bounded by default for members, not for administrators. */
	CHECK(cfg->max_tokens_per_user == 20 && !cfg->max_tokens_set,
	      "%s: max_tokens_per_user %u", what, cfg->max_tokens_per_user);
	CHECK(config_token_limit(cfg, false) == 20, "%s: member limit", what);
	CHECK(config_token_limit(cfg, true) == 0, "%s: admin limit", what);
	CHECK(cfg->max_store_tokens == 100000, "%s: max_store_tokens %u", what,
	      cfg->max_store_tokens);
	CHECK(cfg->role == ROLE_AUTHORITY && cfg->n_trusted_keys == 0 &&
		      cfg->max_bundle_age == 0 && !cfg->stale_refuse &&
		      cfg->signing_key &&
		      strcmp(cfg->signing_key,
			     "/etc/security/pam_apitoken.signing.key") == 0,
	      "%s: fleet defaults", what);
	CHECK(cfg->log_success_interval == 3600,
	      "%s: log_success_interval %" PRId64, what,
	      cfg->log_success_interval);
}

static void test_defaults(void)
{
	apitoken_config cfg;
	struct logbuf lb;

	memset(&cfg, 0xa5, sizeof(cfg)); /* config_defaults must not care */
	CHECK(config_defaults(&cfg) == 0, "config_defaults failed");
	check_defaults(&cfg, "config_defaults");
	CHECK(cfg.path == NULL, "defaults: path set");
	config_free(&cfg);
	CHECK(th_all_zero(&cfg, sizeof(cfg)), "config_free did not zero");

	/* An empty file, and one of only comments, leave the defaults. */
	write_text("empty.conf", "");
	CHECK(load("empty.conf", false, &cfg, &lb) == 0, "empty file: %s",
	      lb.text);
	check_defaults(&cfg, "empty file");
	config_free(&cfg);

	write_text("comments.conf", "# nothing\n\n   \t\n  # more\n");
	CHECK(load("comments.conf", false, &cfg, &lb) == 0,
	      "comment file: %s", lb.text);
	check_defaults(&cfg, "comment file");
	config_free(&cfg);

	/* A zeroed struct is safe to free. */
	apitoken_config zero = { 0 };
	config_free(&zero);
	config_free(NULL);
	CHECK(config_service_denied(NULL, "sshd"), "NULL cfg allows");
}

static void test_missing(void)
{
	apitoken_config cfg;
	struct logbuf lb;
	char want[256];

	th_path(want, sizeof(want), dir, "absent.conf");
	CHECK(load("absent.conf", true, &cfg, &lb) == 0,
	      "missing_ok: refused: %s", lb.text);
	CHECK(lb.count == 0, "missing_ok: logged %s", lb.text);
	check_defaults(&cfg, "missing_ok");
	CHECK(cfg.path && strcmp(cfg.path, want) == 0, "missing_ok: path");
	config_free(&cfg);

	CHECK(load("absent.conf", false, &cfg, &lb) == -1,
	      "missing file accepted");
	CHECK(lb.count == 1 && strstr(lb.text, want) &&
		      strstr(lb.text, "No such file"),
	      "missing file message: %s", lb.text);
	CHECK(th_all_zero(&cfg, sizeof(cfg)), "cfg not freed on error");

	/* missing_ok covers only "no such file", not a missing directory's
	 * sibling errors such as ENOTDIR. */
	write_text("plain", "x = 1\n");
	CHECK(load("plain/sub.conf", true, &cfg, &lb) == -1,
	      "ENOTDIR taken for missing");
}

static void test_trust(void)
{
	apitoken_config cfg;
	struct logbuf lb;
	char target[256], link[256], want[300];

	/* Symlink to a good file: refused, O_NOFOLLOW. */
	write_text("good.conf", "prefix = abc\n");
	th_path(target, sizeof(target), dir, "good.conf");
	th_path(link, sizeof(link), dir, "link.conf");
	unlink(link);
	CHECK(symlink(target, link) == 0, "symlink: %s", strerror(errno));
	CHECK(load("link.conf", true, &cfg, &lb) == -1, "symlink accepted");
	snprintf(want, sizeof(want), "%s: is a symbolic link", link);
	CHECK(lb.count == 1 && strstr(lb.text, want), "symlink message: %s",
	      lb.text);

	/* The good file itself loads. */
	CHECK(load("good.conf", false, &cfg, &lb) == 0 &&
		      strcmp(cfg.prefix, "abc") == 0,
	      "good file: %s", lb.text);
	config_free(&cfg);

	/* Group- and world-writable files. */
	write_bytes("gw.conf", "prefix = abc\n", 13, 0664);
	CHECK(load("gw.conf", false, &cfg, &lb) == -1,
	      "group-writable accepted");
	CHECK(lb.count == 1 && strstr(lb.text, "gw.conf: ") &&
		      strstr(lb.text, "writable"),
	      "group-writable message: %s", lb.text);
	write_bytes("ow.conf", "prefix = abc\n", 13, 0646);
	CHECK(load("ow.conf", true, &cfg, &lb) == -1,
	      "world-writable accepted");

	/* A read-only file owned by us is fine. */
	write_bytes("ro.conf", "prefix = abc\n", 13, 0400);
	CHECK(load("ro.conf", false, &cfg, &lb) == 0, "0400 file refused: %s",
	      lb.text);
	config_free(&cfg);

	/* A directory. */
	char sub[256];
	th_path(sub, sizeof(sub), dir, "subdir.conf");
	CHECK(mkdir(sub, 0755) == 0, "mkdir");
	CHECK(load("subdir.conf", true, &cfg, &lb) == -1, "directory accepted");
	CHECK(lb.count == 1 && strstr(lb.text, "subdir.conf: "),
	      "directory message: %s", lb.text);

	/* A FIFO with no writer: must be refused, not block in open(). The
	 * alarm set in main() kills us if it hangs. */
	char fifo[256];
	th_path(fifo, sizeof(fifo), dir, "fifo.conf");
	CHECK(mkfifo(fifo, 0644) == 0, "mkfifo");
	CHECK(load("fifo.conf", true, &cfg, &lb) == -1, "FIFO accepted");
	CHECK(lb.count == 1 && strstr(lb.text, "fifo.conf: ") &&
		      strstr(lb.text, "regular"),
	      "FIFO message: %s", lb.text);

	/* Someone else's file (needs root to create one). */
	if (geteuid() == 0) {
		write_text("other.conf", "prefix = abc\n");
		char other[256];
		th_path(other, sizeof(other), dir, "other.conf");
		CHECK(chown(other, 65534, 65534) == 0, "chown");
		CHECK(load("other.conf", false, &cfg, &lb) == -1,
		      "foreign-owned file accepted");
		CHECK(strstr(lb.text, "owned by uid 65534") != NULL,
		      "owner message: %s", lb.text);
	}
}

static void test_lists_and_values(void)
{
	apitoken_config cfg;
	struct logbuf lb;
	char buf[256];

	/* An empty deny_services turns the default off. */
	write_text("nodeny.conf", "deny_services =\n");
	CHECK(load("nodeny.conf", false, &cfg, &lb) == 0, "empty list: %s",
	      lb.text);
	CHECK(cfg.n_deny_services == 0 && !config_service_denied(&cfg, "sudo"),
	      "empty deny_services not empty (%zu)", cfg.n_deny_services);
	config_free(&cfg);

	write_text("nodeny2.conf", "deny_services = # off\n");
	CHECK(load("nodeny2.conf", false, &cfg, &lb) == 0 &&
		      cfg.n_deny_services == 0,
	      "empty list with comment: %s", lb.text);
	config_free(&cfg);

	/* Empty host lists are allowed too, and mean "no rules". */
	write_text("noaddr.conf", "allow_from =\ndeny_from = ,\n");
	CHECK(load("noaddr.conf", false, &cfg, &lb) == 0 &&
		      cfg.allow_from.n == 0 && cfg.deny_from.n == 0,
	      "empty host lists: %s", lb.text);
	config_free(&cfg);

	/* Valid multi-byte UTF-8 of every length in a path. */
	write_text("utf8b.conf",
		   "key = /k/\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91\xf4\x8f\xbf\xbf\n");
	CHECK(load("utf8b.conf", false, &cfg, &lb) == 0,
	      "valid UTF-8 refused: %s", lb.text);
	config_free(&cfg);

	/* Commas, spaces, both. */
	write_text("commas.conf",
		   "deny_services = sudo,su , login,,  ssh@x+y.z \t\n"
		   "allow_from = 10.0.0.0/8,local, ::1\n"
		   "deny_from=192.0.2.1\n");
	CHECK(load("commas.conf", false, &cfg, &lb) == 0, "commas: %s",
	      lb.text);
	CHECK(cfg.n_deny_services == 4 &&
		      strcmp(cfg.deny_services[0], "sudo") == 0 &&
		      strcmp(cfg.deny_services[1], "su") == 0 &&
		      strcmp(cfg.deny_services[2], "login") == 0 &&
		      strcmp(cfg.deny_services[3], "ssh@x+y.z") == 0,
	      "comma list: %zu services", cfg.n_deny_services);
	CHECK(!config_service_denied(&cfg, "chsh"), "default list kept");
	CHECK(addr_list_format(&cfg.allow_from, buf, sizeof(buf)) == 0 &&
		      strcmp(buf, "10.0.0.0/8 local ::1/128") == 0,
	      "allow_from = %s", buf);
	CHECK(cfg.deny_from.n == 1, "deny_from without blanks");
	config_free(&cfg);

	/* A section without max_lifetime gets 90 days; CRLF line ends;
	 * blanks inside the section brackets; values at the limits. First
	 * with a lifetime over 100 years, which is refused. */
	write_text("misc.conf",
		   "prefix = ABCdef0123456789\r\n"
		   "max_tokens_per_user = 100000\r\n"
		   "admin_group = _adm.in-1\r\n"
		   "[ group  plain ]\r\n"
		   "[group short]   # comment \xff\xfe non-UTF-8 is fine here\r\n"
		   "max_lifetime = 1s\r\n"
		   "[group a2345678901234567890123456789012]\n"
		   "max_lifetime = 5218w\n" /* > 100 years: refused below */
		   );
	CHECK(load("misc.conf", false, &cfg, &lb) == -1, "5218w accepted");
	CHECK(strstr(lb.text, "misc.conf:8: ") != NULL, "5218w message: %s",
	      lb.text);
	write_text("misc.conf",
		   "prefix = ABCdef0123456789\r\n"
		   "max_tokens_per_user = 100000\r\n"
		   "admin_group = _adm.in-1\r\n"
		   "[ group  plain ]\r\n"
		   "[group short]   # comment \xff\xfe non-UTF-8 is fine here\r\n"
		   "max_lifetime = 1s\r\n"
		   "[group a2345678901234567890123456789012]\n"
		   "max_lifetime = 4w\n");
	CHECK(load("misc.conf", false, &cfg, &lb) == 0, "misc: %s", lb.text);
	if (cfg.prefix) {
		CHECK(strcmp(cfg.prefix, "ABCdef0123456789") == 0, "prefix %s",
		      cfg.prefix);
		CHECK(cfg.max_tokens_per_user == 100000, "max tokens %u",
		      cfg.max_tokens_per_user);
		CHECK(cfg.admin_group &&
			      strcmp(cfg.admin_group, "_adm.in-1") == 0,
		      "admin_group");
		const group_policy *g = config_find_group(&cfg, "plain");
		CHECK(g && g->max_lifetime == 90 * 86400 && g->line == 4,
		      "default lifetime %" PRId64, g ? g->max_lifetime : 0);
		g = config_find_group(&cfg, "short");
		CHECK(g && g->max_lifetime == 1, "short lifetime");
		g = config_find_group(&cfg,
				      "a2345678901234567890123456789012");
		CHECK(g && g->max_lifetime == 4 * 7 * 86400, "32-char group");
		CHECK(cfg.n_groups == 3, "%zu groups", cfg.n_groups);
	}
	config_free(&cfg);

	/* max_tokens_per_user = 0 is "unlimited" and valid, for members too;
	 * so is max_store_tokens = 0. */
	write_text("zero.conf",
		   "max_tokens_per_user = 0\nmax_store_tokens = 0\n");
	CHECK(load("zero.conf", false, &cfg, &lb) == 0 &&
		      cfg.max_tokens_per_user == 0 && cfg.max_tokens_set &&
		      config_token_limit(&cfg, false) == 0 &&
		      cfg.max_store_tokens == 0,
	      "max_tokens_per_user = 0: %s", lb.text);
	config_free(&cfg);
	/* A value the administrator wrote caps administrators too. */
	write_text("five.conf",
		   "max_tokens_per_user = 5\nmax_store_tokens = 100000000\n");
	CHECK(load("five.conf", false, &cfg, &lb) == 0 &&
		      config_token_limit(&cfg, true) == 5 &&
		      config_token_limit(&cfg, false) == 5 &&
		      cfg.max_store_tokens == 100000000,
	      "max_tokens_per_user = 5: %s", lb.text);
	config_free(&cfg);
	/* web_relay: www-data by default; a list replaces it; empty is
	 * nobody (and service_accounts beside it leaves it alone). */
	write_text("relay0.conf", "service_accounts = ci\n");
	CHECK(load("relay0.conf", false, &cfg, &lb) == 0 &&
		      config_web_relay(&cfg, "www-data") &&
		      !config_web_relay(&cfg, "ci") &&
		      config_service_account(&cfg, "ci"),
	      "web_relay default: %s", lb.text);
	config_free(&cfg);
	write_text("relay1.conf",
		   "web_relay = apache, nginx\nservice_accounts = ci\n");
	CHECK(load("relay1.conf", false, &cfg, &lb) == 0 &&
		      config_web_relay(&cfg, "nginx") &&
		      !config_web_relay(&cfg, "www-data") &&
		      cfg.n_web_relay == 2,
	      "web_relay list: %s", lb.text);
	config_free(&cfg);
	write_text("relay2.conf", "web_relay =\n");
	CHECK(load("relay2.conf", false, &cfg, &lb) == 0 &&
		      cfg.n_web_relay == 0 && !config_web_relay(&cfg, "www-data"),
	      "web_relay empty: %s", lb.text);
	config_free(&cfg);
	/* Fleet keys: role, the signing key, trusted_key repeated. */
	write_text("fleet.conf",
		   "role = import-only\nsigning_key = /etc/k\n"
		   "trusted_key = /etc/a.pub\ntrusted_key = /etc/b.pub\n"
		   "max_bundle_age = 2d\nstale_action = refuse\n");
	CHECK(load("fleet.conf", false, &cfg, &lb) == 0 &&
		      cfg.stale_refuse &&
		      cfg.role == ROLE_IMPORT_ONLY &&
		      strcmp(cfg.signing_key, "/etc/k") == 0 &&
		      cfg.n_trusted_keys == 2 &&
		      strcmp(cfg.trusted_keys[1], "/etc/b.pub") == 0 &&
		      cfg.max_bundle_age == 2 * 86400,
	      "fleet keys: %s", lb.text);
	config_free(&cfg);
	static const char *const bad_fleet[] = {
		"role = master\n", "role = import-only\nrole = authority\n",
		"trusted_key = relative.pub\n",
		"trusted_key = /a\ntrusted_key = /a\n",
		"max_bundle_age = 0\n", "max_bundle_age = soon\n",
		"stale_action = deny\n", "stale_action =\n",
		"signing_key =\n",
		/* refuse with nothing to refuse on: an error, not a no-op */
		"role = import-only\nstale_action = refuse\n",
	};
	for (size_t i = 0; i < sizeof(bad_fleet) / sizeof(bad_fleet[0]); i++) {
		write_text("badfleet.conf", bad_fleet[i]);
		CHECK(load("badfleet.conf", false, &cfg, &lb) != 0 &&
			      strstr(lb.text, "badfleet.conf:"),
		      "bad fleet config %zu accepted: %s", i, lb.text);
	}
	{
		char many[1024] = "";
		for (int i = 0; i <= CONFIG_TRUSTED_KEYS_MAX; i++) {
			char line[64];
			snprintf(line, sizeof(line), "trusted_key = /k%d\n", i);
			strcat(many, line);
		}
		write_text("manykeys.conf", many);
		CHECK(load("manykeys.conf", false, &cfg, &lb) != 0,
		      "%d trusted keys accepted", CONFIG_TRUSTED_KEYS_MAX + 1);
	}
	write_text("big.conf", "max_store_tokens = 100000001\n");
	CHECK(load("big.conf", false, &cfg, &lb) != 0 &&
		      strstr(lb.text, "big.conf:1"),
	      "max_store_tokens over the bound accepted: %s", lb.text);

	/* log_success_interval: "0" (every success) and durations. */
	static const struct {
		const char *value;
		int64_t secs;
	} intervals[] = { { "0", 0 }, { "30s", 30 }, { "10m", 600 },
			  { "1h", 3600 }, { "2d", 2 * 86400 } };
	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "log_success_interval = %s\n",
			 intervals[i].value);
		write_text("interval.conf", text);
		CHECK(load("interval.conf", false, &cfg, &lb) == 0 &&
			      cfg.log_success_interval == intervals[i].secs,
		      "log_success_interval = %s: %s", intervals[i].value,
		      lb.text);
		config_free(&cfg);
	}

	/* A line of exactly 4096 bytes is allowed, 4097 is not (below). */
	char line[4200];
	memset(line, 'x', sizeof(line));
	line[0] = '#';
	line[4096] = '\n';
	write_bytes("long-ok.conf", line, 4097, 0644);
	CHECK(load("long-ok.conf", false, &cfg, &lb) == 0,
	      "4096-byte line refused: %s", lb.text);
	config_free(&cfg);

	/* UTF-8 in a path is allowed (it is valid UTF-8). */
	write_text("utf8.conf", "db = /srv/t\xc3\xb6kens.db\n");
	CHECK(load("utf8.conf", false, &cfg, &lb) == 0 &&
		      strcmp(cfg.db_path, "/srv/t\xc3\xb6kens.db") == 0,
	      "UTF-8 path: %s", lb.text);
	config_free(&cfg);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *reason; /* a substring of the message */
};

static const struct bad_case bad_cases[] = {
	{ "prefix = ptk\nfrobnicate = 1\n", 2, "unknown key 'frobnicate'" },
	{ "Prefix = ptk\n", 1, "unknown key" },
	/* Hostile text is shown with control bytes replaced, shortened. */
	{ "\x1b[2Jx = 1\n", 1, "unknown key '?[2Jx'" },
	{ "k123456789012345678901234567890123456789XYZ = 1\n", 1,
	  "unknown key 'k123456789012345678901234567890123456789...'" },
	{ "max_lifetime = 90d\n", 1, "belongs in a [group NAME] section" },
	{ "[group a]\nmax_lifetime = 1d\ndb = /x\n", 3, "global key" },
	{ "[group a]\nprefix = x\n", 2, "global key" },
	{ "prefix = a\n\nprefix = b\n", 3, "duplicate key 'prefix'" },
	{ "deny_services =\ndeny_services = su\n", 2, "duplicate key" },
	{ "[group a]\nmax_lifetime = 1d\nmax_lifetime = 2d\n", 3,
	  "duplicate key" },
	{ "[group a]\n[group b]\n[group a]\n", 3,
	  "duplicate section [group a] (first at line 1)" },
	{ "# c\ndb /var/lib/x\n", 2, "expected 'key = value'" },
	{ "just words\n", 1, "expected 'key = value'" },
	{ "\n\n = value\n", 3, "empty key" },
	{ "=\n", 1, "empty key" },
	{ "db =\n", 1, "needs a value" },
	{ "db = relative/path\n", 1, "absolute path" },
	{ "db = /a b\n", 1, "blanks" },
	{ "key = \n", 1, "needs a value" },
	{ "prefix = a_b\n", 1, "bad value for 'prefix'" },
	{ "prefix = ABCdef01234567890\n", 1, "bad value for 'prefix'" },
	{ "prefix = p-t\n", 1, "bad value for 'prefix'" },
	{ "prefix =\n", 1, "needs a value" },
	{ "allow_from = 10.0.0.0/33\n", 1, "10.0.0.0/33" },
	{ "allow_from = host.example.com\n", 1, "host.example.com" },
	{ "deny_from = 10.0.0.1 bogus\n", 1, "bogus" },
	{ "deny_services = su/do\n", 1, "bad service name 'su/do'" },
	{ "deny_services = a2345678901234567890123456789012345678901234567890"
	  "12345678901234x\n", 1, "bad service name" },
	{ "admin_group = -adm\n", 1, "bad value for 'admin_group'" },
	{ "admin_group = a b\n", 1, "bad value for 'admin_group'" },
	{ "admin_group = a23456789012345678901234567890123\n", 1,
	  "bad value for 'admin_group'" },
	{ "admin_group =\n", 1, "needs a value" },
	{ "max_tokens_per_user = 100001\n", 1, "from 0 to 100000" },
	{ "max_tokens_per_user = -1\n", 1, "from 0 to 100000" },
	{ "max_tokens_per_user = 010\n", 1, "from 0 to 100000" },
	{ "max_tokens_per_user = 1e3\n", 1, "from 0 to 100000" },
	{ "max_tokens_per_user = +5\n", 1, "from 0 to 100000" },
	{ "max_tokens_per_user = 99999999999999999999\n", 1, "from 0 to" },
	{ "max_tokens_per_user = 5 6\n", 1, "from 0 to 100000" },
	{ "log_success_interval = -1\n", 1, "must be 0 or a duration" },
	{ "log_success_interval = 00\n", 1, "must be 0 or a duration" },
	{ "log_success_interval = 0s\n", 1, "must be 0 or a duration" },
	{ "log_success_interval = 1 h\n", 1, "must be 0 or a duration" },
	{ "log_success_interval = never\n", 1, "must be 0 or a duration" },
	{ "log_success_interval =\n", 1, "needs a value" },
	{ "log_success_interval = 1h\nlog_success_interval = 0\n", 2,
	  "duplicate key" },
	{ "[group a]\nlog_success_interval = 1h\n", 2, "global key" },
	{ "[group a]\nmax_lifetime = 0d\n", 2, "bad value for 'max_lifetime'" },
	{ "[group a]\nmax_lifetime = forever\n", 2, "max_lifetime" },
	{ "[group a]\nmax_lifetime = 90 d\n", 2, "max_lifetime" },
	{ "[group a]\nmax_lifetime =\n", 2, "needs a value" },
	{ "[group a\n", 1, "malformed section header" },
	{ "[group a] trailing\n", 1, "malformed section header" },
	{ "[foo bar]\n", 1, "unknown section [foo bar]" },
	{ "[groups a]\n", 1, "unknown section" },
	{ "[group]\n", 1, "needs a name" },
	{ "[group a b]\n", 1, "bad group name" },
	{ "[group -a]\n", 1, "bad group name" },
	{ "[group a/b]\n", 1, "bad group name" },
	{ "[group a23456789012345678901234567890123]\n", 1, "bad group name" },
	{ "[]\n", 1, "unknown section" },
	{ "prefix = p\xc3tk\n", 1, "invalid UTF-8" },
	{ "db = /x\xff\n", 1, "invalid UTF-8" },
	{ "db = /x\xc0\xaf\n", 1, "invalid UTF-8" }, /* overlong '/' */
	{ "db = /x\xe0\x80\xaf\n", 1, "invalid UTF-8" }, /* overlong '/' */
	{ "db = /x\xf0\x80\x80\xaf\n", 1, "invalid UTF-8" }, /* overlong */
	{ "db = /x\xf4\x90\x80\x80\n", 1, "invalid UTF-8" }, /* > U+10FFFF */
	{ "db = /x\xe2\x82\n", 1, "invalid UTF-8" }, /* truncated */
	{ "db = /x\xed\xa0\x80\n", 1, "invalid UTF-8" }, /* surrogate */
	{ "db = /x\x01y\n", 1, "control" },
};

static void test_errors(void)
{
	apitoken_config cfg;
	struct logbuf lb;
	char path[256], want[320];

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		char name[32];

		snprintf(name, sizeof(name), "bad%zu.conf", i);
		write_text(name, c->text);
		th_path(path, sizeof(path), dir, name);
		snprintf(want, sizeof(want), "%s:%u: ", path, c->line);

		int rc = load(name, true, &cfg, &lb);
		CHECK(rc == -1, "case %zu accepted: \"%s\"", i, c->text);
		CHECK(lb.count == 1, "case %zu: %d messages: %s", i, lb.count,
		      lb.text);
		CHECK(strstr(lb.text, want) != NULL,
		      "case %zu: no \"%s\" in: %s", i, want, lb.text);
		CHECK(strstr(lb.text, c->reason) != NULL,
		      "case %zu: no \"%s\" in: %s", i, c->reason, lb.text);
		CHECK(th_all_zero(&cfg, sizeof(cfg)), "case %zu: cfg not freed",
		      i);
		CHECK(strchr(lb.text, '\x1b') == NULL,
		      "case %zu: escape byte logged", i);
	}
}

/* Errors that need bytes a string literal table cannot hold. */
static void test_binary_errors(void)
{
	apitoken_config cfg;
	struct logbuf lb;
	char path[256], want[320];

	/* NUL byte on line 3. */
	static const char nul[] = "prefix = abc\n# ok\ndb = /x\0y\n";
	write_bytes("nul.conf", nul, sizeof(nul) - 1, 0644);
	th_path(path, sizeof(path), dir, "nul.conf");
	snprintf(want, sizeof(want), "%s:3: NUL byte", path);
	CHECK(load("nul.conf", false, &cfg, &lb) == -1, "NUL accepted");
	CHECK(strstr(lb.text, want) != NULL, "NUL message: %s", lb.text);

	/* NUL inside a comment is still an error. */
	static const char nul2[] = "# a\0b\n";
	write_bytes("nul2.conf", nul2, sizeof(nul2) - 1, 0644);
	CHECK(load("nul2.conf", false, &cfg, &lb) == -1,
	      "NUL in comment accepted");
	CHECK(strstr(lb.text, "nul2.conf:1: NUL byte") != NULL,
	      "NUL message: %s", lb.text);

	/* A line of 4097 bytes (comment or not) on line 2. */
	char line[4200];
	memset(line, 'x', sizeof(line));
	memcpy(line, "#\n#", 3);
	line[4099] = '\n';
	write_bytes("long.conf", line, 4100, 0644);
	th_path(path, sizeof(path), dir, "long.conf");
	snprintf(want, sizeof(want), "%s:2: line longer than 4096", path);
	CHECK(load("long.conf", false, &cfg, &lb) == -1,
	      "4097-byte line accepted");
	CHECK(strstr(lb.text, want) != NULL, "long line message: %s", lb.text);

	/* Also without a final newline. */
	write_bytes("long2.conf", line + 2, 4097, 0644);
	CHECK(load("long2.conf", false, &cfg, &lb) == -1,
	      "4097-byte last line accepted");
	CHECK(strstr(lb.text, "long2.conf:1: line longer") != NULL,
	      "long last line message: %s", lb.text);

	/* A file over 1 MiB, made of harmless comment lines. */
	size_t big = 1024 * 1024 + 1;
	char *data = malloc(big);
	if (!data) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	for (size_t i = 0; i < big; i++)
		data[i] = (i % 64 == 63) ? '\n' : '#';
	write_bytes("big.conf", data, big, 0644);
	th_path(path, sizeof(path), dir, "big.conf");
	snprintf(want, sizeof(want), "%s: file is larger than", path);
	CHECK(load("big.conf", false, &cfg, &lb) == -1, "big file accepted");
	CHECK(strstr(lb.text, want) != NULL, "big file message: %s", lb.text);
	CHECK(th_all_zero(&cfg, sizeof(cfg)), "big file: cfg not freed");

	/* Exactly 1 MiB is fine. */
	write_bytes("big-ok.conf", data, big - 1, 0644);
	CHECK(load("big-ok.conf", false, &cfg, &lb) == 0,
	      "1 MiB file refused: %s", lb.text);
	config_free(&cfg);
	free(data);

	/* A last line without a newline is parsed. */
	write_bytes("nonl.conf", "prefix = zz", 11, 0644);
	CHECK(load("nonl.conf", false, &cfg, &lb) == 0 && cfg.prefix &&
		      strcmp(cfg.prefix, "zz") == 0,
	      "last line without newline: %s", lb.text);
	config_free(&cfg);
}

/* A NULL logger must not crash; errors are still errors. */
static void test_null_logger(void)
{
	apitoken_config cfg;
	char path[256];

	write_text("nolog.conf", "bogus = 1\n");
	th_path(path, sizeof(path), dir, "nolog.conf");
	CHECK(config_defaults(&cfg) == 0, "config_defaults");
	CHECK(config_load(path, false, &cfg, NULL, NULL) == -1,
	      "NULL logger: error not reported");
	CHECK(th_all_zero(&cfg, sizeof(cfg)), "NULL logger: cfg not freed");
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_config.XXXXXX",
		 tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	/* Watchdog: opening a FIFO must never block. */
	alarm(30);

	test_defaults();
	test_full_example();
	test_missing();
	test_trust();
	test_lists_and_values();
	test_errors();
	test_binary_errors();
	test_null_logger();

	th_rm_rf(dir);
	return th_summary("config: all tests passed");
}
