/* What a record becomes when it crosses to the fleet and back (record
 * format 2; pam_apitoken-bundle(5), RECORD FORMATS).
 *
 * Export (authority): the authority judges what a host cannot. A token an
 * administrator who is not root issued (RECORD_ADMIN_ISSUED) goes out with
 * RECORD_ISSUER_LAPSED once its issuer has left admin_group: a host's own
 * group lookups say nothing about the authority's admin_group. And records
 * go out in the format bundle_format names: format 1 (the default, which
 * hosts of the previous release read) drops owner_uid and maps the new
 * flags to the nearest format-1 state that is no more permissive.
 *
 * Import (host): with uid_binding = local, a record is bound to this
 * host's uid for its owner the first time the host sees it, and keeps that
 * binding at every later import, so an account deleted and made again here
 * (a new uid) does not inherit the token. */
#ifndef TOKENADM_FLEET_RECORDS_H
#define TOKENADM_FLEET_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "tokenadm.h"

/* The bytes a bundle carries for the stored record val under id, into out
 * (RECORD_ENCODED_MAX bytes), length in *outlen: val itself when nothing
 * changes. Returns 0; -1 when val fails its integrity check (nothing
 * damaged may be signed); RECORD_ERR_NEWER for a newer format. */
int fleet_record_for_export(tool *t, const char *id, const uint8_t *val,
			    size_t vallen, uint8_t *out, size_t *outlen);

/* Bind rec (decoded from a bundle) as uid_binding says, looking up what
 * this host held for rec->id before the import in t->reader (NULL: no
 * prior). Returns 1 when rec changed and must be re-encoded, 0 when the
 * bundle's bytes stand, -1 when this host's store cannot be read (the
 * import then fails: a lost binding would hand the token to a new uid). */
int fleet_record_for_import(tool *t, token_record *rec);

/* Export and publish (privileged step, before the store is opened for the
 * bundles): an issuer leaving admin_group changes no record, so the
 * generation would stay and hosts would refuse the bundle that carries the
 * lapse as one they already have (or, pulling, take the pointer as a
 * heartbeat). The set of lapsed tokens is noted in the store; when it
 * changed since the last export, that is a commit (a new generation) whose
 * change log names every token an administrator issued, so deltas carry
 * the lapse too. Returns 0 or -1 (reported). */
int fleet_note_lapses(tool *t);

/* tokenadm init on an existing store: rewrite every format-1 record as
 * format 2, bound to its owner's uid here (RECORD_UID_UNKNOWN when the
 * owner has no account: such a token stays refused); on the authority a
 * token issued for another account by an administrator who is not root
 * gets RECORD_ADMIN_ISSUED. One transaction; nothing when there is no
 * format-1 record. Returns an exit code (reported). */
int store_upgrade_records(tool *t);

#endif
