/* SPDX-License-Identifier: BSD-3-Clause */
/* The state directory: opened safely, locks with a deadline, files
 * replaced atomically, user names encoded into file names, users' sections
 * of the per-user files. The layout is described in state.h, the limits
 * are in state_limits.c, grace periods in state_grace.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "state.h"
#include "state_io.h"
#include "text.h"

static bool owner_ok(const struct stat *s)
{
	return s->st_uid == 0 && (s->st_mode & (S_IRWXG | S_IRWXO)) == 0;
}

struct tgotp_state *tgotp_state_open(const char *dir, const struct tgotp_log *log)
{
	struct tgotp_state *st = calloc(1, sizeof(*st));
	struct stat s;

	if (!st)
		return NULL;
	st->log = log;
	st->dirfd = -1;
	st->lock_ms = TGOTP_STATE_LOCK_MS;
	st->hash_mask = UINT64_MAX;
	st->dir = strdup(dir);
	if (!st->dir)
		goto fail;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		tgotp_log(log, LOG_ERR, "%s: cannot create: %s", dir, strerror(errno));
	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->dirfd < 0 || fstat(st->dirfd, &s) < 0) {
		tgotp_log(log, LOG_ERR, "%s: cannot open state directory: %s", dir,
			  strerror(errno));
		goto fail;
	}
	if (!owner_ok(&s)) {
		tgotp_log(log, LOG_ERR, "%s: refusing to use it: must be owned by root, mode 0700",
			  dir);
		goto fail;
	}
	return st;
fail:
	tgotp_state_close(st);
	return NULL;
}

void tgotp_state_close(struct tgotp_state *st)
{
	if (!st)
		return;
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st->dir);
	free(st);
}

static long long monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* flock(LOCK_EX) given up after ms: 0, -EWOULDBLOCK, or another -errno.
 * SECURITY: a local user can stop their own sudo (SIGSTOP, Ctrl-Z) while
 * it holds a lock; waiting for it without end would hang every login that
 * needs the lock. No SIGALRM: the signals belong to the host program. */
static int lock_within(int fd, long ms)
{
	long long end = monotonic_ms() + ms;
	unsigned n = (unsigned)getpid();
	struct timespec pause = {0, 0};

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (monotonic_ms() >= end)
			return -EWOULDBLOCK;
		/* 10 to 20 ms, varied so that waiting logins do not retry in
		 * step with each other */
		pause.tv_nsec = (10 + (long)(n++ % 11)) * 1000000L;
		nanosleep(&pause, NULL);
	}
}

enum tgotp_verdict tgotp_state_lock(struct tgotp_state *st, const char *user, int *fd)
{
	char name[TGOTP_STATE_NAME_MAX + 8] = ".lock";
	enum tgotp_verdict v = TGOTP_STATE_ERROR;
	const char *why;
	struct stat s;
	int r;

	if (user)
		tgotp_state_name(st, "lock.", user, name);
	*fd = openat(st->dirfd, name,
		     O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
	if (*fd < 0 || fstat(*fd, &s) < 0)
		why = strerror(errno);
	else
		why = tgotp_file_unsafe(&s, TGOTP_FILE_SECRET);
	if (why) {
		tgotp_log(st->log, LOG_ERR, "%s/%s: unusable lock file: %s", st->dir, name, why);
		goto fail;
	}
	r = lock_within(*fd, st->lock_ms);
	if (r == 0)
		return TGOTP_STATE_OK;
	if (r == -EWOULDBLOCK) {
		tgotp_log(st->log, LOG_ERR,
			  "%s/%s: lock not had within %ld ms: another process holds it (a "
			  "stopped login?)",
			  st->dir, name, st->lock_ms);
		v = TGOTP_STATE_BUSY;
	} else {
		tgotp_log(st->log, LOG_ERR, "%s/%s: cannot lock: %s", st->dir, name, strerror(-r));
	}
fail:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return v;
}

void tgotp_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* the lock goes with the last descriptor */
}

/* key with bytes outside [A-Za-z0-9_-] written as %XX, into out as far as
 * cap allows (NUL-terminated when it all fits). Returns its full length. */
static size_t escape(const char *key, char *out, size_t cap)
{
	const unsigned char *p;
	size_t o = 0;

	for (p = (const unsigned char *)key; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-') {
			if (o + 1 < cap)
				out[o] = (char)*p;
			o++;
		} else {
			if (o + 3 < cap) {
				out[o] = '%';
				tgotp_hex_byte(out + o + 1, *p);
			}
			o += 3;
		}
	}
	if (o < cap)
		out[o] = '\0';
	return o;
}

static void encode(const char *key, char *out, uint64_t mask)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	const unsigned char *p;

	if (escape(key, out, TGOTP_STATE_NAME_MAX + 1) <= TGOTP_STATE_NAME_MAX)
		return;
	for (p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	/* a bucket: the files keep the full name inside */
	snprintf(out, TGOTP_STATE_NAME_MAX + 1, "%%%%%016llx", (unsigned long long)(h & mask));
}

