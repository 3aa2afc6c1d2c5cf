/* Unit tests: the library's one hex table, printable check and decimal
 * parser (src/text.c). Cleaning untrusted text is tested in test_log.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "../../src/text.h"

static void hex_bytes(void **state)
{
	char out[3] = "";

	(void)state;
	tgotp_hex_byte(out, 0x00);
	assert_string_equal(out, "00");
	tgotp_hex_byte(out, 0x7f);
	assert_string_equal(out, "7f");
	tgotp_hex_byte(out, 0xa5);
	assert_string_equal(out, "a5");
	tgotp_hex_byte(out, 0xff);
	assert_string_equal(out, "ff");
}

static bool line(const char *s)
{
	return tgotp_text_printable(s, strlen(s), TGOTP_TEXT_LINE);
}

static bool token(const char *s)
{
	return tgotp_text_printable(s, strlen(s), TGOTP_TEXT_TOKEN);
}

static void printable(void **state)
{
	(void)state;
	assert_true(line("Telegram code: "));
	assert_true(line("J\xc3\xb6rg"));
	assert_true(line(""));
	assert_false(line("a\tb"));
	assert_false(line("a\nb"));
	assert_false(line("a\x1b[2Jb"));
	assert_false(line("a\x7f"));
	assert_true(token("https://gatewayapi.telegram.org/~x"));
	assert_false(token("a b"));
	assert_false(token("J\xc3\xb6rg"));
	assert_false(token("a\r\nX-Injected: 1"));
	assert_false(token("a\x7f"));
	/* only the n bytes given are looked at */
	assert_true(tgotp_text_printable("ab\ncd", 2, TGOTP_TEXT_TOKEN));
	assert_true(tgotp_text_is_control(0x1f) && tgotp_text_is_control(0x7f));
	assert_false(tgotp_text_is_control(' ') || tgotp_text_is_control(0x80));
}

static int decimal(const char *s, long long max, long long *out)
{
	return tgotp_parse_decimal(s, strlen(s), max, out);
}

static void decimals(void **state)
{
	long long v = -1;

	(void)state;
	assert_int_equal(decimal("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(decimal("0042", 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(decimal("86400", 86400, &v), 0);
	assert_int_equal(v, 86400);
	assert_int_equal(decimal("9223372036854775807", LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MAX);

	v = -1;
	assert_int_equal(decimal("86401", 86400, &v), -ERANGE);
	assert_int_equal(decimal("9", 5, &v), -ERANGE);
	assert_int_equal(decimal("9223372036854775808", LLONG_MAX, &v), -ERANGE);
	assert_int_equal(decimal("99999999999999999999999", LLONG_MAX, &v), -ERANGE);
	assert_int_equal(v, -1); /* untouched when refused */

	assert_int_equal(decimal("", 10, &v), -EINVAL);
	assert_int_equal(decimal("-1", 10, &v), -EINVAL);
	assert_int_equal(decimal("+1", 10, &v), -EINVAL);
	assert_int_equal(decimal(" 1", 10, &v), -EINVAL);
	assert_int_equal(decimal("1 ", 10, &v), -EINVAL);
	assert_int_equal(decimal("0x10", 100, &v), -EINVAL);
	/* not a number beats too large: nothing after the digits is skipped */
	assert_int_equal(decimal("99999x", 10, &v), -EINVAL);
	assert_int_equal(v, -1);
	/* only the n bytes given are read */
	assert_int_equal(tgotp_parse_decimal("12\n", 2, 100, &v), 0);
	assert_int_equal(v, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hex_bytes),
	    cmocka_unit_test(printable),
	    cmocka_unit_test(decimals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
