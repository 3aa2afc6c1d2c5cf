/* SPDX-License-Identifier: BSD-3-Clause */
/* Grace periods: who verified a code from where, and when. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state_grace.h"
#include "state_io.h"
#include "text.h"

/* ---- grace periods */

#define GRACE_KEY_MAX	 TGOTP_GRACE_KEY_MAX
#define GRACE_ENTRIES	 32
#define GRACE_MAX_PERIOD 86400 /* the largest grace_period the configuration allows */

/* hex(user NUL service NUL rhost): exact, whatever the bytes. -1 when
 * there is nothing to tie a grace to (no rhost; a service or rhost longer
 * than TGOTP_GRACE_FIELD_MAX). A user name longer than TGOTP_USER_NAME_MAX is
 * -ENAMETOOLONG, logged: every name the module accepts gets its grace, and
 * a longer one is an error, never a silent "no grace". */
int tgotp_grace_key(const char *user, const char *service, const char *rhost, char *out)
{
	const char *f[3] = {user, service, rhost};
	const size_t max[3] = {TGOTP_USER_NAME_MAX, TGOTP_GRACE_FIELD_MAX, TGOTP_GRACE_FIELD_MAX};
	const unsigned char *p;
	size_t o = 0;
	int i;

	if (user && strlen(user) > TGOTP_USER_NAME_MAX)
		return -ENAMETOOLONG;
	if (!rhost || !*rhost)
		return -1;
	for (i = 0; i < 3; i++) {
		if (!f[i] || strlen(f[i]) > max[i])
			return -1;
		for (p = (const unsigned char *)f[i]; *p; p++, o += 2)
			tgotp_hex_byte(out + o, *p);
		if (i < 2) {
			tgotp_hex_byte(out + o, '\0');
			o += 2;
		}
	}
	out[o] = '\0';
	return 0;
}

static int grace_key(const struct tgotp_state *st, const char *user, const char *service,
		     const char *rhost, char *out)
{
	int r = tgotp_grace_key(user, service, rhost, out);

	if (r == -ENAMETOOLONG)
		tgotp_log(st->log, LOG_ERR, "%s: grace: user name longer than %d bytes", st->dir,
			  TGOTP_USER_NAME_MAX);
	return r;
}

/* Calls fn for each "time key" line of a user's section in text.
 * Returns -1 when a line is malformed. */
