/* Durations, dates and RFC 3339 times as tokenadm and the config use them. */
#ifndef APITOKEN_DURATION_H
#define APITOKEN_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* "30m", "12h", "90d", "4w" (also "s" for seconds): a positive whole number
 * and one unit, nothing else. Overflow and zero are errors. Returns 0 or -1. */
int duration_parse(const char *text, int64_t *seconds);

/* An expiry as tokenadm accepts it: a DURATION (from now), a DATE
 * "2027-01-31" (valid through that whole day, UTC: *when is 00:00:00 UTC of
 * the next day, since a token is refused once now >= its expiry),
 * an RFC 3339 time ("2027-01-31T12:00:00Z" or with a +hh:mm offset), or
 * "never" (stored as 0). Returns 0 or -1. */
int expiry_parse(const char *text, int64_t now, int64_t *when);

/* UTC seconds since the epoch as "2027-01-31T12:00:00Z". buflen >= 21.
 * Returns 0 or -1. */
int time_format_rfc3339(int64_t t, char *buf, size_t buflen);

#endif
