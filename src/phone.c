/* SPDX-License-Identifier: BSD-3-Clause */
/* Phone numbers: the written forms people use normalised to E.164, and
 * the masked form users and logs are shown. */
#include <string.h>

#include "phone.h"

#define E164_MIN_DIGITS 8
#define E164_MAX_DIGITS 15

/* Two-digit ITU-T E.164 country calling codes; 1 and 7 are the one-digit
 * ones and every other code is three digits long. */
static const char *const two_digit_cc[] = {
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
    "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
};

size_t tgotp_phone_cc_len(const char *digits)
{
	size_t i;

	if (digits[0] == '1' || digits[0] == '7')
		return 1;
	for (i = 0; i < sizeof(two_digit_cc) / sizeof(two_digit_cc[0]); i++)
		if (strncmp(digits, two_digit_cc[i], 2) == 0)
			return 2;
	return 3;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_separator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/* Collects the digits of in (after an optional leading '+') into digits,
 * dropping separators. Sets *plus. -1 on any other character or overflow. */
static int collect_digits(const char *in, char *digits, size_t cap, int *plus)
{
	size_t n = 0;
	const char *p = in;

	while (is_separator(*p))
		p++;
	*plus = (*p == '+');
	if (*plus)
		p++;
	for (; *p; p++) {
		if (is_separator(*p))
			continue;
		if (!is_digit(*p) || n + 1 >= cap)
			return -1;
		digits[n++] = *p;
	}
	digits[n] = '\0';
	return n > 0 ? 0 : -1;
}

int tgotp_phone_normalise(const char *in, const char *default_cc, char out[TGOTP_PHONE_MAX])
{
	char digits[E164_MAX_DIGITS + 8];
	const char *national = digits;
	size_t cclen = default_cc ? strlen(default_cc) : 0, n;
	int plus;

	out[0] = '\0';
	if (!in || collect_digits(in, digits, sizeof(digits), &plus) < 0)
		return -1;
	if (!plus && strncmp(digits, "00", 2) == 0) {
		plus = 1;
		national = digits + 2;
	}
	if (plus) {
		n = strlen(national);
		if (n < E164_MIN_DIGITS || n > E164_MAX_DIGITS || national[0] == '0')
			return -1;
		out[0] = '+';
		memcpy(out + 1, national, n + 1);
		return 0;
	}
	if (cclen == 0 || strspn(default_cc, "0123456789") != cclen || default_cc[0] == '0')
		return -1;
	if (national[0] == '0')
		national++; /* national trunk prefix */
	n = cclen + strlen(national);
	if (n < E164_MIN_DIGITS || n > E164_MAX_DIGITS)
		return -1;
	out[0] = '+';
	memcpy(out + 1, default_cc, cclen);
	memcpy(out + 1 + cclen, national, strlen(national) + 1);
	return 0;
}

void tgotp_phone_mask(const char *e164, char out[TGOTP_MASKED_MAX])
{
	static const char bullets[] = "\u2022\u2022\u2022\u2022 \u2022\u2022";
	size_t n, cc;

	n = e164 ? strlen(e164) : 0;
	if (n < E164_MIN_DIGITS + 1 || n > E164_MAX_DIGITS + 1 || e164[0] != '+' ||
	    strspn(e164 + 1, "0123456789") != n - 1 || e164[1] == '0') {
		strcpy(out, "(invalid)");
		return;
	}
	cc = tgotp_phone_cc_len(e164 + 1);
	/* A fixed number of bullets: the mask does not tell the length. */
	out[0] = '+';
	memcpy(out + 1, e164 + 1, cc);
	out[1 + cc] = ' ';
	memcpy(out + 2 + cc, bullets, sizeof(bullets) - 1);
	memcpy(out + 2 + cc + sizeof(bullets) - 1, e164 + n - 2, 2);
	out[2 + cc + sizeof(bullets) - 1 + 2] = '\0';
}
