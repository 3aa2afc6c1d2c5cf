/* Unit tests: phone number normalisation and masking (src/phone.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../src/phone.h"

#define BULLET "\xe2\x80\xa2" /* U+2022 */

static void assert_norm(const char *in, const char *cc, const char *want)
{
	char out[TGOTP_PHONE_MAX];

	memset(out, 'x', sizeof(out));
	assert_int_equal(tgotp_phone_normalise(in, cc, out), 0);
	assert_string_equal(out, want);
}

static void assert_reject(const char *in, const char *cc)
{
	char out[TGOTP_PHONE_MAX];

	memset(out, 'x', sizeof(out));
	assert_int_equal(tgotp_phone_normalise(in, cc, out), -1);
	assert_string_equal(out, ""); /* out is emptied on failure */
}

static void test_norm_written_forms(void **state)
{
	(void)state;
	assert_norm("+44 20 7946 0958", NULL, "+442079460958");
	assert_norm("0044 20 7946 0958", NULL, "+442079460958");
	assert_norm("+1-415-555-0101", NULL, "+14155550101");
	assert_norm("+1.415.555.0101", NULL, "+14155550101");
	assert_norm("+1 (415) 555-0101", NULL, "+14155550101");
	assert_norm("+442079460958", NULL, "+442079460958");
	/* A '+' number ignores the default country code. */
	assert_norm("+14155550101", "44", "+14155550101");
}

static void test_norm_default_cc(void **state)
{
	(void)state;
	assert_norm("(415) 555-0101", "1", "+14155550101");
	assert_norm("020 7946 0958", "44", "+442079460958"); /* trunk 0 dropped */
	assert_norm("20 7946 0958", "44", "+442079460958");
	/* "00" is the international prefix, not a trunk zero. */
	assert_norm("0044 20 7946 0958", "1", "+442079460958");
}

static void test_norm_no_cc_rejected(void **state)
{
	(void)state;
	assert_reject("(415) 555-0101", NULL);
	assert_reject("(415) 555-0101", "");
	assert_reject("020 7946 0958", "");
}

static void test_norm_bad_characters(void **state)
{
	(void)state;
	assert_reject("+44 20 CALL NOW", NULL);
	assert_reject("+44 20 7946 095O", NULL); /* letter O */
	assert_reject("+44 20 7946+0958", NULL);
	assert_reject("++442079460958", NULL);
	assert_reject("+44\t2079460958", NULL);
	assert_reject("+442079460958\n", NULL);
	assert_reject("+44\r2079460958", NULL);
	assert_reject("+44_2079460958", NULL);
	assert_reject("+44/2079460958", NULL);
	assert_reject("+442079460958;", NULL);
}

static void test_norm_length_bounds(void **state)
{
	(void)state;
	assert_reject("+1234567", NULL);				/* 7 digits */
	assert_norm("+12345678", NULL, "+12345678");			/* 8 */
	assert_norm("+123456789012345", NULL, "+123456789012345");	/* 15 */
	assert_reject("+1234567890123456", NULL);			/* 16 */
	assert_norm("+1 234 567 890 123 45", NULL, "+123456789012345"); /* 15 with separators */
	assert_reject("+1 234 567 890 123 456", NULL);			/* 16 with separators */
	/* default_cc counts towards the 15. */
	assert_reject("0123456789012345", "44");
}

static void test_norm_empty_and_degenerate(void **state)
{
	(void)state;
	assert_reject("", "44");
	assert_reject("+", NULL);
	assert_reject("00", NULL);
	assert_reject("0", "44");
	assert_reject("   ", "44");
	assert_reject("()-.", "44");
	assert_reject("+0442079460958", NULL);	/* first digit 0 */
	assert_reject("000442079460958", NULL); /* "00" then 0 */
}

static void test_norm_huge_input(void **state)
{
	size_t n = 10 * 1024;
	char *big = malloc(n + 1);

	(void)state;
	assert_non_null(big);
	big[0] = '+';
	memset(big + 1, '4', n - 1);
	big[n] = '\0';
	assert_reject(big, "44");
	/* Without '+': the default cc path must not overflow either. */
	memset(big, '1', n);
	assert_reject(big, "44");
	free(big);
}

static void assert_mask(const char *e164, const char *want)
{
	char out[TGOTP_MASKED_MAX];

	memset(out, 'x', sizeof(out));
	tgotp_phone_mask(e164, out);
	assert_string_equal(out, want);
}

