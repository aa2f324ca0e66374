/* The shared harness of the C tests (a static library, tests/meson.build):
 *
 *   checks   CHECK (silent on success, "FAIL file:line: ..." on stderr) and
 *            th_check/th_skip/th_report ("PASS: ...", "FAIL: ...",
 *            "SKIP: ..." lines on stdout), all counted in th_count;
 *   files    write_all/read_all on descriptors, whole files written and
 *            read, rm -rf, a path joined under a directory, temp files left
 *            by the store, an all-zero test;
 *   PAM      one conversation function (th_conversation) that answers the
 *            password prompt from a th_conv and counts what it was sent,
 *            and the names of PAM's return codes;
 *   tokens   the CRC check digits of tokenadm(8), TOKEN FORMAT (harness_token.c, the only
 *            part that needs zlib), computed here independently of the
 *            product's code.
 *
 * Nothing here calls libpam: the conversation only needs its header, so a
 * unit test of the core links the harness without libpam. */
#ifndef PTK_TEST_HARNESS_H
#define PTK_TEST_HARNESS_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <security/pam_appl.h>

/* ---- checks ---- */

/* What one test program counted. The only mutable state of the harness
 * apart from th_alarmed: every test program has always kept such counters
 * (a static "failures", or n_pass/n_fail/n_skip), and a check anywhere in
 * a program, in any of its files, must add to the same ones. The harness
 * adds to them atomically (mem_pam checks in several threads); read them
 * once the threads are joined. */
typedef struct th_counts {
	int pass, fail, skip;
} th_counts;
extern th_counts th_count;

/* Count and report a failure, carry on; a success says nothing. A program
 * ends with `return th_count.fail ? 1 : 0` or th_summary(). */
#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond))                                              \
			th_fail_at(__FILE__, __LINE__, __VA_ARGS__);      \
	} while (0)

/* "FAIL file:line: <message>" on stderr; counts a failure. */
__attribute__((format(printf, 3, 4)))
void th_fail_at(const char *file, int line, const char *fmt, ...);

/* "PASS: <message>" or "FAIL: <message>" on stdout (flushed); counts it.
 * Returns ok. */
__attribute__((format(printf, 2, 3)))
bool th_check(bool ok, const char *fmt, ...);
/* "SKIP: <message>"; counts a skip. */
__attribute__((format(printf, 1, 2)))
void th_skip(const char *fmt, ...);
/* "<tag>: <message>"; counts a pass for "PASS", a failure for "FAIL" and a
 * skip for anything else. */
__attribute__((format(printf, 2, 3)))
void th_report(const char *tag, const char *fmt, ...);
__attribute__((format(printf, 2, 0)))
void th_vreport(const char *tag, const char *fmt, va_list ap);
/* "FAIL [<what>]: <message>": a failed case of a table-driven test. */
__attribute__((format(printf, 2, 3)))
void th_fail_case(const char *what, const char *fmt, ...);

/* The end of a CHECK-style program: with failures "N failure(s)" on
 * stderr and 1, else passed_line on stdout and 0. */
int th_summary(const char *passed_line);

/* ---- files ---- */

/* All n bytes, retrying on EINTR and short transfers. False on an error
 * or (read_all) an early end of file. */
bool th_write_all(int fd, const void *buf, size_t n);
bool th_read_all(int fd, void *buf, size_t n);

/* Read fd to its end (a child's stdout): the first outlen - 1 bytes into
 * out, NUL-terminated, the rest read and dropped (out may be NULL). The
 * bytes kept. */
size_t th_drain(int fd, char *out, size_t outlen);

/* Create or truncate path (never through a symlink) with exactly mode (not
 * masked) and len bytes of data. 0, or -1 with errno set. */
int th_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* The same, but a new file: path is removed first and created anew (a new
 * inode, as a cache keyed on the inode must see). */
int th_replace_file(const char *path, const void *data, size_t len,
		    mode_t mode);
