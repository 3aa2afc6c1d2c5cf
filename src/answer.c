/* SPDX-License-Identifier: BSD-3-Clause */
/* What the user typed at the code prompt: a code worth a Gateway check, a
 * wrong try, nothing, or sshd's failed-password marker. */
#include <stdbool.h>
#include <string.h>

#include "answer.h"
#include "backup.h"

const char tgotp_sshd_bad_password[] = "\b\n\r\177INCORRECT";

enum tgotp_answer tgotp_answer_classify(const char *resp, long code_length,
					char code[TGOTP_ANSWER_MAX])
{
	size_t n = 0, i;
	bool digits_only = true;
	tgotp_backup_code backup;

	code[0] = '\0';
	if (strcmp(resp, tgotp_sshd_bad_password) == 0)
		return TGOTP_ANSWER_SSHD_DENIED;
	for (i = 0; resp[i]; i++) {
		if (resp[i] == ' ' || resp[i] == '\t' || resp[i] == '\r' || resp[i] == '\n')
			continue;
		if (resp[i] < '0' || resp[i] > '9')
			digits_only = false;
		if (n < TGOTP_ANSWER_MAX - 1)
			code[n] = resp[i];
		n++;
	}
	code[n < TGOTP_ANSWER_MAX - 1 ? n : TGOTP_ANSWER_MAX - 1] = '\0';
	if (n == 0)
		return TGOTP_ANSWER_EMPTY;
	/* Anything but code_length digits cannot be right: not worth a call. */
	if (digits_only && code_length > 0 && n == (size_t)code_length)
		return TGOTP_ANSWER_CODE;
	/* letters and a dash: never a Telegram code, whatever code_length */
	if (tgotp_backup_normalise(resp, backup)) {
		memcpy(code, backup, sizeof(backup));
		explicit_bzero(backup, sizeof(backup));
		return TGOTP_ANSWER_BACKUP;
	}
	return TGOTP_ANSWER_MALFORMED;
}
