/* LD_PRELOAD shim for tests: syslog(3) lines go to the file named by
 * PTK_SYSLOG_FILE (appended), one per line, prefixed with the facility and
 * level, so a test can assert on what a program logs without a syslog
 * daemon. Test-only; never installed. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "syslog_interpose.h"

/* The project builds with -fvisibility=hidden: export the overrides. */
#define SHIM __attribute__((visibility("default")))

SHIM void openlog(const char *ident, int option, int facility);
SHIM void closelog(void);

static int facility_of_openlog = LOG_USER;

void openlog(const char *ident, int option, int facility)
{
	(void)ident;
	(void)option;
	facility_of_openlog = facility;
}

void closelog(void)
{
}

__attribute__((format(printf, 2, 0)))
static void to_file(int pri, const char *fmt, va_list ap)
{
	const char *path = getenv("PTK_SYSLOG_FILE");
	char line[2048];
	int fac = (pri & LOG_FACMASK) ? (pri & LOG_FACMASK) : facility_of_openlog;

	if (!path)
		return;
	int n = snprintf(line, sizeof(line), "fac=%d pri=%d ", fac >> 3,
			 pri & LOG_PRIMASK);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	size_t len = strlen(line);
	line[len++] = '\n';
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, len) < 0) {
		/* nothing to do: a test will notice the missing line */
	}
	close(fd);
}

SYSLOG_INTERPOSE(to_file)
