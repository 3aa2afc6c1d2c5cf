/* Unit tests: log callback (src/log.c) and cleaning of untrusted text (src/text.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/log.h"
#include "../../src/text.h"

#define BULLET "\xe2\x80\xa2" /* U+2022, 3 bytes */

struct capture {
	int n;
	int prio;
	char last[8192];
};

static void capture_fn(void *ctx, int prio, const char *msg)
{
	struct capture *c = ctx;

	c->n++;
	c->prio = prio;
	strncpy(c->last, msg, sizeof(c->last) - 1);
	c->last[sizeof(c->last) - 1] = '\0';
}

static void assert_sanitize(const char *in, size_t inlen, size_t outlen, const char *want)
{
	char out[256];

	assert_true(outlen <= sizeof(out));
	memset(out, 'x', sizeof(out));
	assert_ptr_equal(tgotp_text_copy_printable(in, inlen, out, outlen), out);
	assert_string_equal(out, want);
}

#define SAN(in, outlen, want) assert_sanitize(in, sizeof(in) - 1, outlen, want)

static void test_sanitize_plain(void **state)
{
	(void)state;
	SAN("PHONE_NUMBER_INVALID", 64, "PHONE_NUMBER_INVALID");
	SAN("", 64, "");
	SAN("caf\xc3\xa9 " BULLET " \xf0\x9f\x94\x91", 64,
	    "caf\xc3\xa9 " BULLET " \xf0\x9f\x94\x91");
}

static void test_sanitize_control(void **state)
{
	(void)state;
	SAN("a\x01z", 64, "a?z");
	SAN("a\x1b[31mz", 64, "a?[31mz");
	SAN("line\r\nFAKE", 64, "line??FAKE");
	SAN("tab\there", 64, "tab?here");
	SAN("del\x7f", 64, "del?");
	SAN("\x1f\x20", 64, "? ");
}

static void test_sanitize_invalid_utf8(void **state)
{
	static const char *bad[] = {
	    "\xff",		/* never valid */
	    "\x80",		/* lone continuation */
	    "\xc0\xaf",		/* overlong '/' */
	    "\xe0\x80\xaf",	/* overlong */
	    "\xed\xa0\x80",	/* surrogate */
	    "\xf4\x90\x80\x80", /* above U+10FFFF */
	    "\xe2\x80",		/* truncated bullet */
	    "\xe2\x80z",	/* truncated bullet then ASCII */
	};
	char in[32], out[64];
	size_t i;

	(void)state;
	SAN("a\xffz", 64, "a?z");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), "<%s>", bad[i]);
		tgotp_text_copy_printable(in, strlen(in), out, sizeof(out));
		assert_true(valid_utf8(out));
		assert_false(has_control(out));
		assert_int_equal(out[0], '<');
		assert_int_equal(out[strlen(out) - 1], '>');
		assert_non_null(strchr(out, '?'));
	}
	/* The ASCII after a truncated sequence survives. */
	tgotp_text_copy_printable("\xe2\x80z", 3, out, sizeof(out));
	assert_int_equal(out[strlen(out) - 1], 'z');
}

static void test_sanitize_cut(void **state)
{
	(void)state;
	SAN("abcdef", 4, "abc");
	SAN("abcdef", 1, "");
	/* "ab" + bullet is 5 bytes: room for 4 keeps "ab", room for 5 keeps it whole. */
	SAN("ab" BULLET, 5, "ab");
	SAN("ab" BULLET, 6, "ab" BULLET);
	SAN("ab" BULLET, 4, "ab");
	SAN("a" BULLET "b", 5, "a" BULLET);
	/* inlen is honoured: no read past it. */
	assert_sanitize("abcdef", 3, 64, "abc");
	/* A multibyte sequence cut by inlen is invalid, not copied half. */
	{
		char out[16];

		tgotp_text_copy_printable("ab" BULLET, 4, out, sizeof(out));
		assert_true(valid_utf8(out));
		assert_memory_equal(out, "ab", 2);
	}
}

static void test_log_formats_and_routes(void **state)
{
	struct capture c = {0};
	struct tgotp_log log = {capture_fn, &c, false};

	(void)state;
	tgotp_log(&log, LOG_ERR, "user %s rc %d", "alice", 3);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.prio, LOG_ERR);
	assert_string_equal(c.last, "user alice rc 3");

	tgotp_log(&log, LOG_WARNING, "%s", "fail open");
	assert_int_equal(c.n, 2);
	assert_int_equal(c.prio, LOG_WARNING);
	assert_string_equal(c.last, "fail open");

	tgotp_log(&log, LOG_INFO, "%s", BULLET);
	assert_string_equal(c.last, BULLET);
}

static void test_log_debug_gate(void **state)
{
	struct capture c = {0};
	struct tgotp_log log = {capture_fn, &c, false};

	(void)state;
	tgotp_log(&log, LOG_DEBUG, "hidden %d", 1);
	assert_int_equal(c.n, 0);
	tgotp_log(&log, LOG_INFO, "shown");
	assert_int_equal(c.n, 1);

	log.debug = true;
	tgotp_log(&log, LOG_DEBUG, "visible %d", 2);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.prio, LOG_DEBUG);
	assert_string_equal(c.last, "visible 2");
}

static void test_log_strips_control(void **state)
{
	struct capture c = {0};
	struct tgotp_log log = {capture_fn, &c, true};

	(void)state;
	tgotp_log(&log, LOG_ERR, "user %s from %s", "al\nice", "host\x1b[2J\r\x7f");
	assert_int_equal(c.n, 1);
	assert_false(has_control(c.last));
	assert_memory_equal(c.last, "user al", 7);
	assert_non_null(strstr(c.last, "ice from host"));

	tgotp_log(&log, LOG_ERR, "bad utf8 %s", "\xff\xfe");
	assert_int_equal(c.n, 2);
	assert_true(valid_utf8(c.last));
	assert_false(has_control(c.last));
}

static void test_log_null_safe(void **state)
{
	struct tgotp_log nofn = {NULL, NULL, true};

	(void)state;
	tgotp_log(NULL, LOG_ERR, "dropped %s", "x");
	tgotp_log(&nofn, LOG_ERR, "dropped %s", "x");
}

static void test_log_long_line(void **state)
{
	struct capture c = {0};
	struct tgotp_log log = {capture_fn, &c, false};
	size_t n = 100 * 1024;
	char *big = malloc(n + 1);

	(void)state;
	assert_non_null(big);
	memset(big, 'A', n);
	big[n] = '\0';
	tgotp_log(&log, LOG_ERR, "long %s end", big);
	assert_int_equal(c.n, 1);
	assert_memory_equal(c.last, "long AAAA", 9);
	assert_false(has_control(c.last));
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sanitize_plain),	   cmocka_unit_test(test_sanitize_control),
	    cmocka_unit_test(test_sanitize_invalid_utf8),  cmocka_unit_test(test_sanitize_cut),
	    cmocka_unit_test(test_log_formats_and_routes), cmocka_unit_test(test_log_debug_gate),
	    cmocka_unit_test(test_log_strips_control),	   cmocka_unit_test(test_log_null_safe),
	    cmocka_unit_test(test_log_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
