/* The --json error object and small JSON writers (see json_out.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "tokenadm.h"

/* What the run said when it failed, for the error object. tokenadm is
 * single-threaded and prints one document per run: one process-wide
 * record of it is the simplest correct thing (like tool.c's deferred
 * messages). */
static struct {
	bool on;
	const char *field; /* a string literal */
	char message[512];
} failure;

void json_mode_set(bool on)
{
	failure.on = on;
}

bool json_mode(void)
{
	return failure.on;
}

void json_fail_field(const char *field)
{
	if (!failure.field)
		failure.field = field;
}

void json_note_message(const char *msg)
{
	if (!failure.message[0])
		snprintf(failure.message, sizeof(failure.message), "%s", msg);
}

/* When nothing was said (getopt reported on its own, say). */
static const char *fallback(int rc)
{
	switch (rc) {
	case EXIT_USAGE: return "the request was not understood (usage error)";
	case EXIT_DENIED: return "not permitted";
	case EXIT_NO_TOKEN: return "no such token";
	default: return "the request failed";
	}
}

void json_error_print(int rc)
{
	fputs("{\"error\":", stdout);
	json_string(failure.message[0] ? failure.message : fallback(rc));
	printf(",\"exit\":%d,\"field\":", rc);
	if (failure.field)
		json_string(failure.field);
	else
		fputs("null", stdout);
	puts("}");
}

void json_string_list(const char *list)
{
	const char *p = list;
	bool first = true;

	putchar('[');
	while (*p) {
		size_t skip = strspn(p, " ,\t");
		p += skip;
		size_t n = strcspn(p, " ,\t");
		if (n == 0)
			break;
		char item[RECORD_RULES_MAX + 1];
		snprintf(item, sizeof(item), "%.*s", (int)n, p);
		if (!first)
			putchar(',');
		json_string(item);
		first = false;
		p += n;
	}
	putchar(']');
}

void json_format_duration(int64_t s, char buf[32])
{
	if (s > 0 && s % 86400 == 0)
		snprintf(buf, 32, "%lldd", (long long)(s / 86400));
	else if (s > 0 && s % 3600 == 0)
		snprintf(buf, 32, "%lldh", (long long)(s / 3600));
	else if (s > 0 && s % 60 == 0)
		snprintf(buf, 32, "%lldm", (long long)(s / 60));
	else
		snprintf(buf, 32, "%llds", (long long)s);
}
