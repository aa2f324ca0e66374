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
	site_key *key;      /* loaded on first use */
	uid_t uid;          /* the real caller */
	caller_ids caller;  /* uid and gid to drop to */
	char *user;         /* the caller's login name */
	bool admin;         /* root or a member of admin_group */
	bool privileged;    /* setuid/setgid: more power than the caller */
	store_view *reader; /* opened before dropping privilege */
	lastused_table lastused; /* read before dropping privilege */
	int64_t now;
} tool;

typedef int (*command_fn)(tool *t, int argc, char **argv);

int cmd_init(tool *t, int argc, char **argv);
int cmd_create(tool *t, int argc, char **argv);
int cmd_list(tool *t, int argc, char **argv);
int cmd_show(tool *t, int argc, char **argv);
int cmd_revoke(tool *t, int argc, char **argv);
int cmd_disable(tool *t, int argc, char **argv);
int cmd_enable(tool *t, int argc, char **argv);
int cmd_rotate(tool *t, int argc, char **argv);
int cmd_verify(tool *t, int argc, char **argv);
int cmd_prune(tool *t, int argc, char **argv);
int cmd_policy(tool *t, int argc, char **argv);

/* Messages: everything but a new token goes to stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One authpriv syslog line per change: who, what, which token, whose. */
void audit(const tool *t, const char *action, const token_record *rec,
	   const char *detail);

/* Give up raised privilege for good (a no-op when not privileged), once a
 * command has done the last thing that needed it: before it prints a new
 * token, reads a secret from the caller, or formats output. Exits the
 * process if the drop cannot be proved. */
void tool_drop(tool *t);

/* For commands that only read: open the key and the store and read the
 * last-used records (all, or only_id's) while privileged, then drop
 * privilege for good. Everything after (parsing the caller's input,
 * formatting output) runs as the caller. Returns 0 or -1 (reported). */
int tool_open_for_reading(tool *t, const char *only_id);

/* When and from where a token was last used (as read above). */
void tool_lastused(const tool *t, const char *id, lastused *lu);

/* Load the site key once. Returns 0 or -1 (reported). */
int tool_key(tool *t);

/* Begin a write transaction (reported on failure). */
int tool_begin(tool *t, store_txn **txn);
int tool_commit(tool *t, store_txn *txn);
/* Abandon a transaction (NULL is fine). */
void tool_abort(tool *t, store_txn *txn);
/* Write the messages held back since tool_begin (main does, at the end). */
void tool_flush_messages(void);

/* Read, check and decode the record id inside txn (or the live store when
 * txn is NULL). Returns EXIT_OK, EXIT_NO_TOKEN or EXIT_REFUSED (reported). */
int tool_get_record(tool *t, store_txn *txn, const char *id,
		    token_record *rec);
int tool_put_record(tool *t, store_txn *txn, const token_record *rec);

/* May the caller see and change rec? Admins: every token; others: their
 * own. Reports and returns EXIT_DENIED when not. */
int tool_may_manage(const tool *t, const token_record *rec);

/* Visit every decodable record of the live store; records that fail their
 * integrity check are reported and skipped. */
typedef int (*record_visit_fn)(tool *t, void *ctx, const token_record *rec);
int tool_foreach_record(tool *t, store_txn *txn, record_visit_fn visit,
			void *ctx);
/* The same for one user's records only (others are skipped unverified). */
int tool_foreach_record_of(tool *t, store_txn *txn, const char *user,
			   record_visit_fn visit, void *ctx);

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

/* JSON string (with quotes) to stdout; invalid UTF-8 becomes U+FFFD. */
void json_string(const char *s);
/* A time as a JSON string, or null for 0. */
void json_time(int64_t t);

#endif
