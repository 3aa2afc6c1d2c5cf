/* Internals shared by the state files (state.c: directory, files, locks;
 * limits.c: rate, budget, flood; grace.c: grace periods). Not an API. */
#ifndef TGOTP_STATE_IO_H
#define TGOTP_STATE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "state.h"

#define STATE_FILE_MAX (64 * 1024)
#define MAX_STAMPS     1000

struct stamps {
	time_t t[MAX_STAMPS];
	int n;
};

struct tgotp_state {
	int dirfd;
	char *dir; /* for the log */
	const struct tgotp_log *log;
	long lock_ms;		  /* TGOTP_STATE_LOCK_MS; tests shorten it */
	char buf[STATE_FILE_MAX]; /* file contents, in and out */
	struct stamps stamps;
};

/* A file name: prefix then the encoded user (tgotp_state_encode). */
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

/* Replaces name with text atomically: write, fsync, rename. */
int tgotp_state_write(struct tgotp_state *st, const char *name, const char *text);

/* Parses a decimal number that must fill [s, end). */
int tgotp_state_parse_time(const char *s, const char *end, time_t *out);

#endif
