#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define STATE_FILE_MAX (64 * 1024)
#define MAX_STAMPS     1000

struct stamps {
	time_t t[MAX_STAMPS];
	int n;
};

struct tgotp_state {
	int dirfd;
	int lockfd; /* held (flock) for the duration of every operation */
	const struct tgotp_log *log;
	char buf[STATE_FILE_MAX]; /* file contents, in and out */
	struct stamps stamps;
};

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
	st->dirfd = st->lockfd = -1;
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
	st->lockfd = openat(st->dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (st->lockfd < 0 || fstat(st->lockfd, &s) < 0 || !S_ISREG(s.st_mode) || !owner_ok(&s)) {
		tgotp_log(log, LOG_ERR, "%s/.lock: unusable lock file", dir);
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
	if (st->lockfd >= 0)
		close(st->lockfd);
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st);
}

/* Takes the state lock. -1 (logged) when it cannot be had: the caller
 * then treats the state as unusable. */
static int lock(struct tgotp_state *st)
{
	int r;

	while ((r = flock(st->lockfd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0)
		tgotp_log(st->log, LOG_ERR, "state: cannot lock: %s", strerror(errno));
	return r;
}

static void unlock(struct tgotp_state *st)
{
	flock(st->lockfd, LOCK_UN);
}

void tgotp_state_encode(const char *key, char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	const unsigned char *p;
	size_t o = 0;

	for (p = (const unsigned char *)key; *p; p++) {
		h = (h ^ *p) * 0x100000001b3ULL;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-') {
			if (o < TGOTP_STATE_NAME_MAX)
				out[o] = (char)*p;
			o++;
		} else {
			if (o + 2 < TGOTP_STATE_NAME_MAX) {
				out[o] = '%';
				out[o + 1] = hex[*p >> 4];
				out[o + 2] = hex[*p & 15];
			}
			o += 3;
		}
	}
	if (o <= TGOTP_STATE_NAME_MAX)
		out[o] = '\0';
	else /* a bucket: the files keep the full key inside */
		snprintf(out, TGOTP_STATE_NAME_MAX + 1, "%%%%%016llx", (unsigned long long)h);
}

/* Reads name into buf (cap bytes, NUL-terminated). Returns the length,
 * -ENOENT, or another negative errno for a file that is not ours. */
static int read_state(struct tgotp_state *st, const char *name, char *buf, size_t cap)
{
	struct stat s;
	ssize_t n;
	int fd, ret;

	fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &s) < 0 || !S_ISREG(s.st_mode) || !owner_ok(&s) || (size_t)s.st_size >= cap) {
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

/* Replaces name with text atomically: write, fsync, rename. */
static int write_state(struct tgotp_state *st, const char *name, const char *text)
{
	char tmp[TGOTP_STATE_NAME_MAX + 16];
	size_t len = strlen(text);
	int fd, ok;

	snprintf(tmp, sizeof(tmp), ".tmp.%s", name);
	unlinkat(st->dirfd, tmp, 0);
	fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		tgotp_log(st->log, LOG_ERR, "state file %s: cannot write: %s", name,
			  strerror(errno));
		return -1;
	}
	ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok && renameat(st->dirfd, tmp, st->dirfd, name) == 0)
		return 0;
	tgotp_log(st->log, LOG_ERR, "state file %s: cannot write: %s", name, strerror(errno));
	unlinkat(st->dirfd, tmp, 0);
	return -1;
}

/* Parses a decimal number that must fill [s, end). */
static int parse_time(const char *s, const char *end, time_t *out)
{
	long long v = 0;

	if (s == end || end - s > 18)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = (time_t)v;
	return 0;
}

/* ---- codes per user per window */

/* Loads the stamps of name still inside the window. Returns 0, 1 when the
 * file is corrupt, or -1 when it cannot be used. */
