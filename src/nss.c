/* SPDX-License-Identifier: BSD-3-Clause */
/* What NSS says about accounts: the account's own name for a login name,
 * and group membership, with growing buffers and errors told apart from
 * "no such user". */
#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nss.h"

#define NSS_BUF_MAX (1024 * 1024)

/* getpwnam_r (is_user) or getgrnam_r into *pw or *gr, with a buffer that
 * grows on ERANGE; the caller frees *buf whatever the result. Returns 1
 * found, 0 not found, -1 error. */
static int nss_get(const char *name, bool is_user, struct passwd *pw, struct group *gr, char **buf)
{
	size_t size = 16384;
	int err;

	*buf = NULL;
	for (;;) {
		struct passwd *pwp = NULL;
		struct group *grp = NULL;
		char *nbuf = realloc(*buf, size);

		if (!nbuf)
			return -1;
		*buf = nbuf;
		err = is_user ? getpwnam_r(name, pw, *buf, size, &pwp)
			      : getgrnam_r(name, gr, *buf, size, &grp);
		if (err == ERANGE && size < NSS_BUF_MAX) {
			size *= 2;
			continue;
		}
		/* getpwnam_r(3): these say "no such name" as well as 0. */
		if (err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM)
			return is_user ? pwp != NULL : grp != NULL;
		return -1;
	}
}

/* The primary gid of a user, or the gid of a group. Returns 1 found, 0 not
 * found, -1 error. */
static int lookup_gid(const char *name, bool is_user, gid_t *gid)
{
	struct passwd pw;
	struct group gr;
	char *buf;
	int ret = nss_get(name, is_user, &pw, &gr, &buf);

	if (ret == 1)
		*gid = is_user ? pw.pw_gid : gr.gr_gid;
	free(buf);
	return ret;
}

int tgotp_canonical_user(const char *user, char *out, size_t outlen, const struct tgotp_log *log)
{
	struct passwd pw;
	char *buf, field[TGOTP_LOG_FIELD_MAX];
	int ret = nss_get(user, true, &pw, NULL, &buf);

	if (ret == 1 && (!pw.pw_name || !*pw.pw_name || strlen(pw.pw_name) >= outlen))
		ret = -1;
	if (ret == 1)
		strcpy(out, pw.pw_name);
	else if (ret < 0)
		tgotp_log(log, LOG_ERR, "nss: cannot look up user %s",
			  tgotp_log_field(user, field, sizeof(field)));
	free(buf);
	return ret;
}

/* The user's groups in a malloc'd array. -1 on error. */
static int user_gids(const char *user, gid_t primary, gid_t **out)
{
	int n = 64;
	gid_t *gids = NULL, *g;

	for (;;) {
		g = realloc(gids, (size_t)n * sizeof(*gids));
		if (!g) {
			free(gids);
			return -1;
		}
		gids = g;
		if (getgrouplist(user, primary, gids, &n) >= 0)
			break;
		if (n > 65536) {
			free(gids);
			return -1;
		}
	}
	*out = gids;
	return n;
}

/* 1 when user is in one of groups, 0 when not, -1 when NSS could not tell
 * or one of the groups does not exist. Every group is looked at, so that
 * the answer does not depend on their order. key names the setting in the
 * log, unknown says what a group that does not exist leads to. */
static int member(const char *user, char *const *groups, size_t ngroups, const char *key,
		  const char *unknown, const struct tgotp_log *log)
{
	gid_t primary = 0, gid = 0, *gids = NULL;
	char field[TGOTP_LOG_FIELD_MAX];
	int n, i, in = 0, err = 0, found;
	size_t k;

	found = lookup_gid(user, true, &primary);
	if (found <= 0) {
		if (found < 0)
			tgotp_log(log, LOG_ERR, "%s: cannot look up user %s", key,
				  tgotp_log_field(user, field, sizeof(field)));
		return found;
	}
	n = user_gids(user, primary, &gids);
	if (n < 0) {
		tgotp_log(log, LOG_ERR, "%s: cannot list the groups of %s", key,
			  tgotp_log_field(user, field, sizeof(field)));
		return -1;
	}
	for (k = 0; k < ngroups; k++) {
		found = lookup_gid(groups[k], false, &gid);
		if (found < 0) {
			tgotp_log(log, LOG_ERR, "%s: cannot look up group \"%s\"", key, groups[k]);
			err = 1;
		} else if (found == 0) {
			/* SECURITY: a typo, a renamed group or a group whose
			 * directory is down must not let anyone through. */
			tgotp_log(log, LOG_ERR, "%s: group \"%s\" does not exist: %s", key,
				  groups[k], unknown);
			err = 1;
		} else {
			for (i = 0; i < n; i++)
				if (gids[i] == gid)
					in = 1;
		}
	}
	free(gids);
	return err ? -1 : in;
}

int tgotp_user_in_groups(const char *user, char *const *groups, size_t ngroups,
			 const struct tgotp_log *log)
{
	return member(user, groups, ngroups, "groups", "asking for a code", log);
}

bool tgotp_user_exempt(const char *user, char *const *groups, size_t ngroups,
		       const struct tgotp_log *log)
{
	return member(user, groups, ngroups, "exempt_groups", "exempting nobody", log) == 1;
}
