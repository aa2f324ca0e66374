/* tokenadm policy --json (see policy_json.c). */
#ifndef TOKENADM_POLICY_JSON_H
#define TOKENADM_POLICY_JSON_H

#include <stdbool.h>

#include "tokenadm.h"

/* Print the policy of user as one JSON object; store_open: the store
 * could be opened (tokens_held is counted, else null). Returns an exit
 * code (reported). */
int policy_json(tool *t, const char *user, bool store_open);

#endif
