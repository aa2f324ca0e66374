/* pam_apitoken.so loads the way libpam loads it (dlopen RTLD_NOW), has the
 * three entry points, and exports nothing else: the core's functions
 * (config_load, store_get, read_file, ...) must not clash with a host's
 * symbols or with another module's.
 *
 * Environment: PAM_APITOKEN_SO, the module's absolute path. */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

/* May name appear in the dynamic symbol table? */
static bool allowed(const char *type, const char *name)
{
	static const char *const entry[] = { "pam_sm_authenticate",
		"pam_sm_setcred", "pam_sm_acct_mgmt", NULL };

	for (int i = 0; entry[i]; i++)
		if (strcmp(name, entry[i]) == 0)
			return true;
	/* Version nodes of a version script ("A" absolute symbols). */
	return strcmp(type, "A") == 0;
}

static void check_exports(const char *so)
{
	char cmd[4200], line[1024];
	int seen = 0, bad = 0;

	if (strchr(so, '\'')) {
		th_check(false, "module path contains a quote: %s", so);
		return;
	}
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' 2>&1", so);
	FILE *f = popen(cmd, "r");
	if (!f) {
		th_check(false, "popen(nm)");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char addr[64], type[8], name[900];
		line[strcspn(line, "\n")] = '\0';
		/* "0000000000001234 T pam_sm_authenticate" or
		 * "0000000000000000 A VERS_1" */
		if (sscanf(line, "%63s %7s %899s", addr, type, name) != 3) {
			printf("  nm: %s\n", line);
			continue;
		}
		seen++;
		if (!allowed(type, name)) {
			bad++;
			printf("  unexpected export: %s %s\n", type, name);
		}
	}
	int st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) == 127) {
		th_skip("nm not available, export list not checked");
		return;
	}
	th_check(WEXITSTATUS(st) == 0 && seen >= 3,
		 "nm -D --defined-only ran and listed %d symbols", seen);
	th_check(bad == 0, "only pam_sm_* (and version nodes) exported (%d others)",
		 bad);
}

int main(void)
{
	const char *so = getenv("PAM_APITOKEN_SO");

	if (!so || so[0] != '/') {
		printf("FAIL: PAM_APITOKEN_SO must be an absolute path\n");
		return 1;
	}
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!th_check(h != NULL, "dlopen(%s, RTLD_NOW): %s", so,
		      h ? "ok" : dlerror()))
		return 1;

	static const char *const want[] = { "pam_sm_authenticate",
		"pam_sm_setcred", "pam_sm_acct_mgmt", NULL };
	for (int i = 0; want[i]; i++)
		th_check(dlsym(h, want[i]) != NULL, "dlsym(%s)", want[i]);

	/* A few of the core's functions, which must stay hidden. */
	static const char *const hidden[] = { "config_load", "config_defaults",
		"auth_check_token", "store_get", "token_parse", "secure_wipe",
		"site_key_load", "record_decode", "addr_check", "lastused_record",
		"read_file", "atomic_create", "lookup_user", NULL };
	for (int i = 0; hidden[i]; i++)
		th_check(dlsym(h, hidden[i]) == NULL, "%s not exported", hidden[i]);

	/* Hooks the module does not implement stay absent, so libpam reports
	 * a misconfigured "session"/"password" line instead of calling junk. */
	static const char *const absent[] = { "pam_sm_open_session",
		"pam_sm_close_session", "pam_sm_chauthtok", NULL };
	for (int i = 0; absent[i]; i++)
		th_check(dlsym(h, absent[i]) == NULL, "%s not defined", absent[i]);

	check_exports(so);
	dlclose(h);

	printf("summary: %d passed, %d failed, %d skipped\n", th_count.pass,
	       th_count.fail, th_count.skip);
	return th_count.fail ? 1 : 0;
}
