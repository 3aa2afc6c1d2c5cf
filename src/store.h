/* SPDX-License-Identifier: BSD-3-Clause */
/* Where the module keeps what logins share: codes per user, codes per day,
 * FLOOD_WAIT pauses, grace periods. One interface, two backends:
 *
 *   store { type = "files" } (or no store section): this host's state_dir
 *       (state.h, state_limits.h, state_grace.h), as always.
 *   store { type = "etcd" }: an etcd v3 cluster the fleet shares
 *       (store_etcd.h) for the rate, the budget and FLOOD_WAIT, and for
 *       grace periods under grace_scope = fleet; under grace_scope = host
 *       they stay in state_dir. state_dir is opened too: it serves the
 *       login when the cluster does not answer and when_down = local
 *       (logged once, "store=local", at LOG_WARNING). Under when_down =
 *       deny such a login ends TGOTP_STATE_UNAVAILABLE instead, whatever
 *       failmode, and so does every later operation of the handle.
 *
 * A handle serves one login (or one tgotp command): the store's timeout is
 * the time all of its requests to the cluster may take together. */
#ifndef TGOTP_STORE_H
#define TGOTP_STORE_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "state.h"
#include "state_grace.h"

struct tgotp_store;

/* NULL (logged) when state_dir is unusable, or the etcd client cannot be
 * set up (its certificate or key file). No request is made yet. */
struct tgotp_store *tgotp_store_open(const struct tgotp_config *cfg, const struct tgotp_log *log);
void tgotp_store_close(struct tgotp_store *s);

/* From now on a cluster that does not answer is UNAVAILABLE, whatever
 * when_down: an administrator's change (tgotp reset) is made to the
 * fleet's records or not at all. */
void tgotp_store_strict(struct tgotp_store *s);

/* This host's own state_dir, whatever the store: what stays per host (the
 * last Gateway balance seen, the backup codes' lock). */
struct tgotp_state *tgotp_store_local(struct tgotp_store *s);

/* As in state_limits.h and state_grace.h; each can also end
 * TGOTP_STATE_UNAVAILABLE (see above). */
enum tgotp_verdict tgotp_store_flood_check(struct tgotp_store *s, time_t now, time_t *until);
enum tgotp_verdict tgotp_store_flood_set(struct tgotp_store *s, time_t now, time_t until);
enum tgotp_verdict tgotp_store_rate_take(struct tgotp_store *s, const char *user, long limit,
					 long window, time_t now, long *retry_after);
enum tgotp_verdict tgotp_store_rate_give_back(struct tgotp_store *s, const char *user, time_t now);
enum tgotp_verdict tgotp_store_budget_take(struct tgotp_store *s, long budget, time_t now);
enum tgotp_verdict tgotp_store_budget_give_back(struct tgotp_store *s, time_t now);
enum tgotp_verdict tgotp_store_grace_check(struct tgotp_store *s, const char *user,
					   const char *service, const char *rhost, time_t now,
					   long period, bool *granted);
enum tgotp_verdict tgotp_store_grace_record(struct tgotp_store *s, const char *user,
					    const char *service, const char *rhost, time_t now);

/* ---- for the administrator (tgotp state, tgotp reset) */
enum tgotp_verdict tgotp_store_rate_list(struct tgotp_store *s, const char *user, long window,
					 time_t now, time_t *t, int max, int *n);
enum tgotp_verdict tgotp_store_rate_clear(struct tgotp_store *s, const char *user);
enum tgotp_verdict tgotp_store_budget_used(struct tgotp_store *s, time_t now, long *count);
enum tgotp_verdict tgotp_store_grace_list(struct tgotp_store *s, const char *user,
					  struct tgotp_grace_entry *e, int max, int *n);
enum tgotp_verdict tgotp_store_grace_clear(struct tgotp_store *s, const char *user);
/* Every user with records in the store (and in state_dir), as
 * tgotp_state_users (state.h); free with tgotp_state_users_free. */
char **tgotp_store_users(struct tgotp_store *s);

#endif
