#include "logsafe.h"

#include <string.h>

const char *log_safe(const char *s, char *buf, size_t buflen)
{
	size_t i = 0;

	if (!s)
		s = "";
	for (; s[i] && i + 1 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = (char)((c <= 0x20 || c >= 0x7f || c == '=') ? '?' : c);
	}
	buf[i] = '\0';
	if (s[i] && buflen >= 8)
		memcpy(buf + buflen - 4, "...", 4);
	return buf;
}
