/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening files the way an attacker would like least, and wiping secrets. */
#ifndef TGOTP_FILEIO_H
#define TGOTP_FILEIO_H

#include <stddef.h>

#include "log.h"

enum tgotp_file_kind {
	TGOTP_FILE_CONFIG,   /* root-owned, no group/other write */
	TGOTP_FILE_PERSONAL, /* as CONFIG; readable by others is logged (LOG_WARNING):
				phone numbers are personal data */
	TGOTP_FILE_SECRET,   /* root-owned, no group/other access at all */
};

struct stat;

/* NULL when st is acceptable for kind (a regular file owned by root, with
 * the mode kind requires), else why not, for the log. */
const char *tgotp_file_unsafe(const struct stat *st, enum tgotp_file_kind kind);

/* Reads a whole file safely: O_NOFOLLOW, regular file, owner root, mode as
 * kind requires, at most max bytes. On success *buf is NUL-terminated and
 * *len excludes the NUL. Returns 0, -ENOENT when the file does not exist
 * (logged only at debug), or another negative errno (logged with the path and
 * the reason). The caller frees with tgotp_freezero(*buf, *len + 1). */
int tgotp_read_file(const char *path, enum tgotp_file_kind kind, size_t max, char **buf,
		    size_t *len, const struct tgotp_log *log);

enum tgotp_secret_kind {
	TGOTP_SECRET_TOKEN,    /* visible ASCII only (it goes into an HTTP header) */
	TGOTP_SECRET_PASSWORD, /* any text but control characters, spaces kept */
};

/* First line of a secret file (token, bind password) without the line end;
 * rejects empty lines and what kind does not allow. NULL on failure
 * (logged, never with the secret). */
char *tgotp_read_secret_line(const char *path, enum tgotp_secret_kind kind,
			     const struct tgotp_log *log);

/* explicit_bzero then free; NULL is fine. */
void tgotp_freezero(void *p, size_t len);
/* Same for a NUL-terminated string. */
void tgotp_strfreezero(char *s);

#endif
