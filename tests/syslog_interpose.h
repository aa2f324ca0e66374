/* syslog(3) taken over by a test: the four ways a call reaches libc
 * (syslog, vsyslog, and the _FORTIFY_SOURCE forms __syslog_chk and
 * __vsyslog_chk), each passing the line to one handler. Used by
 * hard_common.c (the module's lines captured in the hard_* programs) and
 * syslog_shim.c (an LD_PRELOAD shim writing them to a file).
 *
 *   static void handler(int pri, const char *fmt, va_list ap);
 *   SYSLOG_INTERPOSE(handler)
 *
 * Exported (the project builds with -fvisibility=hidden) so that calls
 * from libpam, or from the preloading program, bind to these rather than
 * to libc's. (hard_common.c #undefs _FORTIFY_SOURCE first: see there.) */
#ifndef PTK_TEST_SYSLOG_INTERPOSE_H
#define PTK_TEST_SYSLOG_INTERPOSE_H

#include <stdarg.h>

#define SYSLOG_EXPORTED __attribute__((visibility("default")))

#define SYSLOG_INTERPOSE(handler)                                           \
	SYSLOG_EXPORTED void syslog(int pri, const char *fmt, ...)          \
		__attribute__((format(printf, 2, 3)));                      \
	SYSLOG_EXPORTED void vsyslog(int pri, const char *fmt, va_list ap)  \
		__attribute__((format(printf, 2, 0)));                      \
	SYSLOG_EXPORTED void __syslog_chk(int pri, int flag,                \
					  const char *fmt, ...)             \
		__attribute__((format(printf, 3, 4)));                      \
	SYSLOG_EXPORTED void __vsyslog_chk(int pri, int flag,               \
					   const char *fmt, va_list ap)     \
		__attribute__((format(printf, 3, 0)));                      \
	void syslog(int pri, const char *fmt, ...)                          \
	{                                                                   \
		va_list ap;                                                 \
		va_start(ap, fmt);                                          \
		handler(pri, fmt, ap);                                      \
		va_end(ap);                                                 \
	}                                                                   \
	void vsyslog(int pri, const char *fmt, va_list ap)                  \
	{                                                                   \
		handler(pri, fmt, ap);                                      \
	}                                                                   \
	void __syslog_chk(int pri, int flag, const char *fmt, ...)          \
	{                                                                   \
		va_list ap;                                                 \
		(void)flag;                                                 \
		va_start(ap, fmt);                                          \
		handler(pri, fmt, ap);                                      \
		va_end(ap);                                                 \
	}                                                                   \
	void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)  \
	{                                                                   \
		(void)flag;                                                 \
		handler(pri, fmt, ap);                                      \
	}

#endif
