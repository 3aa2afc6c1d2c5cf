/* SPDX-License-Identifier: BSD-3-Clause */
/* Abuse limits kept in the state directory (state.h): codes per user per
 * window, codes per UTC day for the host, FLOOD_WAIT pauses.
 *
 * The records, each written by the functions below only:
 *
 *   rate.<enc>  a section per user (state_io.h) of "<time>\n" lines: when
 *               a code was sent to the user, at most MAX_STAMPS (1000);
 *               lines that fell out of rate_window are dropped when the
 *               section is next written. Locked by lock.<enc>.
 *   budget      "YYYY-MM-DD <n>\n": <n> codes were sent on that UTC day; a
 *               file of another day counts 0. Locked by .lock.
 *   flood       "<time>\n": no sending before then (a FLOOD_WAIT answer),
 *               at most a day ahead. Locked by .lock.
 *   balance     "<time> <amount>\n": the Gateway's remaining_balance last
 *               seen, and when; <amount> is decimal with 4 places, a
 *               minus sign allowed. Written only while balance_warning is
 *               set, for tgotp state. Locked by .lock.
 *
 * A corrupt rate or budget record counts as full, a corrupt flood record
 * as a pause of 60 s: never as empty. */
#ifndef TGOTP_STATE_LIMITS_H
#define TGOTP_STATE_LIMITS_H

#include <time.h>

#include "state.h"

/* LIMITED while a FLOOD_WAIT answer asks for a pause (*until is its end). */
enum tgotp_verdict tgotp_state_flood_check(struct tgotp_state *st, time_t now, time_t *until);
enum tgotp_verdict tgotp_state_flood_set(struct tgotp_state *st, time_t until);

/* Takes one of limit slots of user within window seconds. LIMITED with
 * *retry_after seconds when none is free. */
enum tgotp_verdict tgotp_state_rate_take(struct tgotp_state *st, const char *user, long limit,
					 long window, time_t now, long *retry_after);
/* Gives back the slot taken at now (nothing was sent after all). */
enum tgotp_verdict tgotp_state_rate_give_back(struct tgotp_state *st, const char *user, time_t now);

/* Takes one of budget codes of the current UTC day (budget 0: no cap). */
enum tgotp_verdict tgotp_state_budget_take(struct tgotp_state *st, long budget, time_t now);
enum tgotp_verdict tgotp_state_budget_give_back(struct tgotp_state *st, time_t now);

/* Records amount as the balance seen at now. */
enum tgotp_verdict tgotp_state_balance_record(struct tgotp_state *st, time_t now, double amount);

/* ---- for the administrator (tgotp state, tgotp reset) */

/* The times codes were sent to user within window seconds before now,
 * oldest first: at most max of them into t, their number into *n. */
enum tgotp_verdict tgotp_state_rate_list(struct tgotp_state *st, const char *user, long window,
					 time_t now, time_t *t, int max, int *n);
/* Forgets every code sent to user: the rate limit starts afresh. */
enum tgotp_verdict tgotp_state_rate_clear(struct tgotp_state *st, const char *user);
/* Codes counted today against daily_budget (counted only while it is set). */
enum tgotp_verdict tgotp_state_budget_used(struct tgotp_state *st, time_t now, long *count);
/* The balance last recorded and when (*seen 0: none recorded). */
enum tgotp_verdict tgotp_state_balance_last(struct tgotp_state *st, time_t *seen, double *amount);

#endif
