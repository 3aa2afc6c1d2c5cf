/* SPDX-License-Identifier: BSD-3-Clause */
/* What NSS says about accounts: the account's own name for a login name,
 * and group membership for the `groups` setting. */
#ifndef TGOTP_NSS_H
#define TGOTP_NSS_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

/* 1 when user is in one of groups (primary or supplementary), 0 when not
 * (or when the user does not exist), -1 when NSS could not tell or a
 * configured group does not exist: the caller must then ask for a code
 * rather than let the user through. */
int tgotp_user_in_groups(const char *user, char *const *groups, size_t ngroups,
			 const struct tgotp_log *log);

/* Whether user is in one of groups (exempt_groups). SECURITY: only a sure
 * yes exempts: when NSS cannot tell, or any of the groups does not exist
 * (a typo, a renamed group), nobody is exempt (logged). */
bool tgotp_user_exempt(const char *user, char *const *groups, size_t ngroups,
		       const struct tgotp_log *log);

/* The account's own name (pw_name) for the name a login was given: with a
 * case-insensitive directory (sssd, winbind) "Alice", "ALICE" and
 * "alice@realm" are all alice. 1 with the name in out (outlen bytes), 0 when
 * NSS does not know the name (out is left alone), -1 when NSS could not
 * tell or the name does not fit (logged). */
int tgotp_canonical_user(const char *user, char *out, size_t outlen, const struct tgotp_log *log);

#endif
