/* Group membership through NSS, for the `groups` setting. */
#ifndef TGOTP_GROUPS_H
#define TGOTP_GROUPS_H

#include <stddef.h>

#include "log.h"

/* 1 when user is in one of groups (primary or supplementary), 0 when not
 * (or when the user does not exist), -1 when NSS could not tell or a
 * configured group does not exist: the caller must then ask for a code
 * rather than let the user through. */
int tgotp_user_in_groups(const char *user, char *const *groups, size_t ngroups,
			 const struct tgotp_log *log);

#endif