static void test_mask(void **state)
{
	(void)state;
	assert_mask("+442079460958", "+44 " BULLET BULLET BULLET BULLET " " BULLET BULLET "58");
	assert_mask("+14155550101", "+1 " BULLET BULLET BULLET BULLET " " BULLET BULLET "01");
	assert_mask("+380441234567", "+380 " BULLET BULLET BULLET BULLET " " BULLET BULLET "67");
	assert_mask("+79161234567", "+7 " BULLET BULLET BULLET BULLET " " BULLET BULLET "67");
	assert_mask("+998901234567", "+998 " BULLET BULLET BULLET BULLET " " BULLET BULLET "67");
	/* Longest possible (3-digit cc, 15 digits) still fits. */
	assert_mask("+380123456789012", "+380 " BULLET BULLET BULLET BULLET " " BULLET BULLET "12");
}

static size_t count_digits(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += (*s >= '0' && *s <= '9');
	return n;
}

static void test_mask_reveals_only_cc_and_two(void **state)
{
	static const char *nums[] = {"+442079460958", "+14155550101",	  "+380441234567",
				     "+12345678",     "+123456789012345", "+8613800138000",
				     "+85212345678",  "+4930123456"};
	char out[TGOTP_MASKED_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		tgotp_phone_mask(nums[i], out);
		assert_int_equal(count_digits(out), tgotp_phone_cc_len(nums[i] + 1) + 2);
		assert_true(strlen(out) < TGOTP_MASKED_MAX);
	}
}

static void test_mask_invalid(void **state)
{
	(void)state;
	assert_mask("", "(invalid)");
	assert_mask("442079460958", "(invalid)");     /* no '+' */
	assert_mask("+44 20 7946 0958", "(invalid)"); /* not normalised */
	assert_mask("+1234567", "(invalid)");	      /* too short */
	assert_mask("+1234567890123456", "(invalid)");
	assert_mask("+0442079460958", "(invalid)");
	assert_mask("+44207946095x", "(invalid)");
	assert_mask("+", "(invalid)");
}

static void test_cc_len(void **state)
{
	(void)state;
	assert_int_equal(tgotp_phone_cc_len("14155550101"), 1);	  /* NANP */
	assert_int_equal(tgotp_phone_cc_len("79161234567"), 1);	  /* Russia */
	assert_int_equal(tgotp_phone_cc_len("442079460958"), 2);  /* UK */
	assert_int_equal(tgotp_phone_cc_len("4930123456"), 2);	  /* Germany */
	assert_int_equal(tgotp_phone_cc_len("33123456789"), 2);	  /* France */
	assert_int_equal(tgotp_phone_cc_len("2012345678"), 2);	  /* Egypt */
	assert_int_equal(tgotp_phone_cc_len("27123456789"), 2);	  /* South Africa */
	assert_int_equal(tgotp_phone_cc_len("5511912345678"), 2); /* Brazil */
	assert_int_equal(tgotp_phone_cc_len("61412345678"), 2);	  /* Australia */
	assert_int_equal(tgotp_phone_cc_len("8613800138000"), 2); /* China */
	assert_int_equal(tgotp_phone_cc_len("919876543210"), 2);  /* India */
	assert_int_equal(tgotp_phone_cc_len("380441234567"), 3);  /* Ukraine */
	assert_int_equal(tgotp_phone_cc_len("998901234567"), 3);  /* Uzbekistan */
	assert_int_equal(tgotp_phone_cc_len("353861234567"), 3);  /* Ireland */
	assert_int_equal(tgotp_phone_cc_len("420601123456"), 3);  /* Czechia */
	assert_int_equal(tgotp_phone_cc_len("85212345678"), 3);	  /* Hong Kong */
	assert_int_equal(tgotp_phone_cc_len("8801712345678"), 3); /* Bangladesh */
	assert_int_equal(tgotp_phone_cc_len("971501234567"), 3);  /* UAE */
	assert_int_equal(tgotp_phone_cc_len("212612345678"), 3);  /* Morocco */
	assert_int_equal(tgotp_phone_cc_len("234801234567"), 3);  /* Nigeria */
	assert_int_equal(tgotp_phone_cc_len("5016101234"), 3);	  /* Belize */
	assert_int_equal(tgotp_phone_cc_len("5959812345678"), 3); /* Paraguay */
	assert_int_equal(tgotp_phone_cc_len("6791234567"), 3);	  /* Fiji */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_norm_written_forms),
	    cmocka_unit_test(test_norm_default_cc),
	    cmocka_unit_test(test_norm_no_cc_rejected),
	    cmocka_unit_test(test_norm_bad_characters),
	    cmocka_unit_test(test_norm_length_bounds),
	    cmocka_unit_test(test_norm_empty_and_degenerate),
	    cmocka_unit_test(test_norm_huge_input),
	    cmocka_unit_test(test_mask),
	    cmocka_unit_test(test_mask_reveals_only_cc_and_two),
	    cmocka_unit_test(test_mask_invalid),
	    cmocka_unit_test(test_cc_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
