/* tokenadm --login: act for a person who proves who they are with their
 * account password through the PAM service apitoken-web (the web page's
 * only door; tokenadm(8), WEB SIGN-IN). */
#ifndef TOKENADM_LOGIN_H
#define TOKENADM_LOGIN_H

#include <stddef.h>

#include "tokenadm.h"

#define LOGIN_PAM_SERVICE "apitoken-web"
/* The stack must be the administrator's: never libpam's "other". */
#define LOGIN_PAM_FILE "/etc/pam.d/" LOGIN_PAM_SERVICE
/* Microseconds a failed sign-in waits before it is answered (libpam
 * varies it by up to a quarter), as su(1) and login(1) do. */
#define LOGIN_FAIL_DELAY_US 2000000u
#define LOGIN_USER_MAX 256
/* PAM_MAX_RESP_SIZE: what a conversation may answer. */
#define LOGIN_PASSWORD_MAX 512

/* The name and password as typed, in one locked page that is never
 * swapped out, never dumped and never inherited, wiped by login_wipe. */
typedef struct login_creds {
	char *page;
	size_t page_len;
	char *user;
	char *password;
	size_t pwlen;
} login_creds;

/* Read the first two lines of standard input, unbuffered, so that what
 * follows stays there for the command. Runs as the caller (parse step).
 * Returns EXIT_OK or an exit code (reported). */
int login_read(login_creds *c);

/* Authenticate c through PAM (pam_authenticate, pam_acct_mgmt) as root,
 * inside transact, after the config is loaded; on success the tool acts
 * for that person: t->uid, t->user, t->via_web. rhost (may be NULL) is
 * the client's address, for PAM_RHOST and the logs. Returns EXIT_OK,
 * EXIT_DENIED (a failed sign-in, after the fail delay, logged for
 * fail2ban) or EXIT_USAGE (no apitoken-web stack). */
int login_authenticate(tool *t, const login_creds *c, const char *rhost);

void login_wipe(login_creds *c);

#endif
