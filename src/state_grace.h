/* SPDX-License-Identifier: BSD-3-Clause */
/* Grace periods, kept in the state directory (state.h): who verified a
 * code for which service from which remote host, and when.
 *
 * The record, written by tgotp_state_grace_record only, locked by
 * lock.<enc>:
 *
 *   grace.<enc>  a section per user (state_io.h) of "<time> <key>\n"
 *                lines, oldest first, at most GRACE_ENTRIES (32) a user;
 *                <key> = hex(user NUL service NUL rhost) in lower case.
 *                The user is at most TGOTP_USER_NAME_MAX (256) bytes: a
 *                longer one is an error. Service and rhost are at most
 *                TGOTP_GRACE_FIELD_MAX (255): longer ones get no grace, as an
 *                empty rhost. Lines older than the longest grace period
 *                the configuration allows (a day) are dropped when the
 *                section is next written. A corrupt section grants
 *                nothing and is dropped.
 *
 * The time of the verification is stored, not an end: a shorter period in
 * the configuration applies at once, and a clock that went back does not
 * stretch it. */
#ifndef TGOTP_STATE_GRACE_H
#define TGOTP_STATE_GRACE_H

#include <stdbool.h>
#include <time.h>

#include "state.h"

/* *granted: whether user + service + rhost verified a code less than
 * period seconds before now. An empty rhost never matches. *granted is
 * false unless the result is OK. */
enum tgotp_verdict tgotp_state_grace_check(struct tgotp_state *st, const char *user,
					   const char *service, const char *rhost, time_t now,
					   long period, bool *granted);
enum tgotp_verdict tgotp_state_grace_record(struct tgotp_state *st, const char *user,
					    const char *service, const char *rhost, time_t now);

/* ---- for the administrator (tgotp state, tgotp reset) */

#define TGOTP_GRACE_FIELD_MAX 255 /* bytes of a service or remote host name in a grace key */

struct tgotp_grace_entry {
	time_t at; /* when the code was verified */
	char service[TGOTP_GRACE_FIELD_MAX + 1];
	char rhost[TGOTP_GRACE_FIELD_MAX + 1];
};

/* user's verified logins recorded for grace periods, oldest first: at most
 * max into e, their number into *n. Service and remote host are copied
 * with control characters replaced. */
enum tgotp_verdict tgotp_state_grace_list(struct tgotp_state *st, const char *user,
					  struct tgotp_grace_entry *e, int max, int *n);
/* Forgets user's grace entries: the next login asks for a code. */
enum tgotp_verdict tgotp_state_grace_clear(struct tgotp_state *st, const char *user);

#endif
