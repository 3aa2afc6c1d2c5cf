/* SPDX-License-Identifier: BSD-3-Clause */
/* Backup codes: single-use codes for the day the phone is lost or Telegram
 * cannot be reached, made by `tgotp backup-codes` and typed at the code
 * prompt.
 *
 * The file (backup_codes_file), root's, mode 0600 or 0400 (it is read as a
 * secret: TGOTP_FILE_SECRET), at most TGOTP_BACKUP_FILE_MAX bytes:
 *
 *   "<user> <hash>\n"  one line per unused code of <user>; <hash> is the
 *                      crypt(3) hash of the code as tgotp_backup_normalise
 *                      writes it ("xxxxx-xxxxx", lower case): yescrypt
 *                      ("$y$") where libcrypt has it, else SHA-512 ("$6$");
 *                      any hash crypt(3) knows is accepted. The user name
 *                      is everything before the last space (a hash has no
 *                      space).
 *   "#..." and ""      comments and blank lines, kept as they are
 *
 * Any other line makes the whole file unusable (logged with its line): no
 * code of anybody's is accepted from it, and nothing is rewritten.
 *
 * A code is 10 letters of TGOTP_BACKUP_ALPHABET (no i, l or o, which look
 * like digits or each other), from getrandom(), written "xxxxx-xxxxx":
 * about 45 bits. It cannot be mistaken for a Telegram code (digits only).
 *
 * Changes (a code used, a user's codes replaced) happen under the state
 * directory's host-wide lock (state.h, ".lock"), re-reading the file after
 * the lock is had and replacing it atomically: temporary file beside it,
 * fsync, rename, fsync of the directory; owner and mode kept. Two logins
 * racing with one code: the second finds the line gone. */
#ifndef TGOTP_BACKUP_H
#define TGOTP_BACKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "state.h"

#define TGOTP_BACKUP_ALPHABET  "abcdefghjkmnpqrstuvwxyz"
#define TGOTP_BACKUP_CODE_LEN  11 /* "xxxxx-xxxxx" */
#define TGOTP_BACKUP_COUNT_MAX 100
#define TGOTP_BACKUP_FILE_MAX  (1024 * 1024)

typedef char tgotp_backup_code[TGOTP_BACKUP_CODE_LEN + 1];

/* Whether s has the shape of a backup code: 10 letters, a dash after the
 * fifth or none, blanks anywhere; out gets the form that is hashed (lower
 * case, with the dash). Letters outside the alphabet are let through: the
 * hash check refuses them like any other wrong code. */
bool tgotp_backup_normalise(const char *s, tgotp_backup_code out);

/* How many codes user has left in path: 0 when path is "" or does not
 * exist, -1 when it cannot be used (logged). */
int tgotp_backup_count(const char *path, const char *user, const struct tgotp_log *log);

enum tgotp_backup_result {
	TGOTP_BACKUP_USED,  /* code was one of user's: it is gone from the file */
	TGOTP_BACKUP_WRONG, /* none of user's codes (or another login used it first) */
	TGOTP_BACKUP_NONE,  /* user has no codes: nothing was checked */
	TGOTP_BACKUP_ERROR, /* the file or the state is unusable (logged): not accepted */
	TGOTP_BACKUP_BUSY,  /* the lock was not had in time (logged): not accepted */
};

/* Checks code (normalised) against user's codes in constant time per hash,
 * and on a match removes that code from the file before returning USED.
 * *left is user's codes left afterwards (-1 when unknown). */
enum tgotp_backup_result tgotp_backup_use(struct tgotp_state *st, const char *path,
					  const char *user, const char *code, int *left);

/* Replaces user's codes in path with n (1..TGOTP_BACKUP_COUNT_MAX) new ones,
 * written into codes to be shown once; creates the file (root, 0600) when
 * missing. OK, BUSY or ERROR (logged). */
enum tgotp_verdict tgotp_backup_replace(struct tgotp_state *st, const char *path, const char *user,
					int n, tgotp_backup_code *codes);

/* The crypt(3) hash of code with a new salt (yescrypt, else SHA-512) into
 * out (cap bytes). 0, or -1 (logged). */
int tgotp_backup_hash(const char *code, char *out, size_t cap, const struct tgotp_log *log);

#endif
