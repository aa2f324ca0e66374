/* Making hostile strings (user names, PAM_RHOST) safe to put in a log line. */
#ifndef APITOKEN_LOGSAFE_H
#define APITOKEN_LOGSAFE_H

#include <stddef.h>

#define LOGSAFE_MAX 72

/* Copy s into buf (buflen >= 8) with every control, space, non-ASCII or
 * '=' byte replaced by '?' (so a user name cannot forge a second log line
 * or a fake "rhost=" field for fail2ban), cut to buflen-1 with a trailing
 * "..." when longer. NULL becomes "". Returns buf. */
const char *log_safe(const char *s, char *buf, size_t buflen);

#endif
