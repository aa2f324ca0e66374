/* Last use as list, show, notify and retire-idle see it: this host's
 * records and, on an authority, the fleet's merged ones. Above the shared
 * layer (tool.c), since it reads the fleet table (cmd_lastused.c). */
#include "lastuse_view.h"

#include <string.h>

#include "fleet.h"

/* In transact, so that report can read after the drop: the key, the
 * store, and this host's and the fleet's last-use records (all, or
 * only_id's). Returns 0 or -1 (reported). */
int lastuse_open(tool *t, const char *only_id)
{
	if (tool_open_store(t) != 0)
		return -1;
	if (lastused_table_load(&t->cfg, only_id, &t->lastused) != 0) {
		warnx_("out of memory");
		return -1;
	}
	return fleet_lastused_load(&t->cfg, t->now, &t->fleet_lastused);
}

/* When and from where a token was last used (as read above). */
void lastuse_of(const tool *t, const char *id, lastused *lu)
{
	lastused fleet;

	lastused_table_get(&t->lastused, id, lu);
	/* The newest of this host's and the fleet's (merged) record. */
	lastused_table_get(&t->fleet_lastused, id, &fleet);
	if (fleet.when > lu->when)
		*lu = fleet;
	/* Written by services, not by us: a time in the future would hide a
	 * token from --unused-for. Allow a day of clock skew. */
	if (lu->when > t->now + 86400)
		memset(lu, 0, sizeof(*lu));
}

