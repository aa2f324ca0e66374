/* Last use, this host's and the fleet's (see lastuse_view.c). */
#ifndef TOKENADM_LASTUSE_VIEW_H
#define TOKENADM_LASTUSE_VIEW_H

#include "tokenadm.h"

/* In transact, so that report can read after the drop: the key, the
 * store, and this host's and the fleet's last-use records (all, or
 * only_id's). Returns 0 or -1 (reported). */
int lastuse_open(tool *t, const char *only_id);

/* When and from where a token was last used: the newer of this host's
 * and the fleet's record (as lastuse_open read them). */
void lastuse_of(const tool *t, const char *id, lastused *lu);

#endif
