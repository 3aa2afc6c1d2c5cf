/* Unit tests of src/ldapdir.c: RFC 4515 escaping of the user name for LDAP
 * filters, and the configuration checks the lookup makes before it touches
 * the network. The lookups against a real directory are in
 * tests/integration/test_ldap.c. */
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

#include "../../src/ldapdir.h"

static const char *escaped(const char *in)
{
	static char out[1024];

	assert_int_equal(tgotp_ldap_escape(in, out, sizeof(out)), 0);
	return out;
}

/* --- tgotp_ldap_escape ------------------------------------------------- */

static void test_plain_names_unchanged(void **state)
{
	(void)state;
	assert_string_equal(escaped("alice"), "alice");
	assert_string_equal(escaped("j.doe-2@example.org"), "j.doe-2@example.org");
	assert_string_equal(escaped(""), "");
	/* UTF-8 passes as it is: the server compares it as UTF-8 */
	assert_string_equal(escaped("j\xc3\xbcrgen"), "j\xc3\xbcrgen");
}

static void test_rfc4515_characters(void **state)
{
	(void)state;
	assert_string_equal(escaped("*"), "\\2a");
	assert_string_equal(escaped("("), "\\28");
	assert_string_equal(escaped(")"), "\\29");
	assert_string_equal(escaped("\\"), "\\5c");
	assert_string_equal(escaped("alice)(uid=*"), "alice\\29\\28uid=\\2a");
	assert_string_equal(escaped("*)(|(uid=*"), "\\2a\\29\\28|\\28uid=\\2a");
	/* an escape written by the attacker is escaped again, not honoured */
	assert_string_equal(escaped("\\2a"), "\\5c2a");
}

static void test_control_characters(void **state)
{
	(void)state;
	assert_string_equal(escaped("a\001b"), "a\\01b");
	assert_string_equal(escaped("a\nb\r"), "a\\0ab\\0d");
	assert_string_equal(escaped("\x7f"), "\\7f");
	assert_string_equal(escaped("\x1f"), "\\1f");
}

static void test_nul_ends_the_name(void **state)
{
	static const char name[] = "nobody\0)(uid=*";

	(void)state;
	/* A C string (and a PAM user name) ends at the NUL: what follows is
	 * never part of the filter. */
	assert_string_equal(escaped(name), "nobody");
}

static void test_exact_fit(void **state)
{
	char out[8];

	(void)state;
	/* "a*" needs 1 + 3 bytes and the NUL */
	assert_int_equal(tgotp_ldap_escape("a*", out, 5), 0);
	assert_string_equal(out, "a\\2a");
	memset(out, 'x', sizeof(out));
	assert_int_equal(tgotp_ldap_escape("a*", out, 4), -1);
	assert_string_equal(out, ""); /* never half an escape */
	assert_int_equal(tgotp_ldap_escape("abc", out, 4), 0);
	assert_int_equal(tgotp_ldap_escape("abcd", out, 4), -1);
	assert_string_equal(out, "");
}