static int load_stamps(struct tgotp_state *st, const char *name, struct stamps *s, time_t now,
		       long window)
{
	char *p, *nl;
	time_t t;
	int len = read_state(st, name, st->buf, sizeof(st->buf));

	s->n = 0;
	if (len == -ENOENT)
		return 0;
	if (len < 0)
		return -1;
	for (p = st->buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl || parse_time(p, nl, &t) < 0 || s->n == MAX_STAMPS)
			return 1;
		if (t > now)
			t = now; /* the clock went back: count it from now */
		if (t > now - window)
			s->t[s->n++] = t;
	}
	return 0;
}

static int save_stamps(struct tgotp_state *st, const char *name, const struct stamps *s)
{
	size_t o = 0;
	int i;

	st->buf[0] = '\0';
	for (i = 0; i < s->n && o < sizeof(st->buf) - 24; i++)
		o += (size_t)snprintf(st->buf + o, sizeof(st->buf) - o, "%lld\n",
				      (long long)s->t[i]);
	return write_state(st, name, st->buf);
}

static void rate_name(const char *user, char *out, size_t len)
{
	char enc[TGOTP_STATE_NAME_MAX + 1];

	tgotp_state_encode(user, enc);
	snprintf(out, len, "rate.%s", enc);
}

enum tgotp_verdict tgotp_state_rate_take(struct tgotp_state *st, const char *user, long limit,
					 long window, time_t now, long *retry_after)
{
	struct stamps *s = &st->stamps;
	enum tgotp_verdict v = TGOTP_STATE_ERROR;
	char name[TGOTP_STATE_NAME_MAX + 8];
	time_t oldest;
	int i, r;

	*retry_after = 0;
	rate_name(user, name, sizeof(name));
	if (lock(st) < 0)
		return TGOTP_STATE_ERROR;
	r = load_stamps(st, name, s, now, window);
	if (r < 0)
		goto out;
	if (r > 0) {
		/* SECURITY: a corrupt count is a full one, not an empty one. */
		tgotp_log(st->log, LOG_ERR, "state file %s is corrupt: treated as full", name);
		for (s->n = 0; s->n < limit && s->n < MAX_STAMPS; s->n++)
			s->t[s->n] = now;
	}
	if (s->n >= limit) {
		for (oldest = now, i = 0; i < s->n; i++)
			if (s->t[i] < oldest)
				oldest = s->t[i];
		*retry_after = (long)(oldest + window - now);
		v = TGOTP_STATE_LIMITED;
		if (r > 0)
			save_stamps(st, name, s);
		goto out;
	}
	s->t[s->n++] = now;
	v = save_stamps(st, name, s) == 0 ? TGOTP_STATE_OK : TGOTP_STATE_ERROR;
out:
	unlock(st);
	return v;
}

void tgotp_state_rate_give_back(struct tgotp_state *st, const char *user, time_t now)
{
	struct stamps *s = &st->stamps;
	char name[TGOTP_STATE_NAME_MAX + 8];
	int i;

	rate_name(user, name, sizeof(name));
	if (lock(st) < 0)
		return;
	if (load_stamps(st, name, s, now, 86400 * 365) == 0) {
		for (i = s->n - 1; i >= 0 && s->t[i] != now; i--)
			;
		if (i >= 0) {
			s->t[i] = s->t[--s->n];
			save_stamps(st, name, s);
		}
	}
	unlock(st);
}

/* ---- codes per UTC day for the host */

/* Today's count from "YYYY-MM-DD N\n". Returns 0, 1 when corrupt, -1 when
 * unusable. A file of another day counts 0. */
static int load_budget(struct tgotp_state *st, const char *today, long *count)
{
	char day[16];
	int len = read_state(st, "budget", st->buf, sizeof(st->buf)), used = 0;

	*count = 0;
	if (len == -ENOENT)
		return 0;
	if (len < 0)
		return -1;
	if (sscanf(st->buf, "%10s %ld\n%n", day, count, &used) != 2 || used != len || *count < 0)
		return 1;
	if (strcmp(day, today) != 0)
		*count = 0;
	return 0;
}

static int save_budget(struct tgotp_state *st, const char *today, long count)
{
	snprintf(st->buf, sizeof(st->buf), "%s %ld\n", today, count);
	return write_state(st, "budget", st->buf);
}

