/* SPDX-License-Identifier: BSD-3-Clause */
/* The user -> phone number map: inline `user` sections of the
 * configuration, then users_file, then the directory (ldapdir.c). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <search.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "ldapdir.h"
#include "users.h"

#define USERS_FILE_MAX (16 * 1024 * 1024)

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int tgotp_users_parse_line(char *line, char **name, char **number)
{
	char *p = line, *end;

	*name = *number = NULL;
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*name = p;
	while (*p && !is_blank(*p))
		p++;
	if (*p == '\0')
		return -1;
	*p++ = '\0';
	while (is_blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_blank(end[-1]))
		*--end = '\0';
	if (*p == '\0' || *p == '#')
		return -1;
	*number = p;
	return 1;
}

/* Normalises a number found for user, logging the masked reason when it
 * does not normalise. Returns 0 when phone was filled. */
static int take_number(const char *where, const char *user, const char *number,
		       const char *default_cc, char phone[TGOTP_PHONE_MAX],
		       const struct tgotp_log *log)
{
	char field[TGOTP_LOG_FIELD_MAX];

	if (tgotp_phone_normalise(number, default_cc, phone) == 0)
		return 0;
	/* SECURITY: a number that failed may still be mostly right: never
	 * log it whole. */
	tgotp_log(log, LOG_WARNING,
		  "%s: phone number of user %s is not valid E.164 (%zu characters), skipped", where,
		  tgotp_log_field(user, field, sizeof(field)), strlen(number));
	return -1;
}

/* tgotp_users_find_in_text, with the number of the line found in *found_at. */
static enum tgotp_lookup find_in_text(const char *text, const char *user, const char *default_cc,
				      char phone[TGOTP_PHONE_MAX], int *found_at,
				      const struct tgotp_log *log)
{
	enum tgotp_lookup ret = TGOTP_LOOKUP_NOT_FOUND;
	char *copy, *line, *save = NULL, *name, *number, where[64];
	int lineno = 0;

	copy = strdup(text);
	if (!copy)
		return TGOTP_LOOKUP_ERROR;
	/* strtok_r would skip empty lines and lose the numbering. */
	for (line = copy; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		if (tgotp_users_parse_line(line, &name, &number) != 1 || strcmp(name, user) != 0)
			continue;
		snprintf(where, sizeof(where), "users file line %d", lineno);
		if (take_number(where, user, number, default_cc, phone, log) == 0) {
			*found_at = lineno;
			ret = TGOTP_LOOKUP_FOUND;
			break;
		}
	}
	tgotp_freezero(copy, strlen(text) + 1);
	return ret;
}

enum tgotp_lookup tgotp_users_find_in_text(const char *text, const char *user,
					   const char *default_cc, char phone[TGOTP_PHONE_MAX],
					   const struct tgotp_log *log)
{
	int line;

	return find_in_text(text, user, default_cc, phone, &line, log);
}

static enum tgotp_lookup find_inline(const struct tgotp_config *c, const char *user,
				     char phone[TGOTP_PHONE_MAX], const struct tgotp_log *log)
{
	size_t i;

	for (i = 0; i < c->nusers; i++)
		if (strcmp(c->users[i].name, user) == 0 &&
		    take_number("configuration user section", user, c->users[i].phone,
				c->default_country_code, phone, log) == 0)
			return TGOTP_LOOKUP_FOUND;
	return TGOTP_LOOKUP_NOT_FOUND;
}

static enum tgotp_lookup find_in_file(const struct tgotp_config *c, const char *user,
				      char phone[TGOTP_PHONE_MAX], int *line,
				      const struct tgotp_log *log)
{
	enum tgotp_lookup ret;
	char *text = NULL;
	size_t len = 0;
	int err;

	err = tgotp_read_file(c->users_file, TGOTP_FILE_PERSONAL, USERS_FILE_MAX, &text, &len, log);
	if (err == -ENOENT)
		return TGOTP_LOOKUP_NOT_FOUND;
	if (err < 0)
		return TGOTP_LOOKUP_ERROR;
	if (memchr(text, '\0', len)) {
		tgotp_log(log, LOG_ERR, "%s: NUL byte in the file", c->users_file);
		ret = TGOTP_LOOKUP_ERROR;
	} else {
		ret = find_in_text(text, user, c->default_country_code, phone, line, log);
	}
	tgotp_freezero(text, len + 1);
	return ret;
}

