/* SPDX-License-Identifier: BSD-3-Clause */
/* Phone numbers: the written forms people use, normalised to E.164, and the
 * masked form users and logs are shown. */
#ifndef TGOTP_PHONE_H
#define TGOTP_PHONE_H

#include <stddef.h>

#define TGOTP_PHONE_MAX	 17 /* '+', 15 digits, NUL */
#define TGOTP_MASKED_MAX 32 /* "+CCC " + 6 bullets of 3 bytes + space + 2 digits + NUL */

/* Drops spaces, dashes, dots and parentheses; "00" becomes '+'; a number
 * without '+' gets default_cc (digits, may be NULL or empty: then rejected)
 * with one national trunk '0' dropped. The result is '+' and 8..15 digits,
 * first digit not 0. Returns 0 and fills out, or -1 (out is emptied). */
int tgotp_phone_normalise(const char *in, const char *default_cc, char out[TGOTP_PHONE_MAX]);

/* "+44 •••• ••89": the country calling code and the last two digits.
 * e164 must be normalised; anything else gives "(invalid)". */
void tgotp_phone_mask(const char *e164, char out[TGOTP_MASKED_MAX]);

/* Length of the ITU country calling code that starts digits (1..3). */
size_t tgotp_phone_cc_len(const char *digits);

#endif
