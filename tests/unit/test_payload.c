/* Unit tests: the Gateway payload template (src/payload.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <stdbool.h>
#include <string.h>

#include "../../src/payload.h"

#define BULLET "\xe2\x80\xa2" /* U+2022, 3 bytes */

static const struct tgotp_payload_vars std_vars = {
    .service = "sshd", .user = "alice", .host = "host", .rhost = "10.0.0.1"};

static void test_check(void **state)
{
	(void)state;
	assert_int_equal(tgotp_payload_check("%s %u@%H from %r"), 0);
	assert_int_equal(tgotp_payload_check("%%"), 0);
	assert_int_equal(tgotp_payload_check("100%% %u"), 0);
	assert_int_equal(tgotp_payload_check("plain text"), 0);
	assert_int_equal(tgotp_payload_check("%x"), -1);
	assert_int_equal(tgotp_payload_check("%u %h"), -1); /* %h is not %H */
	assert_int_equal(tgotp_payload_check("%n"), -1);
	assert_int_equal(tgotp_payload_check("%u%"), -1); /* trailing '%' */
	assert_int_equal(tgotp_payload_check("%"), -1);
	assert_int_equal(tgotp_payload_check("%%%"), -1);
}

static void assert_expand(const char *tmpl, const struct tgotp_payload_vars *v, const char *want)
{
	char out[TGOTP_PAYLOAD_MAX + 1];

	memset(out, 'x', sizeof(out));
	assert_int_equal(tgotp_payload_expand(tmpl, v, out), 0);
	assert_string_equal(out, want);
}

static void test_expand_default(void **state)
{
	(void)state;
	assert_expand("%s %u@%H from %r", &std_vars, "sshd alice@host from 10.0.0.1");
	assert_expand("%%u=%u 100%%", &std_vars, "%u=alice 100%");
	assert_expand("%r%r", &std_vars, "10.0.0.110.0.0.1");
	assert_expand("", &std_vars, "");
}

static void test_expand_missing_values(void **state)
{
	const struct tgotp_payload_vars nulls = {NULL, NULL, NULL, NULL};
	const struct tgotp_payload_vars empties = {"", "", "", ""};

	(void)state;
	assert_expand("%s %u@%H from %r", &nulls, "- -@- from -");
	assert_expand("%s %u@%H from %r", &empties, "- -@- from -");
}

static void test_expand_invalid_template(void **state)
{
	char out[TGOTP_PAYLOAD_MAX + 1];

	(void)state;
	assert_int_equal(tgotp_payload_expand("%u %x", &std_vars, out), -1);
	assert_int_equal(tgotp_payload_expand("%u%", &std_vars, out), -1);
}

static void test_expand_strips_control(void **state)
{
	const struct tgotp_payload_vars v = {.service = "ss\x01hd",
					     .user = "al\x1b[31mice",
					     .host = "ho\x7fst",
					     .rhost = "10.0.0.1\r\nFAKE LOG LINE\t"};
	char out[TGOTP_PAYLOAD_MAX + 1];

	(void)state;
	assert_int_equal(tgotp_payload_expand("%s %u@%H from %r", &v, out), 0);
	assert_false(has_control(out));
	assert_non_null(strstr(out, "[31mice"));
	assert_non_null(strstr(out, "FAKE LOG LINE"));
}

static void test_expand_cut_ascii(void **state)
{
	char user[300];
	char out[TGOTP_PAYLOAD_MAX + 1];

	(void)state;
	memset(user, 'a', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	const struct tgotp_payload_vars v = {"sshd", user, "host", "10.0.0.1"};
	assert_int_equal(tgotp_payload_expand("%s %u@%H from %r", &v, out), 0);
	assert_int_equal(strlen(out), TGOTP_PAYLOAD_MAX);
	assert_memory_equal(out, "sshd aaaa", 9);
}

static void test_expand_cut_utf8(void **state)
{
	char user[3 * 60 + 1] = "";
	char out[TGOTP_PAYLOAD_MAX + 1];
	int i;

	(void)state;
	for (i = 0; i < 60; i++)
		strcat(user, BULLET);
	const struct tgotp_payload_vars v = {"sshd", user, "host", "10.0.0.1"};

	/* 42 bullets = 126 bytes fit in 128; the 43rd would not. */
	assert_int_equal(tgotp_payload_expand("%u", &v, out), 0);
	assert_int_equal(strlen(out), 126);
	assert_true(valid_utf8(out));

	/* "x" + 42 bullets = 127 bytes. */
	assert_int_equal(tgotp_payload_expand("x%u", &v, out), 0);
	assert_int_equal(strlen(out), 127);
	assert_true(valid_utf8(out));

	/* "xy" + 42 bullets = 128 bytes exactly. */
	assert_int_equal(tgotp_payload_expand("xy%u", &v, out), 0);
	assert_int_equal(strlen(out), 128);
	assert_true(valid_utf8(out));

	/* "xyz" + 41 bullets = 126 bytes: the 42nd would make 129. */
	assert_int_equal(tgotp_payload_expand("xyz%u", &v, out), 0);
	assert_int_equal(strlen(out), 126);
	assert_true(valid_utf8(out));
}

static void test_expand_invalid_utf8_in_values(void **state)
{
	const struct tgotp_payload_vars v = {"sshd", "al\xff\xfeice", "ho\xc0\xafst",
					     "10.0.0.1\xe2\x80"};
	char out[TGOTP_PAYLOAD_MAX + 1];

	(void)state;
	assert_int_equal(tgotp_payload_expand("%s %u@%H from %r", &v, out), 0);
	assert_true(valid_utf8(out));
	assert_memory_equal(out, "sshd al", 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_expand_default),
	    cmocka_unit_test(test_expand_missing_values),
	    cmocka_unit_test(test_expand_invalid_template),
	    cmocka_unit_test(test_expand_strips_control),
	    cmocka_unit_test(test_expand_cut_ascii),
	    cmocka_unit_test(test_expand_cut_utf8),
	    cmocka_unit_test(test_expand_invalid_utf8_in_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