enum tgotp_lookup tgotp_users_lookup(const struct tgotp_config *c, const char *user,
				     char phone[TGOTP_PHONE_MAX], const struct tgotp_log *log)
{
	struct tgotp_where w;

	return tgotp_users_lookup_where(c, user, phone, &w, log);
}

enum tgotp_lookup tgotp_users_lookup_where(const struct tgotp_config *c, const char *user,
					   char phone[TGOTP_PHONE_MAX], struct tgotp_where *w,
					   const struct tgotp_log *log)
{
	enum tgotp_lookup ret;

	memset(w, 0, sizeof(*w));
	phone[0] = '\0';
	ret = find_inline(c, user, phone, log);
	if (ret == TGOTP_LOOKUP_FOUND)
		w->source = TGOTP_SOURCE_CONFIG;
	if (ret == TGOTP_LOOKUP_NOT_FOUND) {
		ret = find_in_file(c, user, phone, &w->line, log);
		if (ret == TGOTP_LOOKUP_FOUND)
			w->source = TGOTP_SOURCE_USERS_FILE;
	}
	if (ret == TGOTP_LOOKUP_NOT_FOUND && c->ldap.enabled) {
		ret = tgotp_ldap_lookup_dn(&c->ldap, c->default_country_code, user, phone, w->dn,
					   sizeof(w->dn), log);
		if (ret == TGOTP_LOOKUP_FOUND)
			w->source = TGOTP_SOURCE_LDAP;
	}
	return ret;
}

/* ---- checking and editing the file (tgotp check, tgotp enroll) */

struct seen {
	const char *name;
	int line;
};

static int seen_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seen *)a)->name, ((const struct seen *)b)->name);
}

/* Logs user named again at line, when an earlier line named them. */
static void note_seen(void **tree, struct seen *e, const char *name, const struct tgotp_log *log)
{
	struct seen **found = tsearch(e, tree, seen_cmp);
	char field[TGOTP_LOG_FIELD_MAX];

	if (found && *found != e)
		tgotp_log(log, LOG_WARNING,
			  "%s:%d: user %s: also on line %d; the first usable line wins", name,
			  e->line, tgotp_log_field(e->name, field, sizeof(field)), (*found)->line);
}

static void no_free(void *p)
{
	(void)p;
}

int tgotp_users_check_text(const char *name, const char *text, const char *default_cc,
			   const struct tgotp_log *log)
{
	char *copy = strdup(text), *line, *next, *user, *number, phone[TGOTP_PHONE_MAX];
	char field[TGOTP_LOG_FIELD_MAX];
	size_t lines = 1, i;
	struct seen *seen = NULL;
	void *tree = NULL;
	int lineno = 0, bad = 0, r;

	for (i = 0; text[i]; i++)
		lines += text[i] == '\n';
	if (copy)
		seen = calloc(lines, sizeof(*seen));
	if (!copy || !seen) {
		tgotp_log(log, LOG_ERR, "%s: out of memory", name);
		bad = -1;
		goto out;
	}
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		r = tgotp_users_parse_line(line, &user, &number);
		if (r < 0) {
			tgotp_log(log, LOG_ERR, "%s:%d: not a \"user +E164\" line", name, lineno);
			bad++;
		} else if (r == 1 && tgotp_phone_normalise(number, default_cc, phone) < 0) {
			/* SECURITY: never the number itself: it may be mostly right */
			tgotp_log(log, LOG_ERR,
				  "%s:%d: user %s: the phone number is not valid E.164 (%zu "
				  "characters)",
				  name, lineno, tgotp_log_field(user, field, sizeof(field)),
				  strlen(number));
			bad++;
		} else if (r == 1) {
			seen[lineno - 1] = (struct seen){user, lineno};
			note_seen(&tree, &seen[lineno - 1], name, log);
		}
	}
out:
	tdestroy(tree, no_free);
	free(seen);
	if (copy)
		tgotp_freezero(copy, strlen(text) + 1);
	explicit_bzero(phone, sizeof(phone));
	return bad;
}

