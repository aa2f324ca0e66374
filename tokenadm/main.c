/* tokenadm: create, list, rotate and revoke pam_apitoken tokens. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_config.h"
#include "groups.h"
#include "json_out.h"
#include "login.h"
#include "privilege.h"
#include "tokenadm.h"

#include <arpa/inet.h>

/* The config a setuid tokenadm reads. Test builds compile in a private one
 * (tests/test_privilege.sh), since a privileged run refuses --config from
 * anyone but root. */
#ifdef TOKENADM_TEST_CONF
#define TOKENADM_CONF TOKENADM_TEST_CONF
#else
#define TOKENADM_CONF APITOKEN_DEFAULT_CONF
#endif

static const command *const commands[] = {
	&cmd_init,   &cmd_create, &cmd_list,   &cmd_show,
	&cmd_revoke, &cmd_disable, &cmd_enable, &cmd_rotate,
	&cmd_verify, &cmd_prune,  &cmd_policy, &cmd_export,
	&cmd_import, &cmd_status, &cmd_lastused,
};

static void usage(FILE *to)
{
	fputs("usage: tokenadm [--config PATH] [--db PATH] COMMAND [ARGS]\n"
	      "       tokenadm --login [--client-addr ADDR] COMMAND [ARGS] --json\n"
	      "         (user name and password: the first two lines of stdin;\n"
	      "          policy, list, show, create, rotate, revoke, disable,\n"
	      "          enable)\n"
	      "\n"
	      "  init [--group GROUP] [--signing |\n"
	      "       --import-only --site-key FILE --trusted-key FILE]\n"
	      "                                   create site key and store\n"
	      "  create --name NAME [--user USER] [--expires DURATION|DATE|never]\n"
	      "         [--allow-from ADDR/CIDR|local]... [--deny-from ADDR/CIDR]...\n"
	      "         [--service NAME]... [--json]\n"
	      "  list [--user USER | --all] [--expiring-within DURATION]\n"
	      "       [--unused-for DURATION] [--state STATE] [--limit N] [--json]\n"
	      "       (--expiring DURATION: the same as --expiring-within)\n"
	      "  show ID [--json]\n"
	      "  revoke ID... [--json]   disable ID... [--json]\n"
	      "  enable ID... [--json]\n"
	      "  rotate ID [--grace DURATION] [--json]\n"
	      "  verify --user USER [--rhost ADDR] [--service NAME]  (token on stdin)\n"
	      "  prune [--older-than DURATION]\n"
	      "  policy [--user USER] [--json]\n"
	      "  export --out FILE|-              (the authority: a signed bundle)\n"
	      "  import FILE|- [--allow-same]     (an import-only host)\n"
	      "  status [--json]\n"
	      "  lastused export --out FILE|-     lastused merge FILE...\n"
	      "\n"
	      "Exit: 0 ok, 1 refused/failed, 2 usage/config, 3 not permitted,\n"
	      "4 no such token. With --json a failure prints\n"
	      "{\"error\",\"exit\",\"field\"} on stdout.\n",
	      to);
}

typedef struct globals {
	const char *config, *db;
	bool login;        /* --login */
	const char *rhost; /* --client-addr ADDR (with --login) */
} globals;

/* Pull --config/--db/--login/--client-addr (anywhere before "--") out of argv,
 * so every command accepts them in any position. Returns 0, or
 * EXIT_USAGE. */
static int take_global_options(int *argc, char **argv, globals *g)
{
	const char **config = &g->config, **db = &g->db;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char **slot = NULL;
		const char *val = NULL;
		char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "--login") == 0) {
			g->login = true;
			continue;
		}
		if (strcmp(a, "--client-addr") == 0 ||
		    strncmp(a, "--client-addr=", 14) == 0) {
			if (a[13] == '=') {
				g->rhost = a + 14;
			} else if (i + 1 < *argc) {
				g->rhost = argv[++i];
			} else {
				warnx_("--client-addr needs an address");
				return EXIT_USAGE;
			}
			continue;
		}
		if (strcmp(a, "--config") == 0 || strcmp(a, "--db") == 0) {
			slot = a[2] == 'c' ? config : db;
			if (i + 1 >= *argc) {
				warnx_("%s needs a path", a);
				return EXIT_USAGE;
			}
			val = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			slot = config;
			val = a + 9;
		} else if (strncmp(a, "--db=", 5) == 0) {
			slot = db;
			val = a + 5;
		}
		if (!slot) {
			argv[out++] = a;
			continue;
		}
		if (!*val) {
			warnx_("empty path for --config/--db");
			return EXIT_USAGE;
		}
		*slot = val;
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