static void test_zero_size_untouched(void **state)
{
	char out[2] = {'x', 'y'};

	(void)state;
	assert_int_equal(tgotp_ldap_escape("", out, 0), -1);
	assert_int_equal(out[0], 'x');
	assert_int_equal(tgotp_ldap_escape("", out, 1), 0);
	assert_int_equal(out[0], '\0');
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Random bytes: the result never holds a raw * ( ) or a control
 * character, every backslash starts a two-digit escape, and unescaping
 * gives the input back. */
static void test_random_names(void **state)
{
	char in[301], out[1024], back[301];
	int round, i, n, o, b;

	(void)state;
	srand(4515);
	for (round = 0; round < 20000; round++) {
		n = rand() % 300;
		for (i = 0; i < n; i++)
			in[i] = (char)(1 + rand() % 255);
		in[n] = '\0';
		assert_int_equal(tgotp_ldap_escape(in, out, sizeof(out)), 0);
		for (o = 0, b = 0; out[o]; b++) {
			unsigned char c = (unsigned char)out[o];

			assert_true(c != '*' && c != '(' && c != ')' && c >= 0x20 && c != 0x7f);
			if (c == '\\') {
				assert_true(hexval(out[o + 1]) >= 0 && hexval(out[o + 2]) >= 0);
				back[b] = (char)(hexval(out[o + 1]) * 16 + hexval(out[o + 2]));
				o += 3;
			} else {
				back[b] = out[o++];
			}
		}
		back[b] = '\0';
		assert_string_equal(back, in);
	}
}

/* --- configuration checked before any connection ------------------------ */

static struct tgotp_ldap_config config(const char *filter)
{
	struct tgotp_ldap_config c = {0};

	c.enabled = true;
	c.uri = (char *)(uintptr_t) "ldap://127.0.0.1:1";
	c.base = (char *)(uintptr_t) "dc=example,dc=org";
	c.filter = (char *)(uintptr_t)filter;
	c.attribute = (char *)(uintptr_t) "mobile";
	c.bind_dn = (char *)(uintptr_t) "";
	c.bind_password_file = (char *)(uintptr_t) "";
	c.starttls = true;
	c.ca_file = (char *)(uintptr_t) "";
	c.timeout = 1;
	return c;
}

static void test_bad_filters_are_configuration_errors(void **state)
{
	static const char *const bad[] = {"(uid=%u",  "(uid=%u))", ")(uid=%u(", "(uid=alice)",
					  "(uid=%U)", "(uid=%u)%", "(cn=%s)",	"(uid=%%u)"};
	struct tgotp_ldap_config c;
	char phone[TGOTP_PHONE_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nlines = 0;
		snprintf(phone, sizeof(phone), "+15550000000"); /* cleared by each lookup */
		c = config(bad[i]);
		assert_int_equal(tgotp_ldap_lookup(&c, "", "alice", phone, &test_log),
				 TGOTP_LOOKUP_ERROR);
		assert_string_equal(phone, "");
		assert_true(log_contains("ldap: filter \""));
		/* refused before connecting: no word about the uri */
		assert_false(log_contains("127.0.0.1"));
	}
}

static void test_bind_settings_go_together(void **state)
{
	struct tgotp_ldap_config c = config("(uid=%u)");
	char phone[TGOTP_PHONE_MAX];

	(void)state;
	nlines = 0;
	c.bind_dn = (char *)(uintptr_t) "cn=reader,dc=example,dc=org";
	assert_int_equal(tgotp_ldap_lookup(&c, "", "alice", phone, &test_log), TGOTP_LOOKUP_ERROR);
	assert_true(log_contains("bind_dn and bind_password_file go together"));

	nlines = 0;
	c.bind_password_file = (char *)(uintptr_t) "/nonexistent/pam_tgotp.bindpw";
	assert_int_equal(tgotp_ldap_lookup(&c, "", "alice", phone, &test_log), TGOTP_LOOKUP_ERROR);
	assert_true(log_contains("/nonexistent/pam_tgotp.bindpw: does not exist"));
	assert_false(log_contains("127.0.0.1"));
}

/* SECURITY: no directory traffic in clear, even when the settings did not
 * come through the configuration parser: refused before the first uri is
 * tried. */
static void test_uris_checked_first(void **state)
{
	static const struct {
		const char *uri, *log;
	} bad[] = {
	    {"ldaps://127.0.0.1:1 ldap://127.0.0.1:1", "ldap:// with starttls = false would send"},
	    {"cldap://127.0.0.1:1", "not an ldap://, ldaps:// or ldapi:// uri"},
	    {"ldapi:///", "ldapi:// needs the socket's absolute path"},
	    {"ldapi://%2Ftmp%2Fldapi", "/tmp is writable by group or others"},
	    {" ", "uri must not be empty"},
	};
	struct tgotp_ldap_config c = config("(uid=%u)");
	char phone[TGOTP_PHONE_MAX];
	size_t i;

	(void)state;
	c.starttls = false;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nlines = 0;
		snprintf(phone, sizeof(phone), "+15550000000");
		c.uri = (char *)(uintptr_t)bad[i].uri;
		assert_int_equal(tgotp_ldap_lookup(&c, "", "alice", phone, &test_log),
				 TGOTP_LOOKUP_ERROR);
		assert_string_equal(phone, "");
		if (!log_contains(bad[i].log))
			fail_msg("%s: no log line with \"%s\"", bad[i].uri, bad[i].log);
		assert_false(log_contains("cannot connect"));
	}
}

static void test_unreachable_is_unavailable(void **state)
{
	struct tgotp_ldap_config c = config("(|(uid=%u)(mail=%u@example.org)(cn=100%%))");
	char phone[TGOTP_PHONE_MAX];

	(void)state;
	/* the filter is fine; nothing listens on port 1 */
	nlines = 0;
	assert_int_equal(tgotp_ldap_lookup(&c, "", "alice", phone, &test_log),
			 TGOTP_LOOKUP_UNAVAILABLE);
	assert_true(log_contains("ldap: ldap://127.0.0.1:1: cannot connect: Can't contact LDAP "
				 "server"));
	assert_true(log_contains("ldap: user alice: the directory cannot be reached"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_names_unchanged),
	    cmocka_unit_test(test_rfc4515_characters),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_nul_ends_the_name),
	    cmocka_unit_test(test_exact_fit),
	    cmocka_unit_test(test_zero_size_untouched),
	    cmocka_unit_test(test_random_names),
	    cmocka_unit_test(test_bad_filters_are_configuration_errors),
	    cmocka_unit_test(test_bind_settings_go_together),
	    cmocka_unit_test(test_uris_checked_first),
	    cmocka_unit_test(test_unreachable_is_unavailable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