bool tgotp_users_name_ok(const char *user)
{
	const unsigned char *p = (const unsigned char *)user;

	if (!*p || *p == '#' || strlen(user) > 256)
		return false;
	for (; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* flock on the directory of the file, given up after 2 s. */
static int lock_dir(int dirfd)
{
	struct timespec pause = {0, 20 * 1000000L};
	int i;

	for (i = 0; i < 100; i++) {
		if (flock(dirfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		nanosleep(&pause, NULL);
	}
	errno = EWOULDBLOCK;
	return -1;
}

/* The new contents: old with user's first line replaced by entry and their
 * later lines dropped, or entry appended. NULL when out of memory. */
static char *replace_entry(const char *old, const char *user, const char *entry, size_t *outlen)
{
	size_t len = strlen(old), elen = strlen(entry), o = 0, n;
	char *out = malloc(len + elen + 2), *line = malloc(len + 1), *name, *number;
	const char *p, *nl;
	bool done = false;

	if (!out || !line) {
		free(out);
		free(line);
		return NULL;
	}
	for (p = old; *p; p += n) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl + 1 - p) : strlen(p);
		memcpy(line, p, n);
		line[n] = '\0';
		if (tgotp_users_parse_line(line, &name, &number) == 1 && strcmp(name, user) == 0) {
			if (!done) {
				memcpy(out + o, entry, elen);
				o += elen;
			}
			done = true;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
	}
	if (!done) {
		if (o > 0 && out[o - 1] != '\n')
			out[o++] = '\n';
		memcpy(out + o, entry, elen);
		o += elen;
	}
	out[o] = '\0';
	tgotp_freezero(line, len + 1);
	*outlen = o;
	return out;
}

/* Writes text into a new file beside path, with owner and mode of st, and
 * renames it over path. */
static int write_beside(int dirfd, const char *dir, const char *base, const char *text, size_t len,
			const struct stat *st, const struct tgotp_log *log)
{
	char tmp[4096];
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= sizeof(tmp))
		return -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		tgotp_log(log, LOG_ERR, "%s: cannot create a file: %s", dir, strerror(errno));
		return -1;
	}
	ok = fchown(fd, st->st_uid, st->st_gid) == 0 && fchmod(fd, st->st_mode & 07777) == 0 &&
	     write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok && renameat(AT_FDCWD, tmp, dirfd, base) == 0 && fsync(dirfd) == 0)
		return 0;
	tgotp_log(log, LOG_ERR, "%s/%s: cannot write: %s", dir, base, strerror(errno));
	unlink(tmp);
	return -1;
}

int tgotp_users_set(const char *path, const char *user, const char *e164,
		    const struct tgotp_log *log)
{
	char *pcopy = strdup(path), *bcopy = strdup(path), *dir, *base, *text = NULL, *out = NULL;
	char entry[300 + TGOTP_PHONE_MAX];
	struct stat st = {.st_uid = 0, .st_gid = 0, .st_mode = 0600};
	size_t len = 0, outlen = 0;
	int dirfd = -1, ret = -1, r;

	if (!pcopy || !bcopy || path[0] != '/' || !tgotp_users_name_ok(user))
		goto out;
	dir = dirname(pcopy);
	base = basename(bcopy);
	snprintf(entry, sizeof(entry), "%s %s\n", user, e164);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || lock_dir(dirfd) < 0) {
		tgotp_log(log, LOG_ERR, "%s: cannot lock the directory: %s", dir, strerror(errno));
		goto out;
	}
	r = tgotp_read_file(path, TGOTP_FILE_PERSONAL, USERS_FILE_MAX, &text, &len, log);
	if (r < 0 && r != -ENOENT)
		goto out;
	if (r == 0 && (memchr(text, '\0', len) || fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW))) {
		tgotp_log(log, LOG_ERR, "%s: NUL byte in the file, or it changed", path);
		goto out;
	}
	out = replace_entry(text ? text : "", user, entry, &outlen);
	if (out)
		ret = write_beside(dirfd, dir, base, out, outlen, &st, log);
out:
	if (dirfd >= 0)
		close(dirfd); /* and the lock */
	if (text)
		tgotp_freezero(text, len + 1);
	if (out)
		tgotp_freezero(out, outlen + 1);
	explicit_bzero(entry, sizeof(entry));
	free(pcopy);
	free(bcopy);
	return ret;
}
