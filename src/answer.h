/* SPDX-License-Identifier: BSD-3-Clause */
/* What the user typed at the code prompt. */
#ifndef TGOTP_ANSWER_H
#define TGOTP_ANSWER_H

#include <stddef.h>

#define TGOTP_ANSWER_MAX 64

enum tgotp_answer {
	TGOTP_ANSWER_EMPTY,	  /* nothing but blanks: the user gave up */
	TGOTP_ANSWER_CODE,	  /* exactly code_length digits: worth a Gateway check */
	TGOTP_ANSWER_BACKUP,	  /* the shape of a backup code (backup.h): letters, a dash */
	TGOTP_ANSWER_MALFORMED,	  /* anything else: a wrong try, no Gateway call */
	TGOTP_ANSWER_SSHD_DENIED, /* sshd's failed-password marker */
	TGOTP_ANSWER_NO_REPLY,	  /* the conversation failed (set by the module,
				     never by tgotp_answer_classify) */
};

/* OpenSSH hands PAM this password for unknown or denied users, and puts it
 * in place of every answer of a user it will refuse anyway. */
extern const char tgotp_sshd_bad_password[];

/* Which kind of answer resp is to a prompt for code_length digits. Blanks
 * anywhere are dropped ("123 456"); code receives at most
 * TGOTP_ANSWER_MAX - 1 of the remaining bytes, or for a backup code its
 * normalised form (tgotp_backup_normalise). */
enum tgotp_answer tgotp_answer_classify(const char *resp, long code_length,
					char code[TGOTP_ANSWER_MAX]);

#endif
