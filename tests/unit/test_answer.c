/* What the user types at the code prompt, and log field escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "answer.h"
#include "log.h"

static enum tgotp_answer read6(const char *resp, char code[TGOTP_ANSWER_MAX])
{
	return tgotp_answer_classify(resp, 6, code);
}

/* A code: what is left once the blanks are gone goes to the Gateway. */
static void codes(void **state)
{
	static const struct {
		const char *resp;
		long length;
		const char *code;
	} cases[] = {
	    {"123456", 6, "123456"},	   {"  123 456\r\n", 6, "123456"},
	    {"1\t2 3 4 5 6", 6, "123456"}, {"\n\r\t 000000", 6, "000000"},
	    {"12345678", 8, "12345678"},   {"1234 5678\n", 8, "12345678"},
	};
	char code[TGOTP_ANSWER_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(code, 'J', sizeof(code));
		code[sizeof(code) - 1] = '\0';
		assert_int_equal(tgotp_answer_classify(cases[i].resp, cases[i].length, code),
				 TGOTP_ANSWER_CODE);
		assert_string_equal(code, cases[i].code);
	}
}

static void not_codes(void **state)
{
	char code[TGOTP_ANSWER_MAX], big[4096];

	(void)state;
	assert_int_equal(read6("", code), TGOTP_ANSWER_EMPTY);
	assert_int_equal(read6(" \t\r\n", code), TGOTP_ANSWER_EMPTY);
	assert_int_equal(read6("12345", code), TGOTP_ANSWER_MALFORMED);
	assert_int_equal(read6("1234567", code), TGOTP_ANSWER_MALFORMED);
	assert_int_equal(read6("123456123456", code), TGOTP_ANSWER_MALFORMED);
	assert_int_equal(read6("12345a", code), TGOTP_ANSWER_MALFORMED);
	assert_int_equal(read6("-12345", code), TGOTP_ANSWER_MALFORMED);
	assert_int_equal(read6("\xef\xbc\x91\xef\xbc\x92", code), TGOTP_ANSWER_MALFORMED);
	memset(big, '7', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(read6(big, code), TGOTP_ANSWER_MALFORMED);
	assert_true(strlen(code) < TGOTP_ANSWER_MAX);
	assert_int_equal(read6("\b\n\r\177INCORRECT", code), TGOTP_ANSWER_SSHD_DENIED);
}

/* Letters and a dash: a backup code, whatever code_length; normalised. */
static void backup_codes(void **state)
{
	char code[TGOTP_ANSWER_MAX];

	(void)state;
	assert_int_equal(read6("abcde-fghjk", code), TGOTP_ANSWER_BACKUP);
	assert_string_equal(code, "abcde-fghjk");
	assert_int_equal(read6(" ABCDE FGHJK ", code), TGOTP_ANSWER_BACKUP);
	assert_string_equal(code, "abcde-fghjk");
	assert_int_equal(tgotp_answer_classify("abcdefghjk", 8, code), TGOTP_ANSWER_BACKUP);
	assert_int_equal(read6("abcde-fghj", code), TGOTP_ANSWER_MALFORMED);
	assert_int_equal(read6("abcde-12345", code), TGOTP_ANSWER_MALFORMED);
	assert_int_equal(read6("1234567890", code), TGOTP_ANSWER_MALFORMED);
}

static void log_fields(void **state)
{
	char out[64];

	(void)state;
	assert_string_equal(tgotp_log_field("alice", out, sizeof(out)), "alice");
	assert_string_equal(tgotp_log_field(NULL, out, sizeof(out)), "-");
	assert_string_equal(tgotp_log_field("", out, sizeof(out)), "-");
	assert_string_equal(tgotp_log_field("x outcome=success", out, sizeof(out)),
			    "x%20outcome%3dsuccess");
	assert_string_equal(tgotp_log_field("a\"b%c\nd", out, sizeof(out)), "a%22b%25c%0ad");
	assert_string_equal(tgotp_log_field("\xc3\xa9t\xc3\xa9", out, sizeof(out)),
			    "\xc3\xa9t\xc3\xa9");
	memset(out, 0, sizeof(out));
	tgotp_log_field("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			out, sizeof(out));
	assert_true(strlen(out) < sizeof(out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(codes),
	    cmocka_unit_test(not_codes),
	    cmocka_unit_test(backup_codes),
	    cmocka_unit_test(log_fields),
	};

	return cmocka_run_group_tests_name("answer", tests, NULL, NULL);
}
