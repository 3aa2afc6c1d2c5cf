/* SPDX-License-Identifier: BSD-3-Clause */
/* Codes per user per window, codes per UTC day, FLOOD_WAIT pauses. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state_limits.h"
#include "state_io.h"
#include "text.h"

/* ---- codes per user per window */

/* Loads the stamps of user (in file name) still inside the window.
 * Returns 0, 1 when the user's lines are corrupt, or -1 when the file
 * cannot be used. */
static int load_stamps(struct tgotp_state *st, const char *name, const char *user, struct stamps *s,
		       time_t now, long window)
{
	s->n = 0;
	if (tgotp_state_read_user(st, name, user) < 0)
		return -1;
	return tgotp_stamps_parse(st->buf, s, now, window);
}

int tgotp_stamps_parse(const char *text, struct stamps *s, time_t now, long window)
{
	const char *p, *nl;
	time_t t;

	s->n = 0;
	for (p = text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl || tgotp_state_parse_time(p, nl, &t) < 0 || s->n == MAX_STAMPS)
			return 1;
		if (t > now)
			t = now; /* the clock went back: count it from now */
		if (t > now - window)
			s->t[s->n++] = t;
	}
	return 0;
}

void tgotp_stamps_format(const struct stamps *s, char *buf, size_t cap)
{
	size_t o = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < s->n && o + 24 < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%lld\n", (long long)s->t[i]);
}

/* Writes the stamps of user back, beside the other users' of the file. */
static int save_stamps(struct tgotp_state *st, const char *name, const char *user,
		       const struct stamps *s)
{
	tgotp_stamps_format(s, st->buf, sizeof(st->buf));
	return tgotp_state_write_user(st, name, user, st->buf);
}

enum tgotp_verdict tgotp_state_rate_take(struct tgotp_state *st, const char *user, long limit,
					 long window, time_t now, long *retry_after)
{
	struct stamps *s = &st->stamps;
	enum tgotp_verdict v;
	char name[TGOTP_STATE_NAME_MAX + 8];
	time_t oldest;
	int i, r, lock;

	*retry_after = 0;
	tgotp_state_name(st, "rate.", user, name);
	if ((v = tgotp_state_lock(st, user, &lock)) != TGOTP_STATE_OK)
		return v;
	v = TGOTP_STATE_ERROR;
	r = load_stamps(st, name, user, s, now, window);
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
			save_stamps(st, name, user, s);
		goto out;
	}
	s->t[s->n++] = now;
	v = save_stamps(st, name, user, s) == 0 ? TGOTP_STATE_OK : TGOTP_STATE_ERROR;
out:
	tgotp_state_unlock(lock);
	return v;
}

enum tgotp_verdict tgotp_state_rate_give_back(struct tgotp_state *st, const char *user, time_t now)
{
	struct stamps *s = &st->stamps;
	char name[TGOTP_STATE_NAME_MAX + 8];
	enum tgotp_verdict v;
	int i, lock;

	tgotp_state_name(st, "rate.", user, name);
	if ((v = tgotp_state_lock(st, user, &lock)) != TGOTP_STATE_OK)
		return v;
	if (load_stamps(st, name, user, s, now, 86400 * 365) != 0)
		v = TGOTP_STATE_ERROR;
	for (i = s->n - 1; v == TGOTP_STATE_OK && i >= 0 && s->t[i] != now; i--)
		;
	if (v == TGOTP_STATE_OK && i >= 0) {
		s->t[i] = s->t[--s->n];
		if (save_stamps(st, name, user, s) != 0)
			v = TGOTP_STATE_ERROR;
	}
	tgotp_state_unlock(lock);
	return v;
}

/* ---- codes per UTC day for the host */

/* Today's count from "YYYY-MM-DD N\n". Returns 0, 1 when corrupt, -1 when
 * unusable. A file of another day counts 0. */
