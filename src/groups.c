#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "groups.h"

#define NSS_BUF_MAX (1024 * 1024)

/* getpwnam_r/getgrnam_r with a buffer that grows on ERANGE. Returns 1
 * found, 0 not found, -1 error. */
static int lookup_gid(const char *name, bool is_user, gid_t *gid)
{
	size_t size = 16384;
	char *buf = NULL;
	int err, ret = -1;

	for (;;) {
		struct passwd pw, *pwp = NULL;
		struct group gr, *grp = NULL;
		char *nbuf = realloc(buf, size);

		if (!nbuf)
			break;
		buf = nbuf;
		err = is_user ? getpwnam_r(name, &pw, buf, size, &pwp)
			      : getgrnam_r(name, &gr, buf, size, &grp);
		if (err == ERANGE && size < NSS_BUF_MAX) {
			size *= 2;
			continue;
		}
		if (err == 0 || err == ENOENT || err == ESRCH)
			ret = (is_user ? pwp != NULL : grp != NULL);
		if (ret == 1)
			*gid = is_user ? pwp->pw_gid : grp->gr_gid;
		break;
	}
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

int tgotp_user_in_groups(const char *user, char *const *groups, size_t ngroups,
			 const struct tgotp_log *log)
{
	gid_t primary, gid, *gids = NULL;
	int n, i, ret = 0, found;
	size_t k;

	found = lookup_gid(user, true, &primary);
	if (found <= 0) {
		if (found < 0)
			tgotp_log(log, LOG_ERR, "groups: cannot look up user \"%s\"", user);
		return found;
	}
	n = user_gids(user, primary, &gids);
	if (n < 0) {
		tgotp_log(log, LOG_ERR, "groups: cannot list the groups of \"%s\"", user);
		return -1;
	}
	for (k = 0; k < ngroups && ret == 0; k++) {
		found = lookup_gid(groups[k], false, &gid);
		if (found < 0) {
			tgotp_log(log, LOG_ERR, "groups: cannot look up group \"%s\"", groups[k]);
			ret = -1;
		} else if (found == 0) {
			/* SECURITY: a typo, a renamed group or a group whose
			 * directory is down must not exempt everyone. */
			tgotp_log(log, LOG_ERR,
				  "groups: group \"%s\" does not exist: asking for a code",
				  groups[k]);
			ret = -1;
		} else {
			for (i = 0; i < n; i++)
				if (gids[i] == gid)
					ret = 1;
		}
	}
	free(gids);
	return ret;
}