void tgotp_state_encode(const char *key, char *out)
{
	encode(key, out, UINT64_MAX);
}

void tgotp_state_name(const struct tgotp_state *st, const char *prefix, const char *user,
		      char out[TGOTP_STATE_NAME_MAX + 8])
{
	char enc[TGOTP_STATE_NAME_MAX + 1];

	encode(user, enc, st->hash_mask);
	snprintf(out, TGOTP_STATE_NAME_MAX + 8, "%s%s", prefix, enc);
}

int tgotp_state_read(struct tgotp_state *st, const char *name, char *buf, size_t cap)
{
	struct stat s;
	ssize_t n;
	int fd, ret;

	fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &s) < 0 || tgotp_file_unsafe(&s, TGOTP_FILE_SECRET) ||
	    (size_t)s.st_size >= cap) {
		tgotp_log(st->log, LOG_ERR,
			  "state file %s: not a root-only regular file of sane size", name);
		ret = -EPERM;
		goto out;
	}
	n = read(fd, buf, cap - 1);
	ret = n < 0 ? -errno : (int)n;
	buf[n < 0 ? 0 : n] = '\0';
out:
	close(fd);
	return ret;
}

struct part {
	const char *p;
	size_t len;
};

static int write_parts(struct tgotp_state *st, const char *name, const struct part *part,
		       int nparts)
{
	char tmp[TGOTP_STATE_NAME_MAX + 16];
	bool ok = true;
	int fd, i;

	snprintf(tmp, sizeof(tmp), ".tmp.%s", name);
	unlinkat(st->dirfd, tmp, 0);
	fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		tgotp_log(st->log, LOG_ERR, "state file %s: cannot write: %s", name,
			  strerror(errno));
		return -1;
	}
	for (i = 0; i < nparts && ok; i++)
		ok = write(fd, part[i].p, part[i].len) == (ssize_t)part[i].len;
	ok = ok && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok && renameat(st->dirfd, tmp, st->dirfd, name) == 0) {
		/* the rename lasts only once the directory is on disk: after a
		 * crash the old file, with a count from before the codes just
		 * sent, could come back */
		if (fsync(st->dirfd) == 0)
			return 0;
		tgotp_log(st->log, LOG_ERR, "%s: cannot sync the state directory: %s", st->dir,
			  strerror(errno));
		return -1;
	}
	tgotp_log(st->log, LOG_ERR, "state file %s: cannot write: %s", name, strerror(errno));
	unlinkat(st->dirfd, tmp, 0);
	return -1;
}

int tgotp_state_write(struct tgotp_state *st, const char *name, const char *text)
{
	struct part p = {text, strlen(text)};

	return write_parts(st, name, &p, 1);
}

/* ---- users' sections of a per-user file */

#define SECTION_HEAD_MAX (sizeof("user \n") + 3 * TGOTP_USER_NAME_MAX)

/* The line that opens user's section, "user <esc>\n"; -1 when too long. */
static int section_head(const char *user, char out[SECTION_HEAD_MAX])
{
	size_t n;

	memcpy(out, "user ", 5);
	n = escape(user, out + 5, SECTION_HEAD_MAX - 6);
	if (n >= SECTION_HEAD_MAX - 6)
		return -1;
	memcpy(out + 5 + n, "\n", 2);
	return 0;
}

int tgotp_state_read_user(struct tgotp_state *st, const char *name, const char *user)
{
	char head[SECTION_HEAD_MAX], *p, *w = st->buf, *nl;
	bool own = true; /* lines before any "user" line: an older version's */
	size_t n, head_len;
	int len;

	st->buf[0] = st->others[0] = '\0';
	st->others_len = 0;
	if (section_head(user, head) < 0) {
		tgotp_log(st->log, LOG_ERR, "state file %s: user name longer than %d bytes", name,
			  TGOTP_USER_NAME_MAX);
		return -ENAMETOOLONG;
	}
	head_len = strlen(head);
	len = tgotp_state_read(st, name, st->buf, sizeof(st->buf));
	if (len < 0)
		return len == -ENOENT ? 0 : len;
	/* user's lines move to the front of buf (never past where they are
	 * read from); the others' lines, their "user" lines included, are
	 * copied to others as they are */
	for (p = st->buf; *p; p += n) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl + 1 - p) : strlen(p);
		if (strncmp(p, "user ", 5) == 0) {
			own = n == head_len && memcmp(p, head, n) == 0;
			if (own)
				continue;
		}
		if (own) {
			memmove(w, p, n);
			w += n;
		} else {
			memcpy(st->others + st->others_len, p, n);
			st->others_len += n;
		}
	}
	*w = '\0';
	st->others[st->others_len] = '\0';
	return (int)(w - st->buf);
}