/* The whole file, malloc'd and NUL-terminated (*len, if not NULL, the byte
 * count without the NUL); NULL with errno set if it cannot be read.
 * Opened O_NONBLOCK: a FIFO put in a file's place does not hang a test. */
char *th_read_file(const char *path, size_t *len);
/* At most bufsz - 1 bytes of the file into buf, NUL-terminated. The byte
 * count, or -1 (buf then empty) if it cannot be opened. */
ssize_t th_read_text(const char *path, char *buf, size_t bufsz);

/* rm -rf path, never following a symlink; directories are made
 * searchable and writable first (a test may leave one at mode 0500). */
void th_rm_rf(const char *path);

/* dir/name into out; aborts if it does not fit (a test bug). */
void th_path(char *out, size_t outlen, const char *dir, const char *name);

/* How many "<path>.tmp.*" files there are: the temporary copies the store
 * writes beside itself before it renames one into place. */
size_t th_count_tmp(const char *path);

bool th_all_zero(const void *p, size_t n);

/* SIGALRM in seconds, caught without SA_RESTART by a handler that only
 * sets th_alarmed (cleared here): a call that blocks (opening a FIFO) is
 * interrupted, and th_alarmed says that it blocked. alarm(0) to disarm.
 * (Mutable because a signal handler can report in no other way.) */
extern volatile sig_atomic_t th_alarmed;
void th_alarm_in(unsigned seconds);

/* ---- PAM ---- */

/* How th_conversation answers. */
enum th_conv_mode {
	TH_CONV_ANSWER = 0, /* each prompt gets the password */
	TH_CONV_NULL_RESP,  /* PAM_SUCCESS, a response array of NULL resps */
	TH_CONV_NULL_ARRAY, /* PAM_SUCCESS, *resp = NULL */
	TH_CONV_ERR,        /* PAM_CONV_ERR */
	TH_CONV_BUF_ERR,    /* PAM_BUF_ERR */
};

/* The appdata of th_conversation: one per login (and so per thread). */
typedef struct th_conv {
	/* Set by the test. */
	const char *password; /* the answer to every prompt; NULL: "" */
	size_t password_len;  /* its bytes (may hold NULs); 0: strlen */
	/* If set, each prompt's reply is answer(answer_arg) instead: a
	 * malloc'd string handed to libpam as it is (never copied here);
	 * NULL makes the conversation fail with PAM_CONV_ERR. */
	char *(*answer)(void *answer_arg);
	void *answer_arg;
	int mode; /* enum th_conv_mode */
	/* Counted by the conversation, whatever the mode. */
	int prompts;      /* PAM_PROMPT_ECHO_OFF and PAM_PROMPT_ECHO_ON */
	int prompts_echo; /* ... of them PAM_PROMPT_ECHO_ON */
	int messages;     /* PAM_TEXT_INFO and PAM_ERROR_MSG */
	int unknown;      /* any other style (answered with a NULL resp) */
	char last_msg[256]; /* the text of the last message */
} th_conv;

/* A struct pam_conv's conv: struct pam_conv c = { th_conversation, &tc }.
 * Answers PAM_PROMPT_ECHO_OFF and _ON alike (the module asks only for the
 * password, with ECHO_OFF; tests that must see nothing else check the
 * counters). */
int th_conversation(int n, const struct pam_message **msg,
		    struct pam_response **resp, void *appdata);

/* "PAM_SUCCESS", ...; "(not run)" for -1, "code N" for anything else. */
const char *th_pam_name(int rc);

/* ---- tokens (harness_token.c) ---- */

#define TH_B62 "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* The 6 base62 check digits (CRC-32 of the len bytes of text, most
 * significant digit first), NUL-terminated. */
void th_check_digits(const char *text, size_t len, char out[7]);
/* prefix_id_secret followed by its check digits into out; aborts if
 * outlen is too small. */
void th_token_text(char *out, size_t outlen, const char *prefix,
		   const char *id, const char *secret);

#endif
