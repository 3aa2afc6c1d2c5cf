/* Shared by the libFuzzer targets: a log that formats every line and keeps
 * none (the parsers' error paths run, nothing piles up), and a check that
 * aborts so a broken invariant is a finding like a crash. */
#ifndef TGOTP_FUZZ_H
#define TGOTP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_discard(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	(void)msg;
}

/* debug on: the LOG_DEBUG lines are formatted too. */
static const struct tgotp_log fuzz_log = {fuzz_discard, NULL, true};

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* No byte below 0x20 and no DEL: what tgotp_text_copy_printable promises. */
static inline bool fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return false;
	return true;
}

/* '+' then 8..15 digits, the first not 0: what normalisation promises. */
static inline bool fuzz_is_e164(const char *s)
{
	size_t n = 0;

	if (s[0] != '+' || s[1] < '1' || s[1] > '9')
		return false;
	for (s++; *s; s++, n++)
		if (*s < '0' || *s > '9')
			return false;
	return n >= 8 && n <= 15;
}

#endif
