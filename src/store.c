/* SPDX-License-Identifier: BSD-3-Clause */
/* The store of what logins share: state_dir, or etcd with state_dir beside
 * it (store.h). */
#include <stdlib.h>
#include <string.h>

#include "state_limits.h"
#include "store.h"
#include "store_etcd.h"

struct tgotp_store {
	struct tgotp_state *local;
	struct tgotp_etcd *etcd; /* NULL: files only */
	enum tgotp_when_down when_down;
	bool fleet_grace;
	bool down; /* the cluster did not answer: when_down rules the rest */
	const struct tgotp_log *log;
};

void tgotp_store_strict(struct tgotp_store *s)
{
	s->when_down = TGOTP_DOWN_DENY;
}

struct tgotp_state *tgotp_store_local(struct tgotp_store *s)
{
	return s->local;
}

struct tgotp_store *tgotp_store_open(const struct tgotp_config *cfg, const struct tgotp_log *log)
{
	const struct tgotp_store_config *sc = &cfg->store;
	struct tgotp_store *s = calloc(1, sizeof(*s));
	struct tgotp_etcd_opts o;

	if (!s)
		return NULL;
	s->log = log;
	if (!(s->local = tgotp_state_open(cfg->state_dir, log)))
		goto fail;
	if (!sc->enabled || sc->type != TGOTP_STORE_ETCD)
		return s;
	s->when_down = sc->when_down;
	s->fleet_grace = cfg->grace_scope == TGOTP_GRACE_FLEET;
	o.endpoints = sc->endpoints;
	o.nendpoints = sc->nendpoints;
	o.ca_file = sc->ca_file;
	o.cert_file = sc->cert_file;
	o.key_file = sc->key_file;
	o.prefix = sc->prefix;
	o.timeout_ms = sc->timeout * 1000;
	if ((s->etcd = tgotp_etcd_open(&o, log)))
		return s;
fail:
	tgotp_store_close(s);
	return NULL;
}

void tgotp_store_close(struct tgotp_store *s)
{
	if (!s)
		return;
	tgotp_state_close(s->local);
	tgotp_etcd_close(s->etcd);
	free(s);
}

enum route { LOCAL, SHARED, DENY };

static enum route route(const struct tgotp_store *s, bool shared)
{
	if (!s->etcd || !shared)
		return LOCAL;
	if (!s->down)
		return SHARED;
	return s->when_down == TGOTP_DOWN_DENY ? DENY : LOCAL;
}

/* After a request to the cluster ended v: whether the local state must do
 * the operation instead (when_down = local). */
static bool fall_back(struct tgotp_store *s, enum tgotp_verdict v)
{
	if (v != TGOTP_STATE_UNAVAILABLE)
		return false;
	s->down = true;
	if (s->when_down == TGOTP_DOWN_DENY)
		return false;
	tgotp_log(s->log, LOG_WARNING,
		  "store=local: the etcd store did not answer; this host's state_dir serves "
		  "the login (when_down = local)");
	return true;
}

/* Runs shared_call on the cluster, or local_call on state_dir, as the store
 * and its state say; shared: whether the record is the fleet's at all. */
#define ROUTE(s, shared, shared_call, local_call)                                                  \
	do {                                                                                       \
		enum tgotp_verdict v_;                                                             \
		switch (route((s), (shared))) {                                                    \
		case DENY:                                                                         \
			return TGOTP_STATE_UNAVAILABLE;                                            \
		case SHARED:                                                                       \
			v_ = (shared_call);                                                        \
			if (!fall_back((s), v_))                                                   \
				return v_;                                                         \
			/* fall through */                                                         \
		case LOCAL:                                                                        \
		default:                                                                           \
			return (local_call);                                                       \
		}                                                                                  \
	} while (0)

enum tgotp_verdict tgotp_store_flood_check(struct tgotp_store *s, time_t now, time_t *until)
{
	ROUTE(s, true, tgotp_etcd_flood_check(s->etcd, now, until),
	      tgotp_state_flood_check(s->local, now, until));
}

enum tgotp_verdict tgotp_store_flood_set(struct tgotp_store *s, time_t now, time_t until)
{
	ROUTE(s, true, tgotp_etcd_flood_set(s->etcd, now, until),
	      tgotp_state_flood_set(s->local, until));
}

enum tgotp_verdict tgotp_store_rate_take(struct tgotp_store *s, const char *user, long limit,
					 long window, time_t now, long *retry_after)
{
	ROUTE(s, true, tgotp_etcd_rate_take(s->etcd, user, limit, window, now, retry_after),
	      tgotp_state_rate_take(s->local, user, limit, window, now, retry_after));
}

