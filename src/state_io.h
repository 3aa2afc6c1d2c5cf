/* SPDX-License-Identifier: BSD-3-Clause */
/* Internals shared by the state files (state.c: directory, files, locks,
 * users' sections; state_limits.c: rate, budget, flood; state_grace.c:
 * grace periods). Not an API.
 *
 * A per-user file (rate.<enc>, grace.<enc>) holds a section for each user,
 * since long names share a file when they fall into the same hash bucket:
 *
 *   "user <esc>\n"   opens the section of a user; <esc> is the user name
 *                    escaped as in tgotp_state_encode (%XX), never hashed,
 *                    so at most 3 * TGOTP_USER_NAME_MAX bytes
 *   "<line>\n" ...   the section's lines, in the format of the file
 *
 * Each user of a bucket has a section of their own, and counts are never
 * shared. Lines before the first "user" line (older versions wrote none)
 * are taken as the reader's own: a count shared by mistake can only be too
 * high, and grace keys name their user. A whole file is less than
 * STATE_FILE_MAX (64 KiB) bytes: a write that would make it larger is
 * refused, a larger file is not read. */
#ifndef TGOTP_STATE_IO_H
#define TGOTP_STATE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "state.h"
#include "state_grace.h"

#define STATE_FILE_MAX (64 * 1024)
#define MAX_STAMPS     1000
#define STATE_TIME_MAX 999999999999999999LL /* 18 digits: any <time> */

struct stamps {
	time_t t[MAX_STAMPS];
	int n;
};

struct tgotp_state {
	int dirfd;
	char *dir; /* for the log */
	const struct tgotp_log *log;
	/* Test hooks: locks are waited for lock_ms (TGOTP_STATE_LOCK_MS), and
	 * the bucket hash of long names is ANDed with hash_mask (all ones; 0
	 * puts every long name into one bucket). */
	long lock_ms;
	uint64_t hash_mask;
	char buf[STATE_FILE_MAX];    /* file contents, in and out */
	char others[STATE_FILE_MAX]; /* the other users' part of a per-user file */
	size_t others_len;
	struct stamps stamps;
};

/* A file name: prefix then the encoded user (tgotp_state_encode, with
 * st->hash_mask). */
void tgotp_state_name(const struct tgotp_state *st, const char *prefix, const char *user,
		      char out[TGOTP_STATE_NAME_MAX + 8]);

/* Takes the lock of user's files, or the host-wide lock when user is NULL,
 * waiting at most st->lock_ms. OK with *fd to pass to tgotp_state_unlock;
 * BUSY or ERROR (logged) when it cannot be had. */
enum tgotp_verdict tgotp_state_lock(struct tgotp_state *st, const char *user, int *fd);
void tgotp_state_unlock(int fd);

/* Reads name into buf (cap bytes, NUL-terminated). Returns the length,
 * -ENOENT, or another negative errno for a file that is not ours. */
int tgotp_state_read(struct tgotp_state *st, const char *name, char *buf, size_t cap);

/* Replaces name with text atomically: write, fsync, rename, fsync the
 * directory. */
int tgotp_state_write(struct tgotp_state *st, const char *name, const char *text);

/* Reads the lines of user's section into st->buf, NUL-terminated, and the
 * other users' sections into st->others. Returns the length in st->buf (0
 * when there is no file), or a negative errno for a file that is not ours
 * or a user name too long to record (logged). */
int tgotp_state_read_user(struct tgotp_state *st, const char *name, const char *user);
/* Replaces name with user's section holding text (none when text is
 * empty), followed by the other sections as tgotp_state_read_user found
 * them. */
int tgotp_state_write_user(struct tgotp_state *st, const char *name, const char *user,
			   const char *text);

/* Removes user's section from the per-user file prefix<enc> (a corrupt
 * one too), under the user's lock; the other sections stay. */
enum tgotp_verdict tgotp_state_clear_user(struct tgotp_state *st, const char *prefix,
					  const char *user);

/* The lines of a rate record ("<time>\n" each) into s: those inside window
 * seconds before now. 0, or 1 when the text is corrupt. Shared with the
 * etcd store, whose records have the same form. */
int tgotp_stamps_parse(const char *text, struct stamps *s, time_t now, long window);
/* s as the lines of a rate record, into buf of cap bytes. */
void tgotp_stamps_format(const struct stamps *s, char *buf, size_t cap);
/* s's times, oldest first (s is sorted): at most max into t, their number
 * into *n. For tgotp state, from either store. */
void tgotp_stamps_list(struct stamps *s, time_t *t, int max, int *n);

/* The text of a user's grace record ("<time> <key>\n" lines, as in
 * state_grace.h), shared with the etcd store whose records have the same
 * form. */
#define TGOTP_GRACE_KEY_MAX (2 * (TGOTP_USER_NAME_MAX + 2 * TGOTP_GRACE_FIELD_MAX + 2) + 1)
/* The key of user + service + rhost into out (TGOTP_GRACE_KEY_MAX bytes): 0,
 * -1 when there is nothing to tie a grace to, -ENAMETOOLONG for a user name
 * longer than TGOTP_USER_NAME_MAX. */
int tgotp_grace_key(const char *user, const char *service, const char *rhost, char *out);
/* 1 when text (cut into lines as it is read) has key verified less than
 * period seconds before now, 0 when not, -1 when it is corrupt. */
int tgotp_grace_find(char *text, const char *key, time_t now, long period);
/* text's live entries of other keys and key verified at now, into out (cap
 * bytes): 0, or -1 without memory. A corrupt text is started afresh. */
int tgotp_grace_add(const char *text, const char *key, time_t now, char *out, size_t cap);
/* The entries of text that belong to user, at most max into e, their number
 * into *n: 0, or -1 when text is corrupt. */
int tgotp_grace_entries(char *text, const char *user, struct tgotp_grace_entry *e, int max, int *n);

/* Parses a <time>: a decimal number (tgotp_parse_decimal) that must fill
 * [s, end), at most STATE_TIME_MAX. */
int tgotp_state_parse_time(const char *s, const char *end, time_t *out);

#endif
