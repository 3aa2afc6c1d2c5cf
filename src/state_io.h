/* Internals shared by the state files (state.c: directory, files, lock;
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
	int lockfd; /* held (flock) for the duration of every operation */
	const struct tgotp_log *log;
	char buf[STATE_FILE_MAX]; /* file contents, in and out */
	struct stamps stamps;
};

/* Takes the state lock. -1 (logged) when it cannot be had: the caller
 * then treats the state as unusable. */
int tgotp_state_lock(struct tgotp_state *st);
void tgotp_state_unlock(struct tgotp_state *st);

/* Reads name into buf (cap bytes, NUL-terminated). Returns the length,
 * -ENOENT, or another negative errno for a file that is not ours. */
int tgotp_state_read(struct tgotp_state *st, const char *name, char *buf, size_t cap);

/* Replaces name with text atomically: write, fsync, rename. */
int tgotp_state_write(struct tgotp_state *st, const char *name, const char *text);

/* Parses a decimal number that must fill [s, end). */
int tgotp_state_parse_time(const char *s, const char *end, time_t *out);

#endif