static void log_to_stderr(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_to_stderr(void *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("tokenadm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Who the commands act for: the caller, or with --login the person who
 * signed in (already in t->uid and t->user). Then: an administrator? */
static int identify_caller(tool *t)
{
	struct passwd pw;
	char *buf = NULL;

	if (!t->via_web) {
		t->uid = t->caller.uid;
		if (lookup_user(NULL, t->uid, &pw, &buf) != 1) {
			free(buf);
			warnx_("cannot find the name of uid %u", (unsigned)t->uid);
			return EXIT_REFUSED;
		}
		t->user = strdup(pw.pw_name);
		free(buf);
		if (!t->user)
			return EXIT_REFUSED;
	}
	t->admin = t->uid == 0;
	if (!t->admin && t->cfg.admin_group) {
		int r = user_in_group(t->user, t->cfg.admin_group);
		if (r < 0) {
			warnx_("cannot look up group %s", t->cfg.admin_group);
			return EXIT_REFUSED;
		}
		t->admin = r == 1;
	}
	return EXIT_OK;
}

/* The privileged part of every command, on one screen: configuration,
 * caller, transaction. Runs with all ids root. */
static int transact(tool *t, const command *cmd, void *opts,
		    const char *config, const char *db, const globals *g,
		    const login_creds *creds)
{
	/* Out of any cgroup the caller was delegated (which they could
	 * freeze while we hold the lock). Where we cannot move and the
	 * cgroup we are in is not the caller's (a read-only cgroupfs in a
	 * container), staying is harmless; in the caller's own, refuse. */
	if (t->privileged && t->caller.uid != 0 &&
	    leave_caller_cgroup(t->caller.uid) != 0) {
		warnx_("cannot leave a cgroup you could freeze; not starting "
		       "a transaction");
		return EXIT_REFUSED;
	}
	t->conf_path = config ? config : TOKENADM_CONF;
	if (config_defaults(&t->cfg) != 0 ||
	    config_load(t->conf_path, config == NULL, &t->cfg, log_to_stderr,
			NULL) != 0)
		return EXIT_USAGE;
	if (db) {
		free(t->cfg.db_path);
		t->cfg.db_path = strdup(db);
		if (!t->cfg.db_path)
			return EXIT_REFUSED;
	}
	/* --login: the password is checked here, as root (pam_unix reads
	 * the shadow file) and before anything else is decided. */
	int rc = g->login ? login_authenticate(t, creds, g->rhost) : EXIT_OK;
	if (rc == EXIT_OK)
		rc = identify_caller(t);
	if (rc == EXIT_OK && cmd->transact)
		rc = cmd->transact(t, opts);
	return rc;
}

/* The commands a web sign-in may run: what the page offers. Nothing that
 * writes files of the caller's choosing (export, lastused), replaces the
 * store (import, init) or runs for every user (prune, verify). */
static bool login_command(const char *name)
{
	static const char *const allowed[] = {
		"policy", "list", "show", "create", "rotate",
		"revoke", "disable", "enable",
	};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(name, allowed[i]) == 0)
			return true;
	return false;
}

/* "--json" among the arguments (before "--"): failures print the error
 * object. Commands parse the option themselves as well. */
static bool wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

/* An IP address, nothing else: it goes to PAM_RHOST and the log line
 * fail2ban reads, so never a host name (no DNS) or a second field. */
static bool valid_rhost(const char *a)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return strlen(a) <= 45 && (inet_pton(AF_INET, a, buf) == 1 ||
				   inet_pton(AF_INET6, a, buf) == 1);
}

static int run(int argc, char **argv, tool *t, login_creds *creds)
{
	globals g = { 0 };
	const command *cmd = NULL;
	void *opts = NULL;
	int rc;

	/* Before anything else can open a file or read the environment. */
	bool privileged = running_privileged();
	/* Limits first: a caller's "ulimit -n 0" would otherwise make even
	 * the descriptor clean-up fail. */
	raise_limits();
	if (sanitize_fds() != 0 || disable_core_dumps() != 0 ||
	    become_root(&t->caller) != 0) {
		fputs("tokenadm: cannot set up a safe process\n", stderr);
		return EXIT_REFUSED;
	}
	reset_signals();
	const char *envconf = privileged ? NULL : getenv("PAM_APITOKEN_CONF");
	if (privileged && sanitize_env() != 0) {
		fputs("tokenadm: cannot clean the environment\n", stderr);
		return EXIT_REFUSED;
	}
	umask(077);
	openlog("tokenadm", LOG_PID, LOG_AUTHPRIV);
	t->now = (int64_t)time(NULL);
	t->privileged = privileged;

	/* 1. Parse, as the caller. */
	if (privilege_suspend(&t->caller) != 0) {
		fputs("tokenadm: cannot set up a safe process\n", stderr);
		return EXIT_REFUSED;
	}
	json_mode_set(wants_json(argc, argv));
	rc = take_global_options(&argc, argv, &g);
	if (rc != 0)
		return rc;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tokenadm %s\n", APITOKEN_VERSION);
		return EXIT_OK;
	}
	/* A non-root caller of a privileged tokenadm must not point it at
	 * files of their choosing: that would let them write tokens into a
	 * store they name, or read a config that grants them more. With
	 * --login the caller is a relay (the web server): never. */
	if (privileged && (t->caller.uid != 0 || g.login) && (g.config || g.db)) {
		warnx_("--config and --db are for root only");
		return EXIT_DENIED;
	}
	if (!g.config)
		g.config = envconf;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i]->name) == 0)
			cmd = commands[i];
	if (!cmd) {
		warnx_("unknown command '%.64s'", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (g.rhost && !g.login) {
		warnx_("--client-addr goes with --login");
		return EXIT_USAGE;
	}
	if (g.rhost && !valid_rhost(g.rhost)) {
		warnx_("--client-addr takes an IPv4 or IPv6 address");
		return EXIT_USAGE;
	}
	if (g.login && !login_command(cmd->name)) {
		warnx_("--login runs policy, list, show, create, rotate, "
		       "revoke, disable and enable only");
		return EXIT_USAGE;
	}
	opts = calloc(1, cmd->opts_size ? cmd->opts_size : 1);
	if (!opts)
		return EXIT_REFUSED;
	/* The name and password first: the command's own input follows. */
	rc = g.login ? login_read(creds) : EXIT_OK;
	optind = 0;
	if (rc == EXIT_OK && cmd->parse)
		rc = cmd->parse(argc - 1, argv + 1, opts, t->now);

	/* 2. Transact, as root; what it says waits until privilege is gone. */
	if (rc == EXIT_OK) {
		tool_hold_messages(true);
		if (privilege_resume(&t->caller) != 0) {
			warnx_("cannot take privilege back; stopping");
			rc = EXIT_REFUSED;
		} else {
			rc = transact(t, cmd, opts, g.config, g.db, &g, creds);
		}
	}
	/* The password is not needed beyond the sign-in. */
	login_wipe(creds);

	/* 3. Report, as the caller: the one drop, for good. */
	tool_drop(t);
	tool_hold_messages(false);
	if (cmd->report)
		rc = cmd->report(t, opts, rc);
	if (cmd->cleanup)
		cmd->cleanup(opts);
	free(opts);
	return rc;
}

int main(int argc, char **argv)
{
	login_creds creds;
	tool t;

	memset(&t, 0, sizeof(t));
	memset(&creds, 0, sizeof(creds));
	int rc = run(argc, argv, &t, &creds);

	login_wipe(&creds);
	/* An early refusal leaves root in the saved ids: shed it before
	 * anything more is written. */
	tool_drop(&t);
	tool_hold_messages(false);
	if (rc != EXIT_OK && json_mode())
		json_error_print(rc);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		warnx_("cannot write output: %s", strerror(errno));
		if (rc == EXIT_OK)
			rc = EXIT_REFUSED;
	}
	store_close(t.reader);
	lastused_table_free(&t.lastused);
	lastused_table_free(&t.fleet_lastused);
	site_key_free(t.key);
	config_free(&t.cfg);
	free(t.user);
	closelog();
	return rc;
}
