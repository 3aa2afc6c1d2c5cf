/* libFuzzer target: phone number normalisation and masking.
 * Input: a flag byte, then the text. Flag bit 0 set: the text is
 * "COUNTRY_CODE\nNUMBER" and the first line is the default country code;
 * clear: the whole text is the number and there is no default. */
#include <string.h>

#include "fuzz.h"
#include "../../src/phone.h"

static size_t digits(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s >= '0' && *s <= '9';
	return n;
}

static void check_mask(const char *e164)
{
	char masked[TGOTP_MASKED_MAX];
	size_t n = strlen(e164);

	tgotp_phone_mask(e164, masked);
	FUZZ_CHECK(strlen(masked) < TGOTP_MASKED_MAX);
	/* SECURITY: the country code and the last two digits, nothing more. */
	FUZZ_CHECK(masked[0] == '+');
	FUZZ_CHECK(strncmp(masked + 1, e164 + 1, tgotp_phone_cc_len(e164 + 1)) == 0);
	FUZZ_CHECK(strcmp(masked + strlen(masked) - 2, e164 + n - 2) == 0);
	FUZZ_CHECK(digits(masked) == tgotp_phone_cc_len(e164 + 1) + 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[TGOTP_PHONE_MAX], again[TGOTP_PHONE_MAX], masked[TGOTP_MASKED_MAX];
	char *text, *number, *cc = NULL, *nl;

	if (size < 1)
		return 0;
	/* The number is a C string wherever it comes from. */
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	number = text;
	if ((data[0] & 1) && (nl = strchr(text, '\n'))) {
		*nl = '\0';
		cc = text;
		number = nl + 1;
	}
	if (tgotp_phone_normalise(number, cc, out) == 0) {
		FUZZ_CHECK(fuzz_is_e164(out));
		/* Normalised is a fixed point, with or without a default. */
		FUZZ_CHECK(tgotp_phone_normalise(out, NULL, again) == 0 && strcmp(out, again) == 0);
		FUZZ_CHECK(tgotp_phone_normalise(out, "44", again) == 0 && strcmp(out, again) == 0);
		check_mask(out);
	} else {
		FUZZ_CHECK(out[0] == '\0');
	}
	/* Whatever the text, masking it is safe and gives a bounded string. */
	tgotp_phone_mask(number, masked);
	FUZZ_CHECK(strlen(masked) < TGOTP_MASKED_MAX);
	if (!fuzz_is_e164(number))
		FUZZ_CHECK(strcmp(masked, "(invalid)") == 0);
	free(text);
	return 0;
}
