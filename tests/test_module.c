/* Module tests through the real libpam (pam_start_confdir), in the style of
 * Linux-PAM's own tst-pam_*-retval.c: service files in a private folder
 * naming the module by its absolute path, a conversation that answers the
 * password prompt, and tokenadm run as a real process to make the store.
 *
 * Each check prints PASS/FAIL/SKIP and a name; the last line is a summary
 * and the exit status is non-zero if any check failed.
 *
 * Environment (set by meson): PAM_APITOKEN_SO (the module), TOKENADM (the
 * tool), FAKETIME (the faketime program, or empty: the checks that need a
 * moved clock are skipped).
 *
 * Seeing the module's own return code through libpam: every service name
 * exists in two folders.
 *   "alone": the module is the only auth (and account) module, "required".
 *            libpam hands back the module's code unchanged, except that a
 *            stack in which every module said PAM_IGNORE fails with
 *            PAM_PERM_DENIED (a code this module never returns itself).
 *   "probe": [success=done ignore=ignore default=die] module, then
 *            pam_permit: PAM_IGNORE (and only it, or success) passes.
 * So "alone" gives PAM_PERM_DENIED and "probe" gives PAM_SUCCESS exactly
 * when the module said PAM_IGNORE. (pam_sm_* cannot be called directly on
 * a handle from here: libpam refuses pam_set_data from an application, and
 * the module needs it for the account check.)
 *
 * Runs as root (tokens for "root") or as any other user (tokens for that
 * user: the trust checks accept files owned by the euid); checks that need
 * root say SKIP otherwise.
 *
 * This file runs the numbered sections in order; they live in
 * module_tokens.c (1-3, 12), module_rules.c (3 group, 4-6),
 * module_faults.c (7, 8), module_acct.c (9-11) and module_runtime.c (14,
 * 15), and share module_common.[ch] (sites, profiles, tokenadm, sessions;
 * 13 is checked over all of them at the end). One program: the sections
 * build on one site and one run's counts. */
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "module_common.h"

int main(void)
{
	module_setup();

	site s;
	profile p;
	site_new(&s, "main");
	profile_std(&p, &s, "main", NULL, NULL);
	site_init(&s, &p, true);

	struct stat st;
	if (stat(s.key, &st) != 0)
		die("stat %s", s.key);
	th_check((st.st_mode & 077) == 0, "init: site key mode %04o",
		 (unsigned)(st.st_mode & 07777));
	if (stat(s.db, &st) != 0)
		die("stat %s", s.db);
	th_check((st.st_mode & 022) == 0, "init: store mode %04o",
		 (unsigned)(st.st_mode & 07777));

	time_t t0 = time(NULL);
	test_not_token(&s, &p);
	test_valid(&p);
	test_refusals(&p);
	test_groups(&s);
	test_rotation(&p);
	test_hosts(&s, &p);
	test_services(&s, &p);
	test_faults();
	test_tamper();
	test_bad_config(&s, &p);
	test_acct(&p);
	test_options(&s, &p);
	test_warn(&s, &p);
	test_lastused(&s, &p);
	test_concurrency(&p);

	return module_finish(t0);
}