enum tgotp_verdict tgotp_store_rate_give_back(struct tgotp_store *s, const char *user, time_t now)
{
	ROUTE(s, true, tgotp_etcd_rate_give_back(s->etcd, user, now),
	      tgotp_state_rate_give_back(s->local, user, now));
}

enum tgotp_verdict tgotp_store_budget_take(struct tgotp_store *s, long budget, time_t now)
{
	ROUTE(s, true, tgotp_etcd_budget_take(s->etcd, budget, now),
	      tgotp_state_budget_take(s->local, budget, now));
}

enum tgotp_verdict tgotp_store_budget_give_back(struct tgotp_store *s, time_t now)
{
	ROUTE(s, true, tgotp_etcd_budget_give_back(s->etcd, now),
	      tgotp_state_budget_give_back(s->local, now));
}

enum tgotp_verdict tgotp_store_grace_check(struct tgotp_store *s, const char *user,
					   const char *service, const char *rhost, time_t now,
					   long period, bool *granted)
{
	*granted = false;
	ROUTE(s, s->fleet_grace,
	      tgotp_etcd_grace_check(s->etcd, user, service, rhost, now, period, granted),
	      tgotp_state_grace_check(s->local, user, service, rhost, now, period, granted));
}

enum tgotp_verdict tgotp_store_grace_record(struct tgotp_store *s, const char *user,
					    const char *service, const char *rhost, time_t now)
{
	ROUTE(s, s->fleet_grace, tgotp_etcd_grace_record(s->etcd, user, service, rhost, now),
	      tgotp_state_grace_record(s->local, user, service, rhost, now));
}

enum tgotp_verdict tgotp_store_rate_list(struct tgotp_store *s, const char *user, long window,
					 time_t now, time_t *t, int max, int *n)
{
	*n = 0;
	ROUTE(s, true, tgotp_etcd_rate_list(s->etcd, user, window, now, t, max, n),
	      tgotp_state_rate_list(s->local, user, window, now, t, max, n));
}

enum tgotp_verdict tgotp_store_rate_clear(struct tgotp_store *s, const char *user)
{
	ROUTE(s, true, tgotp_etcd_rate_clear(s->etcd, user),
	      tgotp_state_rate_clear(s->local, user));
}

enum tgotp_verdict tgotp_store_budget_used(struct tgotp_store *s, time_t now, long *count)
{
	*count = 0;
	ROUTE(s, true, tgotp_etcd_budget_used(s->etcd, now, count),
	      tgotp_state_budget_used(s->local, now, count));
}

enum tgotp_verdict tgotp_store_grace_list(struct tgotp_store *s, const char *user,
					  struct tgotp_grace_entry *e, int max, int *n)
{
	*n = 0;
	ROUTE(s, s->fleet_grace, tgotp_etcd_grace_list(s->etcd, user, e, max, n),
	      tgotp_state_grace_list(s->local, user, e, max, n));
}

enum tgotp_verdict tgotp_store_grace_clear(struct tgotp_store *s, const char *user)
{
	ROUTE(s, s->fleet_grace, tgotp_etcd_grace_clear(s->etcd, user),
	      tgotp_state_grace_clear(s->local, user));
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of a and b (both taken over), sorted, without repeats; NULL
 * when either is NULL or memory runs out. */
static char **merge(char **a, char **b)
{
	size_t na = 0, nb = 0, i, o;
	char **v;

	while (a && a[na])
		na++;
	while (b && b[nb])
		nb++;
	if (!a || !b || !(v = realloc(a, (na + nb + 1) * sizeof(*v)))) {
		tgotp_state_users_free(a);
		tgotp_state_users_free(b);
		return NULL;
	}
	memcpy(v + na, b, (nb + 1) * sizeof(*v));
	free(b);
	qsort(v, na + nb, sizeof(*v), cmp_name);
	for (i = o = 0; i < na + nb; i++) {
		if (o > 0 && strcmp(v[o - 1], v[i]) == 0)
			free(v[i]);
		else
			v[o++] = v[i];
	}
	v[o] = NULL;
	return v;
}

char **tgotp_store_users(struct tgotp_store *s)
{
	enum tgotp_verdict v;
	char **shared;

	if (route(s, true) == SHARED) {
		shared = tgotp_etcd_users(s->etcd, s->fleet_grace, &v);
		if (shared || !fall_back(s, v))
			return shared ? merge(shared, tgotp_state_users(s->local)) : NULL;
	}
	return route(s, true) == DENY ? NULL : tgotp_state_users(s->local);
}
