/* What the module answers for each token on stdin (one a line): runs
 * "auth" then "account" of SERVICE from CONFDIR through libpam
 * (pam_start_confdir: no root, no /etc/pam.d), one login per token, in
 * this one process, and prints one line per token: "accepted" or the
 * PAM code that refused it. For the shell tests (test_delta.sh), where a
 * pamtester per token and step would cost minutes.
 *
 * usage: pam_answers CONFDIR SERVICE USER < tokens */
#include <security/pam_appl.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(int argc, char **argv)
{
	char line[512];

	if (argc != 4) {
		fprintf(stderr, "usage: pam_answers CONFDIR SERVICE USER\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		th_conv tc = { .password = line };
		struct pam_conv conv = { th_conversation, &tc };
		pam_handle_t *pamh = NULL;
		int rc = pam_start_confdir(argv[2], argv[3], &conv, argv[1],
					   &pamh);
		if (rc == PAM_SUCCESS)
			rc = pam_authenticate(pamh, PAM_SILENT);
		if (rc == PAM_SUCCESS)
			rc = pam_acct_mgmt(pamh, PAM_SILENT);
		printf("%s\n", rc == PAM_SUCCESS ? "accepted" : th_pam_name(rc));
		if (pamh)
			pam_end(pamh, rc);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