static void utc_day(time_t now, char out[16])
{
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

enum tgotp_verdict tgotp_state_budget_take(struct tgotp_state *st, long budget, time_t now)
{
	enum tgotp_verdict v = TGOTP_STATE_ERROR;
	char today[16];
	long count;
	int r;

	if (budget <= 0)
		return TGOTP_STATE_OK;
	utc_day(now, today);
	if (lock(st) < 0)
		return TGOTP_STATE_ERROR;
	r = load_budget(st, today, &count);
	if (r < 0)
		goto out;
	if (r > 0) {
		tgotp_log(st->log, LOG_ERR, "state file budget is corrupt: treated as spent");
		save_budget(st, today, budget);
		v = TGOTP_STATE_LIMITED;
	} else if (count >= budget) {
		v = TGOTP_STATE_LIMITED;
	} else {
		v = save_budget(st, today, count + 1) == 0 ? TGOTP_STATE_OK : TGOTP_STATE_ERROR;
	}
out:
	unlock(st);
	return v;
}

void tgotp_state_budget_give_back(struct tgotp_state *st, time_t now)
{
	char today[16];
	long count;

	utc_day(now, today);
	if (lock(st) < 0)
		return;
	if (load_budget(st, today, &count) == 0 && count > 0)
		save_budget(st, today, count - 1);
	unlock(st);
}

/* ---- FLOOD_WAIT pauses */

enum tgotp_verdict tgotp_state_flood_check(struct tgotp_state *st, time_t now, time_t *until)
{
	enum tgotp_verdict v = TGOTP_STATE_OK;
	int len;

	*until = 0;
	if (lock(st) < 0)
		return TGOTP_STATE_ERROR;
	len = read_state(st, "flood", st->buf, sizeof(st->buf));
	if (len == -ENOENT)
		goto out;
	if (len < 0 || len < 2 || st->buf[len - 1] != '\n' ||
	    parse_time(st->buf, st->buf + len - 1, until) < 0) {
		tgotp_log(st->log, LOG_ERR, "state file flood is unusable: pausing 60 s");
		*until = now + 60;
		snprintf(st->buf, sizeof(st->buf), "%lld\n", (long long)*until);
		write_state(st, "flood", st->buf);
	}
	if (*until > now + 86400)
		*until = now + 86400; /* written when the clock was far ahead */
	if (now < *until)
		v = TGOTP_STATE_LIMITED;
out:
	unlock(st);
	return v;
}

void tgotp_state_flood_set(struct tgotp_state *st, time_t until)
{
	time_t old = 0;
	int len;

	if (lock(st) < 0)
		return;
	len = read_state(st, "flood", st->buf, sizeof(st->buf));
	if (len > 1 && st->buf[len - 1] == '\n' &&
	    parse_time(st->buf, st->buf + len - 1, &old) == 0 && old > until)
		until = old;
	snprintf(st->buf, sizeof(st->buf), "%lld\n", (long long)until);
	write_state(st, "flood", st->buf);
	unlock(st);
}

/* ---- grace periods */

#define GRACE_FIELD_MAX	 255
#define GRACE_KEY_MAX	 (2 * (3 * GRACE_FIELD_MAX + 2) + 1)
#define GRACE_ENTRIES	 32
#define GRACE_MAX_PERIOD 86400 /* the largest grace_period the configuration allows */

/* hex(user NUL service NUL rhost): exact, whatever the bytes. */
static int grace_key(const char *user, const char *service, const char *rhost, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const char *f[3] = {user, service, rhost};
	const unsigned char *p;
	size_t o = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (!f[i] || strlen(f[i]) > GRACE_FIELD_MAX)
			return -1;
		for (p = (const unsigned char *)f[i]; *p; p++) {
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
		if (i < 2) {
			out[o++] = '0';
			out[o++] = '0';
		}
	}
	out[o] = '\0';
	return 0;
}

static void grace_name(const char *user, char *out, size_t len)
{
	char enc[TGOTP_STATE_NAME_MAX + 1];

	tgotp_state_encode(user, enc);
	snprintf(out, len, "grace.%s", enc);
}

/* Calls fn for each "until key" line of the grace file in st->buf.
 * Returns -1 when a line is malformed. */
static int each_grace(char *text, int (*fn)(time_t until, const char *key, void *arg), void *arg)
{
	char *p, *nl, *sp;
	time_t until;

	for (p = text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		sp = nl ? memchr(p, ' ', (size_t)(nl - p)) : NULL;
		if (!sp || parse_time(p, sp, &until) < 0)
			return -1;
		*nl = '\0';
		if (fn(until, sp + 1, arg))
			return 1;
	}
	return 0;
}

struct grace_match {
	const char *key;
	time_t now;
	long period;
};

static int grace_matches(time_t at, const char *key, void *arg)
{
	const struct grace_match *m = arg;

	return m->now >= at && m->now - at < m->period && strcmp(key, m->key) == 0;
}

bool tgotp_state_grace_check(struct tgotp_state *st, const char *user, const char *service,
			     const char *rhost, time_t now, long period)
{
	char key[GRACE_KEY_MAX], name[TGOTP_STATE_NAME_MAX + 8];
	struct grace_match m = {key, now, period};
	bool ok = false;
	int r;

	/* SECURITY: without a remote host there is nothing to tie the grace
	 * to: a console or a local service never skips the code. */
	if (!rhost || !*rhost || grace_key(user, service, rhost, key) < 0)
		return false;
	grace_name(user, name, sizeof(name));
	if (lock(st) < 0)
		return false;
	if (read_state(st, name, st->buf, sizeof(st->buf)) >= 0) {
		r = each_grace(st->buf, grace_matches, &m);
		if (r < 0) {
			tgotp_log(st->log, LOG_ERR, "state file %s is corrupt: removed", name);
			unlinkat(st->dirfd, name, 0);
		}
		ok = r == 1;
	}
	unlock(st);
	return ok;
}

struct grace_keep {
	const char *key;
	time_t now;
	char *out; /* NULL: only count */
	size_t o, cap;
	int live, skip;
};

/* Entries of other keys verified within the longest grace period. */
static bool grace_live(const struct grace_keep *k, time_t at, const char *key)
{
	return at <= k->now && k->now - at < GRACE_MAX_PERIOD && strcmp(key, k->key) != 0;
}

/* Counts the live entries, or copies the newest GRACE_ENTRIES - 1 of them
 * (the file is in the order of verification). */
static int grace_keep(time_t at, const char *key, void *arg)
{
	struct grace_keep *k = arg;
	int n;

	if (!grace_live(k, at, key))
		return 0;
	if (!k->out) {
		k->live++;
		return 0;
	}
	if (k->skip > 0) {
		k->skip--;
		return 0;
	}
	n = snprintf(k->out + k->o, k->cap - k->o, "%lld %s\n", (long long)at, key);
	if (n > 0 && (size_t)n < k->cap - k->o)
		k->o += (size_t)n;
	return 0;
}

void tgotp_state_grace_record(struct tgotp_state *st, const char *user, const char *service,
			      const char *rhost, time_t now)
{
	char key[GRACE_KEY_MAX], name[TGOTP_STATE_NAME_MAX + 8];
	char *out = malloc(STATE_FILE_MAX), *copy = malloc(STATE_FILE_MAX);
	struct grace_keep k = {key, now, NULL, 0, STATE_FILE_MAX, 0, 0};

	if (!out || !copy || !rhost || !*rhost || grace_key(user, service, rhost, key) < 0)
		goto done;
	grace_name(user, name, sizeof(name));
	out[0] = '\0';
	if (lock(st) < 0)
		goto done;
	if (read_state(st, name, st->buf, sizeof(st->buf)) >= 0) {
		memcpy(copy, st->buf, sizeof(st->buf)); /* each_grace cuts lines */
		if (each_grace(st->buf, grace_keep, &k) == 0) {
			k.out = out;
			k.skip = k.live - (GRACE_ENTRIES - 1);
			each_grace(copy, grace_keep, &k);
		} /* else corrupt: start again */
	}
	snprintf(out + k.o, STATE_FILE_MAX - k.o, "%lld %s\n", (long long)now, key);
	write_state(st, name, out);
	unlock(st);
done:
	free(copy);
	free(out);
}
