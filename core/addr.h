/* Host rules: parsing "allow/deny" lists of addresses, CIDR ranges and the
 * word "local", and matching a PAM_RHOST against them.
 *
 * Pure functions, no DNS, no allocation on the match path: the module calls
 * these on every login. */
#ifndef APITOKEN_ADDR_H
#define APITOKEN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One rule. family is AF_INET or AF_INET6, or 0 for the word "local". IPv4
 * rules and clients are kept as AF_INET (4 bytes in addr); "::ffff:a.b.c.d"
 * is turned into AF_INET when parsed, so it matches IPv4 rules. */
typedef struct addr_rule {
	int family;
	uint8_t addr[16];
	unsigned prefix; /* 0..32 or 0..128; host bits are masked off */
} addr_rule;

typedef struct addr_list {
	addr_rule *rules;
	size_t n;
} addr_list;

/* What a client is, once PAM_RHOST has been read. */
typedef enum {
	ADDR_CLIENT_LOCAL,   /* PAM_RHOST absent or empty */
	ADDR_CLIENT_IP,      /* a numeric IPv4/IPv6 address */
	ADDR_CLIENT_INVALID, /* hostname, garbage, zone id, overlong, "UNKNOWN" */
} addr_client_kind;

typedef struct addr_client {
	addr_client_kind kind;
	int family;
	uint8_t addr[16];
} addr_client;

typedef enum {
	ADDR_ALLOWED = 0,
	ADDR_DENIED,      /* matched a deny rule, or no allow rule matched */
	ADDR_BAD_RHOST,   /* rules exist but the client is not a usable address */
} addr_verdict;

/* Parse a list separated by spaces and/or commas ("10.0.0.0/8, ::1 local").
 * An empty or all-blank text gives an empty list. Returns 0, or -1 with a
 * short reason in err (which names the offending word) and *out empty. */
int addr_list_parse(const char *text, addr_list *out, char *err, size_t errlen);

/* Append the rules of one list to another (for building lists from repeated
 * command-line flags). Returns 0 or -1 on allocation failure. */
int addr_list_append(addr_list *dst, const addr_list *src);

void addr_list_free(addr_list *list);

/* Write a list back as canonical text ("10.0.0.0/8 ::1/128 local").
 * Returns 0, or -1 if it does not fit. */
int addr_list_format(const addr_list *list, char *buf, size_t buflen);

/* Classify PAM_RHOST (NULL allowed). Never does DNS. */
void addr_client_parse(const char *rhost, addr_client *out);

/* A client's address in its canonical text (RFC 5952 for IPv6; a mapped
 * IPv4 as a.b.c.d), so that Tomcat's "0:0:0:0:0:0:0:1" and Apache's "::1"
 * read the same in listings. Returns 0, or -1 if client is not an IP. */
int addr_client_format(const addr_client *client, char *buf, size_t buflen);

bool addr_list_match(const addr_list *list, const addr_client *client);

/* The rule of pam_apitoken(8), HOST RULES, for one pair of lists: no rules
 * at all allows anyone; otherwise an invalid client is refused, a client
 * matching any deny rule is refused, a client with no PAM_RHOST is admitted
 * only by an allow rule "local" (ADDR_BAD_RHOST otherwise), and if any
 * allow rule exists the client must match one. */
addr_verdict addr_check(const addr_list *allow, const addr_list *deny,
			const addr_client *client);

#endif