static int each_grace(char *text, int (*fn)(time_t until, const char *key, void *arg), void *arg)
{
	char *p, *nl, *sp;
	time_t until;

	for (p = text; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		sp = nl ? memchr(p, ' ', (size_t)(nl - p)) : NULL;
		if (!sp || tgotp_state_parse_time(p, sp, &until) < 0)
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

int tgotp_grace_find(char *text, const char *key, time_t now, long period)
{
	struct grace_match m = {key, now, period};

	return each_grace(text, grace_matches, &m);
}

enum tgotp_verdict tgotp_state_grace_check(struct tgotp_state *st, const char *user,
					   const char *service, const char *rhost, time_t now,
					   long period, bool *granted)
{
	char key[GRACE_KEY_MAX], name[TGOTP_STATE_NAME_MAX + 8];
	enum tgotp_verdict v;
	int r, lock;

	*granted = false;
	r = grace_key(st, user, service, rhost, key);
	/* SECURITY: without a remote host there is nothing to tie the grace
	 * to: a console or a local service never skips the code. */
	if (r < 0)
		return r == -ENAMETOOLONG ? TGOTP_STATE_ERROR : TGOTP_STATE_OK;
	tgotp_state_name(st, "grace.", user, name);
	if ((v = tgotp_state_lock(st, user, &lock)) != TGOTP_STATE_OK)
		return v;
	if (tgotp_state_read_user(st, name, user) >= 0) {
		r = tgotp_grace_find(st->buf, key, now, period);
		if (r < 0) {
			tgotp_log(st->log, LOG_ERR,
				  "state file %s: the user's lines are corrupt: removed", name);
			tgotp_state_write_user(st, name, user, "");
		}
		*granted = r == 1;
	}
	tgotp_state_unlock(lock);
	return v;
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

int tgotp_grace_add(const char *text, const char *key, time_t now, char *out, size_t cap)
{
	struct grace_keep k = {key, now, NULL, 0, cap, 0, 0};
	char *copy = strdup(text);

	if (!copy)
		return -1;
	out[0] = '\0';
	if (each_grace(copy, grace_keep, &k) == 0) { /* each_grace cuts lines */
		strcpy(copy, text);
		k.out = out;
		k.skip = k.live - (GRACE_ENTRIES - 1);
		each_grace(copy, grace_keep, &k);
	} /* else corrupt: start again */
	snprintf(out + k.o, cap - k.o, "%lld %s\n", (long long)now, key);
	free(copy);
	return 0;
}

enum tgotp_verdict tgotp_state_grace_record(struct tgotp_state *st, const char *user,
					    const char *service, const char *rhost, time_t now)
{
	char key[GRACE_KEY_MAX], name[TGOTP_STATE_NAME_MAX + 8];
	char *out = malloc(STATE_FILE_MAX);
	enum tgotp_verdict v = TGOTP_STATE_ERROR;
	int r, lock;

	if (!out)
		goto done;
	r = grace_key(st, user, service, rhost, key);
	if (r == -ENAMETOOLONG)
		goto done;
	v = TGOTP_STATE_OK;
	if (r < 0)
		goto done; /* nothing to tie a grace to */
	tgotp_state_name(st, "grace.", user, name);
	if ((v = tgotp_state_lock(st, user, &lock)) != TGOTP_STATE_OK)
		goto done;
	if (tgotp_state_read_user(st, name, user) < 0)
		st->buf[0] = '\0';
	if (tgotp_grace_add(st->buf, key, now, out, STATE_FILE_MAX) != 0 ||
	    tgotp_state_write_user(st, name, user, out) != 0)
		v = TGOTP_STATE_ERROR;
	tgotp_state_unlock(lock);
done:
	free(out);
	return v;
}

/* ---- for the administrator */

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Splits a key back into its three fields (sanitised), -1 when it is not
 * a key of user. */
static int grace_unkey(const char *key, const char *user, struct tgotp_grace_entry *e)
{
	char raw[3][TGOTP_GRACE_FIELD_MAX + 1];
	size_t o = 0, len = strlen(key), i;
	int f = 0, hi, lo;

	if (len % 2)
		return -1;
	for (i = 0; i < len; i += 2) {
		hi = unhex(key[i]);
		lo = unhex(key[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		if (hi == 0 && lo == 0) {
			if (++f > 2)
				return -1;
			raw[f - 1][o] = '\0';
			o = 0;
		} else if (o < TGOTP_GRACE_FIELD_MAX) {
			raw[f][o++] = (char)(hi << 4 | lo);
		} else {
			return -1;
		}
	}
	raw[f][o] = '\0';
	if (f != 2 || strcmp(raw[0], user) != 0)
		return -1;
	tgotp_text_copy_printable(raw[1], strlen(raw[1]), e->service, sizeof(e->service));
	tgotp_text_copy_printable(raw[2], strlen(raw[2]), e->rhost, sizeof(e->rhost));
	return 0;
}

struct grace_out {
	const char *user;
	struct tgotp_grace_entry *e;
	int max, n;
};

static int grace_collect(time_t at, const char *key, void *arg)
{
	struct grace_out *o = arg;

	if (o->n < o->max && grace_unkey(key, o->user, &o->e[o->n]) == 0)
		o->e[o->n++].at = at;
	return 0;
}

int tgotp_grace_entries(char *text, const char *user, struct tgotp_grace_entry *e, int max, int *n)
{
	struct grace_out o = {user, e, max, 0};
	int r = each_grace(text, grace_collect, &o);

	*n = o.n;
	return r < 0 ? -1 : 0;
}

enum tgotp_verdict tgotp_state_grace_list(struct tgotp_state *st, const char *user,
					  struct tgotp_grace_entry *e, int max, int *n)
{
	char name[TGOTP_STATE_NAME_MAX + 8];
	enum tgotp_verdict v;
	int lock;

	*n = 0;
	tgotp_state_name(st, "grace.", user, name);
	if ((v = tgotp_state_lock(st, user, &lock)) != TGOTP_STATE_OK)
		return v;
	if (tgotp_state_read_user(st, name, user) < 0 ||
	    tgotp_grace_entries(st->buf, user, e, max, n) < 0) {
		tgotp_log(st->log, LOG_ERR, "state file %s is corrupt or unusable", name);
		v = TGOTP_STATE_ERROR;
	}
	tgotp_state_unlock(lock);
	return v;
}

enum tgotp_verdict tgotp_state_grace_clear(struct tgotp_state *st, const char *user)
{
	return tgotp_state_clear_user(st, "grace.", user);
}