int tgotp_state_write_user(struct tgotp_state *st, const char *name, const char *user,
			   const char *text)
{
	char head[SECTION_HEAD_MAX];
	struct part p[3];
	size_t len = strlen(text);
	int n = 0;

	if (section_head(user, head) < 0)
		return -1;
	if (len > 0) {
		p[n++] = (struct part){head, strlen(head)};
		p[n++] = (struct part){text, len};
	}
	p[n++] = (struct part){st->others, st->others_len};
	/* a file larger than tgotp_state_read accepts would make the state
	 * of every user of the bucket unusable */
	if (strlen(head) + len + st->others_len >= STATE_FILE_MAX) {
		tgotp_log(st->log, LOG_ERR, "state file %s: would grow past %d bytes: not written",
			  name, STATE_FILE_MAX);
		return -1;
	}
	return write_parts(st, name, p, n);
}

enum tgotp_verdict tgotp_state_clear_user(struct tgotp_state *st, const char *prefix,
					  const char *user)
{
	char name[TGOTP_STATE_NAME_MAX + 8];
	enum tgotp_verdict v;
	int lock;

	tgotp_state_name(st, prefix, user, name);
	if ((v = tgotp_state_lock(st, user, &lock)) != TGOTP_STATE_OK)
		return v;
	if (tgotp_state_read_user(st, name, user) < 0 ||
	    tgotp_state_write_user(st, name, user, "") != 0)
		v = TGOTP_STATE_ERROR;
	tgotp_state_unlock(lock);
	return v;
}

int tgotp_state_parse_time(const char *s, const char *end, time_t *out)
{
	long long v;

	if (tgotp_parse_decimal(s, (size_t)(end - s), STATE_TIME_MAX, &v) < 0)
		return -1;
	*out = (time_t)v;
	return 0;
}

/* ---- the users that have state (tgotp state) */

/* The reverse of escape(): n bytes of in into out (cap bytes); -1 when
 * they are not an escaped name. */
static int unescape(const char *in, size_t n, char *out, size_t cap)
{
	unsigned int c;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (o + 1 >= cap)
			return -1;
		if (in[i] != '%') {
			out[o++] = in[i];
			continue;
		}
		if (i + 2 >= n || sscanf(in + i + 1, "%2x", &c) != 1 || c == 0)
			return -1;
		out[o++] = (char)c;
		i += 2;
	}
	out[o] = '\0';
	return o > 0 ? 0 : -1;
}

struct names {
	char **v;
	size_t n, cap;
};

static int add_name(struct names *a, const char *in, size_t n)
{
	char name[3 * TGOTP_USER_NAME_MAX + 1], **v;

	if (unescape(in, n, name, sizeof(name)) < 0)
		return 0; /* a hashed file name: its sections name the users */
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		v = realloc(a->v, a->cap * sizeof(*v));
		if (!v)
			return -1;
		a->v = v;
	}
	if (!(a->v[a->n] = strdup(name)))
		return -1;
	a->n++;
	return 0;
}

/* The users of one per-user file: its sections, or its name for lines
 * written before sections existed. */
static int file_users(struct tgotp_state *st, const char *file, const char *enc, struct names *a)
{
	char *p, *nl;
	bool headed = false;
	int len = tgotp_state_read(st, file, st->buf, sizeof(st->buf)), r = 0;

	if (len < 0)
		return 0; /* gone meanwhile, or not ours (logged) */
	for (p = st->buf; *p && r == 0; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (strncmp(p, "user ", 5) == 0) {
			headed = true;
			r = add_name(a, p + 5, (nl ? (size_t)(nl - p) : strlen(p)) - 5);
		} else if (!headed) {
			headed = true;
			r = add_name(a, enc, strlen(enc));
		}
	}
	return r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **tgotp_state_users(struct tgotp_state *st)
{
	struct names a = {NULL, 0, 0};
	struct dirent *e;
	size_t i, o;
	int fd = dup(st->dirfd), r = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		tgotp_log(st->log, LOG_ERR, "%s: cannot list: %s", st->dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	while (r == 0 && (e = readdir(d))) {
		if (strncmp(e->d_name, "rate.", 5) == 0)
			r = file_users(st, e->d_name, e->d_name + 5, &a);
		else if (strncmp(e->d_name, "grace.", 6) == 0)
			r = file_users(st, e->d_name, e->d_name + 6, &a);
	}
	closedir(d);
	if (r == 0 && !a.v)
		a.v = calloc(1, sizeof(*a.v)); /* nobody */
	if (r < 0 || !a.v) {
		if (a.v)
			a.v[a.n] = NULL; /* add_name keeps room for it */
		tgotp_state_users_free(a.v);
		tgotp_log(st->log, LOG_ERR, "%s: out of memory", st->dir);
		return NULL;
	}
	qsort(a.v, a.n, sizeof(*a.v), cmp_name);
	for (i = o = 0; i < a.n; i++) {
		if (o > 0 && strcmp(a.v[o - 1], a.v[i]) == 0)
			free(a.v[i]);
		else
			a.v[o++] = a.v[i];
	}
	a.v[o] = NULL;
	return a.v;
}

void tgotp_state_users_free(char **users)
{
	size_t i;

	for (i = 0; users && users[i]; i++)
		free(users[i]);
	free(users);
}