static int load_budget(struct tgotp_state *st, const char *today, long *count)
{
	int len = tgotp_state_read(st, "budget", st->buf, sizeof(st->buf));
	const char *sp = len > 0 ? memchr(st->buf, ' ', (size_t)len) : NULL;
	long long n;

	*count = 0;
	if (len == -ENOENT)
		return 0;
	if (len < 0)
		return -1;
	if (!sp || sp == st->buf || sp - st->buf > 10 || st->buf[len - 1] != '\n' ||
	    tgotp_parse_decimal(sp + 1, (size_t)(st->buf + len - 1 - (sp + 1)), LONG_MAX, &n) < 0)
		return 1;
	if ((size_t)(sp - st->buf) == strlen(today) && memcmp(st->buf, today, strlen(today)) == 0)
		*count = (long)n;
	return 0;
}

static int save_budget(struct tgotp_state *st, const char *today, long count)
{
	snprintf(st->buf, sizeof(st->buf), "%s %ld\n", today, count);
	return tgotp_state_write(st, "budget", st->buf);
}

static void utc_day(time_t now, char out[16])
{
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

enum tgotp_verdict tgotp_state_budget_take(struct tgotp_state *st, long budget, time_t now)
{
	enum tgotp_verdict v;
	char today[16];
	long count;
	int r, lock;

	if (budget <= 0)
		return TGOTP_STATE_OK;
	utc_day(now, today);
	if ((v = tgotp_state_lock(st, NULL, &lock)) != TGOTP_STATE_OK)
		return v;
	v = TGOTP_STATE_ERROR;
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
	tgotp_state_unlock(lock);
	return v;
}

enum tgotp_verdict tgotp_state_budget_give_back(struct tgotp_state *st, time_t now)
{
	enum tgotp_verdict v;
	char today[16];
	long count;
	int lock;

	utc_day(now, today);
	if ((v = tgotp_state_lock(st, NULL, &lock)) != TGOTP_STATE_OK)
		return v;
	if (load_budget(st, today, &count) != 0 ||
	    (count > 0 && save_budget(st, today, count - 1) != 0))
		v = TGOTP_STATE_ERROR;
	tgotp_state_unlock(lock);
	return v;
}

/* ---- FLOOD_WAIT pauses */

enum tgotp_verdict tgotp_state_flood_check(struct tgotp_state *st, time_t now, time_t *until)
{
	enum tgotp_verdict v;
	int len, lock;

	*until = 0;
	if ((v = tgotp_state_lock(st, NULL, &lock)) != TGOTP_STATE_OK)
		return v;
	len = tgotp_state_read(st, "flood", st->buf, sizeof(st->buf));
	if (len == -ENOENT)
		goto out;
	if (len < 0 || len < 2 || st->buf[len - 1] != '\n' ||
	    tgotp_state_parse_time(st->buf, st->buf + len - 1, until) < 0) {
		tgotp_log(st->log, LOG_ERR, "state file flood is unusable: pausing 60 s");
		*until = now + 60;
		snprintf(st->buf, sizeof(st->buf), "%lld\n", (long long)*until);
		tgotp_state_write(st, "flood", st->buf);
	}
	if (*until > now + 86400)
		*until = now + 86400; /* written when the clock was far ahead */
	if (now < *until)
		v = TGOTP_STATE_LIMITED;
out:
	tgotp_state_unlock(lock);
	return v;
}

enum tgotp_verdict tgotp_state_flood_set(struct tgotp_state *st, time_t until)
{
	enum tgotp_verdict v;
	time_t old = 0;
	int len, lock;

	if ((v = tgotp_state_lock(st, NULL, &lock)) != TGOTP_STATE_OK)
		return v;
	len = tgotp_state_read(st, "flood", st->buf, sizeof(st->buf));
	if (len > 1 && st->buf[len - 1] == '\n' &&
	    tgotp_state_parse_time(st->buf, st->buf + len - 1, &old) == 0 && old > until)
		until = old;
	snprintf(st->buf, sizeof(st->buf), "%lld\n", (long long)until);
	if (tgotp_state_write(st, "flood", st->buf) != 0)
		v = TGOTP_STATE_ERROR;
	tgotp_state_unlock(lock);
	return v;
}

/* ---- the Gateway's balance */

enum tgotp_verdict tgotp_state_balance_record(struct tgotp_state *st, time_t now, double amount)
{
	enum tgotp_verdict v;
	int lock;

	if ((v = tgotp_state_lock(st, NULL, &lock)) != TGOTP_STATE_OK)
		return v;
	snprintf(st->buf, sizeof(st->buf), "%lld %.4f\n", (long long)now, amount);
	if (tgotp_state_write(st, "balance", st->buf) != 0)
		v = TGOTP_STATE_ERROR;
	tgotp_state_unlock(lock);
	return v;
}

/* "<time> <amount>\n" from buf (len bytes); -1 when it is not that. */
static int parse_balance(const char *buf, int len, time_t *seen, double *amount)
{
	const char *sp = memchr(buf, ' ', (size_t)len), *a, *end = buf + len - 1;
	bool dot = false, digit = false;

	if (len < 4 || !sp || *end != '\n' || tgotp_state_parse_time(buf, sp, seen) < 0)
		return -1;
	for (a = sp + 1 + (sp[1] == '-'); a < end; a++) {
		if (*a == '.' && !dot && digit)
			dot = true;
		else if (*a >= '0' && *a <= '9')
			digit = true;
		else
			return -1;
	}
	if (!digit || end - sp > 24)
		return -1;
	*amount = strtod(sp + 1, NULL);
	return 0;
}

enum tgotp_verdict tgotp_state_balance_last(struct tgotp_state *st, time_t *seen, double *amount)
{
	enum tgotp_verdict v;
	int len, lock;

	*seen = 0;
	*amount = 0;
	if ((v = tgotp_state_lock(st, NULL, &lock)) != TGOTP_STATE_OK)
		return v;
	len = tgotp_state_read(st, "balance", st->buf, sizeof(st->buf));
	if (len != -ENOENT && (len < 0 || parse_balance(st->buf, len, seen, amount) < 0)) {
		tgotp_log(st->log, LOG_ERR, "state file balance is corrupt or unusable");
		*seen = 0;
		v = TGOTP_STATE_ERROR;
	}
	tgotp_state_unlock(lock);
	return v;
}

/* ---- for the administrator */

static int cmp_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;

	return (x > y) - (x < y);
}

