/* The fleet half of tokenadm init (init_fleet.c). Each returns an exit
 * code, having reported what it did or why it could not. */
#ifndef TOKENADM_INIT_FLEET_H
#define TOKENADM_INIT_FLEET_H

#include <sys/types.h>

#include "fleet.h"
#include "tokenadm.h"

/* Install the authority's site key from src at cfg.key_path (mode, gid
 * as for a new key); an identical key already there is kept, a different
 * one is never replaced. */
int init_install_site_key(tool *t, const char *src, mode_t mode, gid_t gid);

/* Copy the authority's public key src beside the site key, named by its
 * fingerprint; *dest is the new path (free it), or NULL when the config
 * already trusts that key. */
int init_install_trusted_key(tool *t, const char *src, char **dest);

/* Add role = import-only (unless the config sets a role) and
 * trusted_key = trusted_dest (unless NULL) to the config, before its
 * first [group] section, rewriting it atomically. */
int init_mark_import_only(tool *t, const char *trusted_dest);

/* The authority's Ed25519 key pair at cfg.signing_key (kept if there). */
int init_signing_key(tool *t);

#endif
