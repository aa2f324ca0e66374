/* tokenadm's JSON output beyond one record: the error object every
 * failing command prints under --json, lists of names, durations.
 * tokenadm(8), JSON OUTPUT, is the contract these follow. */
#ifndef TOKENADM_JSON_OUT_H
#define TOKENADM_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>

/* Is this run's output JSON (main: "--json" among the arguments)? Then a
 * failure prints {"error","exit","field"} on stdout (json_error_print). */
void json_mode_set(bool on);
bool json_mode(void);

/* Which input a failure is about ("name", "expires", "allow_from",
 * "deny_from", "service", "grace", "id", "user", "password", ...): set
 * where the failure is found, just before or after its message; only on
 * a failure, which ends the command. The first one set wins. */
void json_fail_field(const char *field);

/* Remember msg as the error to show (warnx_ calls this with every
 * message; the first one after json_mode_set is the cause, later ones
 * are its consequences). */
void json_note_message(const char *msg);

/* The error object, one line on stdout, for exit status rc (not 0). */
void json_error_print(int rc);

/* A space- or comma-separated list ("10.0.0.0/8 local") as a JSON array
 * of strings; "" is []. */
void json_string_list(const char *list);

/* A duration as tokenadm's own syntax ("90d", "12h", "30m", "45s"), the
 * largest unit that divides it. */
void json_format_duration(int64_t seconds, char buf[32]);

#endif
