/* Shared state and helpers of the tokenadm commands. */
#ifndef TOKENADM_H
#define TOKENADM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "lastused.h"
#include "record.h"
#include "sitekey.h"
#include "privilege.h"
#include "store.h"
#include "token.h"

/* Exit codes: see tokenadm(8), EXIT STATUS. */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,   /* refused or failed */
	EXIT_USAGE = 2,     /* usage or config error */
	EXIT_DENIED = 3,    /* not permitted */
	EXIT_NO_TOKEN = 4,  /* no such token */
};

#define WRITE_LOCK_TIMEOUT_MS 30000
/* The longest a writer may hold the lock before the kernel ends it
 * (SIGALRM): a stuck writer must not block revocations for ever. */
#define WRITE_LOCK_HOLD_MAX_S 300

typedef struct tool {
	apitoken_config cfg;
	const char *conf_path; /* the file cfg was (or would be) loaded from */
	site_key *key;      /* loaded on first use */
	uid_t uid;          /* the real caller */
	caller_ids caller;  /* uid and gid to drop to */
	char *user;         /* the caller's login name */
	bool admin;         /* root or a member of admin_group */
	bool privileged;    /* setuid/setgid: more power than the caller */
	/* --login: uid and user are the person who signed in through PAM
	 * (login.c), not caller.uid, which stays the relaying process's (the
	 * web server's) for the cgroup and the final drop. */
	bool via_web;
	store_view *reader; /* opened before dropping privilege */
	lastused_table lastused; /* read before dropping privilege */
	lastused_table fleet_lastused; /* merged from the hosts (authority) */
	int64_t now;
	/* Run by tool_commit before the store's commit, in the same
	 * transaction (NULL: none). main sets it to the fleet's
	 * (fleet_before_commit): the layers above this shared one hook in
	 * here rather than being called from it. Returns 0 or -1 (reported,
	 * and the commit is abandoned). */
	int (*before_commit)(struct tool *t, store_txn *txn);
} tool;

/* Every command runs in the same three steps, so that the privileged path
 * of each is one function (see main.c):
 *  - parse: argv into the command's options, unprivileged, touching no
 *    file and asking no name service (now: the time the run started);
 *  - transact: the only privileged step: lock, read, write, audit, with
 *    the configuration loaded and the caller identified; its messages
 *    are held back until privilege is gone;
 *  - report: after main has dropped privilege for good, print the result
 *    (rc: what transact returned) and return the exit status.
 * Any step may be NULL. cleanup wipes and frees what parse and transact
 * left in the options. */
typedef struct command {
	const char *name;
	size_t opts_size;
	int (*parse)(int argc, char **argv, void *opts, int64_t now);
	int (*transact)(tool *t, void *opts);
	int (*report)(tool *t, void *opts, int rc);
	void (*cleanup)(void *opts);
} command;

extern const command cmd_init, cmd_create, cmd_list, cmd_show, cmd_revoke,
	cmd_disable, cmd_enable, cmd_rotate, cmd_verify, cmd_prune,
	cmd_policy, cmd_export, cmd_import, cmd_status, cmd_lastused,
	cmd_publish, cmd_pull_plan, cmd_scanner_rules, cmd_revoke_value,
	cmd_notify, cmd_retire_idle;

/* Messages: everything but a new token goes to stderr. */
/* While messages are held: how much is held now, and forget what was held
 * after such a mark (what must not reach the caller: revoke --token -
 * keeps a failed write on a live token from telling them it was live). */
size_t tool_held_mark(void);
void tool_held_drop_after(size_t mark);

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One authpriv syslog line per change: who, what, which token, whose. */
void audit(const tool *t, const char *action, const token_record *rec,
	   const char *detail);

/* Give up raised privilege for good (a no-op when not privileged). main
 * calls it once, between transact and report. Exits the process if the
 * drop cannot be proved. */
void tool_drop(tool *t);

/* For commands that only read, in their transact step, so that report
 * can read after the drop: tool_open_store opens the key and the store.
 * (list and show also read the last-use records: cmd_list.c.) Returns 0
 * or -1 (reported). */
int tool_open_store(tool *t);

/* Load the site key once. Returns 0 or -1 (reported). */
int tool_key(tool *t);

/* A freshly minted secret and its parts, held from transact to report. */
typedef struct minted {
	token_parts parts;
	char text[TOKEN_TEXT_MAX + 1];
} minted;

