/* SPDX-License-Identifier: BSD-3-Clause */
/* The state directory: what the module keeps on disk under state_dir, and
 * how it is opened, locked and written. What is kept is in
 * state_limits.h (codes per user, codes per day, FLOOD_WAIT pauses) and
 * state_grace.h (grace periods).
 *
 * Each operation holds a lock for its read-modify-write: the user's own
 * lock file for the user's files, a host-wide one for the host's counters.
 * A lock not had within TGOTP_STATE_LOCK_MS is BUSY, never an unbounded
 * wait. Files are replaced atomically (write, fsync, rename, fsync the
 * directory). Anything odd fails closed: it can never grant a login or
 * allow unlimited sends.
 *
 * On disk, state_dir is owned by root, mode 0700; every file in it is
 * root's, mode 0600, and is written only by the module (as root), under
 * the lock named beside it:
 *
 *   .lock        empty; the host-wide lock (flock): budget, flood, balance, and
 *                the backup codes file (backup.h)
 *   lock.<enc>   empty; the lock of one user's files: rate.<enc>, grace.<enc>
 *   rate.<enc>   codes sent to the user (state_limits.h)
 *   grace.<enc>  the user's verified logins (state_grace.h)
 *   budget       codes sent on one UTC day (state_limits.h)
 *   flood        the end of a FLOOD_WAIT pause (state_limits.h)
 *   balance      the Gateway balance last seen (state_limits.h)
 *   .tmp.<name>  <name> being written; renamed over it when complete, then
 *                the directory is synced
 *
 * <enc> is tgotp_state_encode(user): bytes outside [A-Za-z0-9_-] as %XX,
 * or, when that is longer than TGOTP_STATE_NAME_MAX, "%%" and a 64-bit
 * FNV-1a hash in hex: a bucket that different users can share, which is
 * why rate.<enc> and grace.<enc> hold one section per user (state_io.h).
 * <time> in any file is Unix seconds in decimal. An operation holds one
 * lock at a time. Lock files are never removed: a process could still hold
 * the lock on the removed file while the next one locks a new file of the
 * same name. */
#ifndef TGOTP_STATE_H
#define TGOTP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "log.h"

#define TGOTP_STATE_NAME_MAX 200
/* The longest user name: the module refuses longer ones (outcome
 * invalid_user_name), and every name up to it has its rate and grace
 * records; the state refuses longer ones as an error (logged). */
#define TGOTP_USER_NAME_MAX 256
#define TGOTP_STATE_LOCK_MS 2000 /* how long a lock is waited for */

enum tgotp_verdict {
	TGOTP_STATE_OK,
	TGOTP_STATE_LIMITED,	 /* the limit is reached: nothing may be sent */
	TGOTP_STATE_ERROR,	 /* unusable state: logged; treat as not allowed */
	TGOTP_STATE_BUSY,	 /* a lock was held past the deadline (a stopped
				    login?): logged; nothing was read or changed */
	TGOTP_STATE_UNAVAILABLE, /* the fleet's store (store.h) did not answer
				    and when_down = deny: logged */
};

struct tgotp_state;

/* Opens (creating with mode 0700 when missing) a root-owned directory that
 * group and others cannot use. NULL when unsafe or unusable (logged). */
struct tgotp_state *tgotp_state_open(const char *dir, const struct tgotp_log *log);
void tgotp_state_close(struct tgotp_state *st);

/* The file name for a key (a user name): bytes outside [A-Za-z0-9_-]
 * become %XX; a result longer than TGOTP_STATE_NAME_MAX becomes a hash.
 * out must hold TGOTP_STATE_NAME_MAX + 1 bytes. */
void tgotp_state_encode(const char *key, char *out);

/* Every operation of state_limits.h and state_grace.h can end BUSY or
 * ERROR (logged). The ones that record something after the fact (give
 * back, flood_set, grace_record) report it for completeness: nothing was
 * changed, which errs on the side of fewer sends and more codes asked. */

/* ---- for the administrator (tgotp state): the rate and grace lists and
 * clearing are in state_limits.h and state_grace.h */

/* Every user that has rate or grace state, sorted, without repeats: a
 * NULL-terminated array for tgotp_state_users_free, or NULL (logged). */
char **tgotp_state_users(struct tgotp_state *st);
void tgotp_state_users_free(char **users);

#endif