void tgotp_stamps_list(struct stamps *s, time_t *t, int max, int *n)
{
	int i;

	qsort(s->t, (size_t)s->n, sizeof(s->t[0]), cmp_time);
	for (i = 0; i < s->n && i < max; i++)
		t[i] = s->t[i];
	*n = s->n;
}

enum tgotp_verdict tgotp_state_rate_list(struct tgotp_state *st, const char *user, long window,
					 time_t now, time_t *t, int max, int *n)
{
	struct stamps *s = &st->stamps;
	char name[TGOTP_STATE_NAME_MAX + 8];
	enum tgotp_verdict v;
	int lock;

	*n = 0;
	tgotp_state_name(st, "rate.", user, name);
	if ((v = tgotp_state_lock(st, user, &lock)) != TGOTP_STATE_OK)
		return v;
	if (load_stamps(st, name, user, s, now, window) != 0) {
		tgotp_log(st->log, LOG_ERR, "state file %s is corrupt or unusable", name);
		v = TGOTP_STATE_ERROR;
	} else {
		tgotp_stamps_list(s, t, max, n);
	}
	tgotp_state_unlock(lock);
	return v;
}

enum tgotp_verdict tgotp_state_rate_clear(struct tgotp_state *st, const char *user)
{
	return tgotp_state_clear_user(st, "rate.", user);
}

enum tgotp_verdict tgotp_state_budget_used(struct tgotp_state *st, time_t now, long *count)
{
	enum tgotp_verdict v;
	char today[16];
	int lock;

	utc_day(now, today);
	if ((v = tgotp_state_lock(st, NULL, &lock)) != TGOTP_STATE_OK)
		return v;
	if (load_budget(st, today, count) != 0) {
		tgotp_log(st->log, LOG_ERR, "state file budget is corrupt or unusable");
		v = TGOTP_STATE_ERROR;
	}
	tgotp_state_unlock(lock);
	return v;
}