/* The tail create and rotate share: a new secret for rec (a fresh id that
 * is not taken when fresh_id, else rec->id), its digest into rec->digest,
 * rec written and committed (txn is consumed), then the audit line. On
 * failure the transaction is abandoned. Returns 0 or -1 (reported). */
int tool_mint(tool *t, store_txn *txn, token_record *rec, bool fresh_id,
	      minted *out, const char *action, const char *detail);
/* Wipe the new token and the digests rec holds (create's and rotate's
 * cleanup). */
void minted_wipe(minted *m, token_record *rec);

/* Begin a write transaction (reported on failure). */
int tool_begin(tool *t, store_txn **txn);
/* The same on an empty copy (an import replaces every record). */
int tool_begin_empty(tool *t, store_txn **txn);
int tool_commit(tool *t, store_txn *txn);
/* Abandon a transaction (NULL is fine). */
void tool_abort(tool *t, store_txn *txn);
/* Hold messages in memory (on) or write those held (off): main holds them
 * through transact, so nothing is written to the caller's stderr while
 * privileged or holding the lock. */
void tool_hold_messages(bool on);

/* Read, check and decode the record id inside txn (or the live store when
 * txn is NULL). Returns EXIT_OK, EXIT_NO_TOKEN or EXIT_REFUSED (reported). */
int tool_get_record(tool *t, store_txn *txn, const char *id,
		    token_record *rec);
int tool_put_record(tool *t, store_txn *txn, const token_record *rec);

/* May the caller see and change rec? Admins: every token; others: their
 * own. When not, reports and returns exactly what a missing id gets
 * (EXIT_NO_TOKEN), so ids cannot be probed. */
int tool_may_manage(const tool *t, const token_record *rec);

/* Visit every decodable record of the live store; records that fail their
 * integrity check are reported and skipped. */
typedef int (*record_visit_fn)(tool *t, void *ctx, const token_record *rec);
int tool_foreach_record(tool *t, store_txn *txn, record_visit_fn visit,
			void *ctx);
/* The same for one user's records only (others are skipped unverified). */
int tool_foreach_record_of(tool *t, store_txn *txn, const char *user,
			   record_visit_fn visit, void *ctx);
/* The same, also counting every token entry walked past (anyone's, dead
 * or alive, decoded or not) into *entries. */
int tool_walk_records(tool *t, store_txn *txn, const char *user,
		      record_visit_fn visit, void *ctx, unsigned long *entries);

/* The options of notify and retire-idle: --dry-run, --json, nothing else
 * (name: the command, for the usage line). Returns an exit code. */
int parse_dry_run_json(int argc, char **argv, const char *name, bool *dry_run,
		       bool *json);

/* getopt_long returns for options tokenadm handles the same everywhere. */
bool valid_token_name(const char *name);
bool valid_service_name(const char *name);

/* "2027-01-31T12:00:00Z", or "never"/"-" for 0 as the caller chooses. */
const char *fmt_time(int64_t t, const char *zero, char buf[32]);

/* Write a secret to stdout around stdio's buffer, so no copy of it is
 * left in memory that libc owns and never wipes. */
int print_secret(const char *secret);

/* Before minting: can a token be printed at all? Reports; 0 or -1. */
int require_writable_stdout(void);

/* The new token alone on a stdout line (or one JSON object), the rest on
 * stderr. verb: "created" or "rotated". Returns 0 or -1 (reported). */
int print_new_token(const token_record *rec, const char *token, bool json,
		    const char *verb);

/* A command whose only option is --out FILE|- (argv from index from):
 * *out set. Returns 0, or -1 for the caller's usage message. */
int parse_out_option(int argc, char **argv, int from, const char **out);

/* Write through write_fn (0 or -1, reported) to out: "-" is standard
 * output; a path is written whole with mode and renamed into place.
 * Returns 0 or -1 (reported). */
typedef int (*out_writer)(int fd, void *ctx);
int tool_write_out(const char *out, mode_t mode, out_writer write_fn,
		   void *ctx);

/* JSON string (with quotes) to stdout; invalid UTF-8 becomes U+FFFD. */
void json_string(const char *s);
/* record_state's reason as list and show print it: "idle since" gets
 * its date (an idle-retired token); any other reason is returned as is. */
#define REASON_TEXT_MAX 48
const char *reason_text(const token_record *rec, const char *reason,
			char buf[REASON_TEXT_MAX]);
/* A time as a JSON string, or null for 0. */
void json_time(int64_t t);

#endif
