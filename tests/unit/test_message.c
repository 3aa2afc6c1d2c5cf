/* Unit tests: the texts the user sees and their directives
 * (src/message.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../src/message.h"

static void checks(void **state)
{
	char longest[TGOTP_MESSAGE_MAX + 2];

	(void)state;
	assert_null(tgotp_message_check("Telegram code: ", ""));
	assert_null(tgotp_message_check("Code sent to %p.", "p"));
	assert_null(tgotp_message_check("100%% sure, %n left", "n"));
	assert_null(tgotp_message_check("\xd0\x9a\xd0\xbe\xd0\xb4: ", ""));
	/* SECURITY: printf's directives are unknown, whatever the message */
	assert_non_null(tgotp_message_check("%s%s%n", "n"));
	assert_non_null(tgotp_message_check("%n", "p"));
	assert_non_null(tgotp_message_check("%p", ""));
	assert_non_null(tgotp_message_check("%1$n", "n"));
	assert_non_null(tgotp_message_check("ends in %", "p"));
	assert_non_null(tgotp_message_check("", ""));
	assert_non_null(tgotp_message_check("a\nb", ""));
	assert_non_null(tgotp_message_check("a\x1b[2Jb", ""));
	assert_non_null(tgotp_message_check("a\xc2\x9b"
					    "2Jb",
					    "")); /* C1 CSI */
	assert_non_null(tgotp_message_check("\xff", ""));
	assert_non_null(tgotp_message_check("\xed\xa0\x80", "")); /* a surrogate */
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_non_null(tgotp_message_check(longest, ""));
	longest[TGOTP_MESSAGE_MAX] = '\0';
	assert_null(tgotp_message_check(longest, ""));
}

static void expansion(void **state)
{
	struct tgotp_message_vars v = {"+44 \xe2\x80\xa2\xe2\x80\xa2 58", 2, 15};
	char out[TGOTP_MESSAGE_OUT_MAX];

	(void)state;
	assert_string_equal(tgotp_message_expand("sent to %p.", &v, out, sizeof(out)),
			    "sent to +44 \xe2\x80\xa2\xe2\x80\xa2 58.");
	assert_string_equal(tgotp_message_expand("Tries left: %n.", &v, out, sizeof(out)),
			    "Tries left: 2.");
	assert_string_equal(tgotp_message_expand("%m min, 100%%", &v, out, sizeof(out)),
			    "15 min, 100%");
	assert_string_equal(tgotp_message_expand("%%p%%%n", &v, out, sizeof(out)), "%p%2");
	/* what the check refuses is shown as written, never interpreted */
	assert_string_equal(tgotp_message_expand("%s%s%x%", &v, out, sizeof(out)), "%s%s%x%");
	v.p = NULL;
	assert_string_equal(tgotp_message_expand("[%p]", &v, out, sizeof(out)), "[-]");
	assert_string_equal(tgotp_message_expand("", &v, out, sizeof(out)), "");
}

static void cut_on_characters(void **state)
{
	struct tgotp_message_vars v = {"\xe2\x80\xa2\xe2\x80\xa2", 1234, 0};
	char out[8];

	(void)state;
	/* "ab" + two 3-byte bullets: the second does not fit in 7 bytes */
	assert_string_equal(tgotp_message_expand("ab%p", &v, out, sizeof(out)), "ab\xe2\x80\xa2");
	assert_string_equal(tgotp_message_expand("abcdef%n", &v, out, sizeof(out)), "abcdef1");
	assert_string_equal(
	    tgotp_message_expand("\xd0\x9a\xd0\x9a\xd0\x9a\xd0\x9a", &v, out, sizeof(out)),
	    "\xd0\x9a\xd0\x9a\xd0\x9a");
	assert_string_equal(tgotp_message_expand("x", &v, out, 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(checks),
	    cmocka_unit_test(expansion),
	    cmocka_unit_test(cut_on_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
