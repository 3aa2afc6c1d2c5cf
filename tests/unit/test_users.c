/* Unit tests: the users_file format, lookup in it, and the file as tgotp
 * check judges it and tgotp enroll rewrites it (src/users.c). */
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
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/users.h"

/* --- tgotp_users_parse_line ----------------------------------------------- */

static void assert_line(const char *text, const char *want_name, const char *want_number)
{
	char buf[256];
	char *name = NULL, *number = NULL;

	snprintf(buf, sizeof(buf), "%s", text);
	assert_int_equal(tgotp_users_parse_line(buf, &name, &number), 1);
	assert_non_null(name);
	assert_non_null(number);
	assert_string_equal(name, want_name);
	assert_string_equal(number, want_number);
}

static void assert_line_rc(const char *text, int want)
{
	char buf[256];
	char *name = NULL, *number = NULL;

	snprintf(buf, sizeof(buf), "%s", text);
	assert_int_equal(tgotp_users_parse_line(buf, &name, &number), want);
}

static void test_parse_line_entries(void **state)
{
	(void)state;
	assert_line("alice +44 20 7946 0958", "alice", "+44 20 7946 0958");
	assert_line("alice +442079460958", "alice", "+442079460958");
	assert_line("   alice    +44 20 7946 0958   ", "alice", "+44 20 7946 0958");
	assert_line("alice\t+442079460958", "alice", "+442079460958");
	assert_line("\talice \t +442079460958\t", "alice", "+442079460958");
	assert_line("alice +442079460958\r", "alice", "+442079460958");
	assert_line("bob.smith@EXAMPLE.ORG (415) 555-0101", "bob.smith@EXAMPLE.ORG",
		    "(415) 555-0101");
}

static void test_parse_line_nothing(void **state)
{
	(void)state;
	assert_line_rc("# comment", 0);
	assert_line_rc("#alice +442079460958", 0);
	assert_line_rc("   # indented comment", 0);
	assert_line_rc("\t# indented comment", 0);
	assert_line_rc("", 0);
	assert_line_rc("   ", 0);
	assert_line_rc("\t \t", 0);
	assert_line_rc("\r", 0); /* what a CRLF file leaves after the split on '\n' */
}

static void test_parse_line_malformed(void **state)
{
	(void)state;
	assert_line_rc("alice", -1);
	assert_line_rc("alice   ", -1);
	assert_line_rc("  alice\t\r", -1);
}

/* --- tgotp_users_find_in_text --------------------------------------------- */

static enum tgotp_lookup find(const char *text, const char *user, const char *cc, char *phone)
{
	nlines = 0;
	memset(phone, 'x', TGOTP_PHONE_MAX);
	return tgotp_users_find_in_text(text, user, cc, phone, &test_log);
}

static void assert_found(const char *text, const char *user, const char *cc, const char *want)
{
	char phone[TGOTP_PHONE_MAX];

	assert_int_equal(find(text, user, cc, phone), TGOTP_LOOKUP_FOUND);
	assert_string_equal(phone, want);
}

static void assert_not_found(const char *text, const char *user, const char *cc)
{
	char phone[TGOTP_PHONE_MAX];

	assert_int_equal(find(text, user, cc, phone), TGOTP_LOOKUP_NOT_FOUND);
}

static const char map[] = "# pam_tgotp users\n"
			  "\n"
			  "alice +44 20 7946 0958\n"
			  "  bob\t(415) 555-0101  \n"
			  "Alice +14155550199\n"
			  "alice2 +14155550102\n";

static void test_find_exact(void **state)
{
	(void)state;
	assert_found(map, "alice", "1", "+442079460958");
	assert_found(map, "bob", "1", "+14155550101");
	assert_found(map, "Alice", "1", "+14155550199");
	assert_found(map, "alice2", "1", "+14155550102");
	assert_not_found(map, "alic", "1");
	assert_not_found(map, "ALICE", "1");
	assert_not_found(map, "alice3", "1");
	assert_not_found(map, "", "1");
	assert_not_found(map, "carol", "1");
	/* The comment's words are not entries. */
	assert_not_found(map, "#", "1");
	assert_not_found(map, "pam_tgotp", "1");
}

static void test_find_prefix_not_match(void **state)
{
	(void)state;
	/* Only alice2 is present: alice must not match it. */
	assert_not_found("alice2 +14155550102\n", "alice", NULL);
	assert_not_found("Alice +14155550102\n", "alice", NULL);
	assert_not_found("alice +14155550102\n", "alice2", NULL);
}

static void test_find_first_wins(void **state)
{
	(void)state;
	assert_found("alice +442079460958\nalice +14155550101\n", "alice", NULL, "+442079460958");
}

static void test_find_invalid_skipped(void **state)
{
	char phone[TGOTP_PHONE_MAX];

	(void)state;
	/* 20 digits: cannot normalise. Skipped, logged, never logged whole. */
	assert_int_equal(find("alice +44 20 7946 0958 0958 0958\n", "alice", NULL, phone),
			 TGOTP_LOOKUP_NOT_FOUND);
	assert_true(nlines > 0);
	assert_false(log_contains("7946"));
	assert_false(log_contains("2079460958"));

	assert_not_found("alice +44 20 CALL NOW\n", "alice", NULL);
	assert_not_found("alice 020 7946 0958\n", "alice", NULL); /* no '+', no default cc */
	/* Other users' entries still work around a bad one. */
	assert_found("carol not-a-number\nbob +14155550101\n", "bob", NULL, "+14155550101");
	/* A malformed line (no number) does not end the lookup. */
	assert_found("carol\nbob +14155550101\n", "bob", NULL, "+14155550101");
}

static void test_find_default_cc(void **state)
{
	(void)state;
	assert_found("alice 020 7946 0958\n", "alice", "44", "+442079460958");
	assert_found("alice 0044 20 7946 0958\n", "alice", "1", "+442079460958");
	assert_found("alice +1 415 555 0101\n", "alice", "44", "+14155550101");
}

static void test_find_line_endings(void **state)
{
	(void)state;
	assert_found("bob +1 415 555 0101\r\nalice +44 20 7946 0958\r\n", "alice", NULL,
		     "+442079460958");
	assert_found("bob +1 415 555 0101\r\nalice +44 20 7946 0958\r\n", "bob", NULL,
		     "+14155550101");
	assert_found("bob +14155550101\nalice +442079460958", "alice", NULL, "+442079460958");
	assert_found("alice +442079460958", "alice", NULL, "+442079460958");
	assert_not_found("", "alice", NULL);
	assert_not_found("\n\n# only comments\n", "alice", NULL);
}

/* --- tgotp_users_check_text, tgotp_users_set ----------------------------- */

static char dir[64], path[96];

static void write_file(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* tgotp_users_set keeps to the module's rule: the file must be root's. */
static bool root_or_skip(const char *name)
{
	if (geteuid() == 0)
		return true;
	printf("SKIP: %s: the users file must be root's\n", name);
	skip();
	return false;
}

static void check_reports_lines(void **state)
{
	(void)state;
	nlines = nerr = 0;
	assert_int_equal(tgotp_users_check_text("F",
						"# c\nalice +442079460958\n\nbob\ncarol 12\n"
						"alice +14155550101\n",
						"", &test_log),
			 2);
	assert_true(log_contains("F:4: not a \"user +E164\" line"));
	assert_true(log_contains("F:5: user carol: the phone number is not valid E.164"));
	assert_true(log_contains("F:6: user alice: also on line 2"));
	assert_false(log_contains("12")); /* never the number */
	nlines = nerr = 0;
	assert_int_equal(tgotp_users_check_text("F", "", "", &test_log), 0);
	assert_int_equal(nerr, 0);
}

static void set_replaces_and_appends(void **state)
{
	struct stat st;

	(void)state;
	if (!root_or_skip("set_replaces_and_appends"))
		return;
	write_file("# map\nalice +441\n\nbob +1 415 555 0101\nalice +442\n# end", 0640);
	assert_int_equal(chown(path, 0, 4), 0);
	assert_int_equal(tgotp_users_set(path, "alice", "+442079460958", &test_log), 0);
	assert_string_equal(unit_read_file(path),
			    "# map\nalice +442079460958\n\nbob +1 415 555 0101\n# end");
	assert_int_equal(tgotp_users_set(path, "carol", "+14155550199", &test_log), 0);
	assert_string_equal(unit_read_file(path),
			    "# map\nalice +442079460958\n\nbob +1 415 555 0101\n# "
			    "end\ncarol +14155550199\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, 4);
}

static void set_new_file_and_refusals(void **state)
{
	struct stat st;

	(void)state;
	if (!root_or_skip("set_new_file_and_refusals"))
		return;
	unlink(path);
	assert_int_equal(tgotp_users_set(path, "dave", "+442079460958", &test_log), 0);
	assert_string_equal(unit_read_file(path), "dave +442079460958\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* an unsafe file is left alone, as the module would refuse it */
	write_file("x +442079460958\n", 0666);
	assert_int_equal(tgotp_users_set(path, "dave", "+442079460958", &test_log), -1);
	assert_string_equal(unit_read_file(path), "x +442079460958\n");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(tgotp_users_set(path, "two words", "+442079460958", &test_log), -1);
	assert_int_equal(tgotp_users_set(path, "#x", "+442079460958", &test_log), -1);
	assert_string_equal(unit_read_file(path), "x +442079460958\n");
}

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tgotp-users-edit.%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/users", dir);
	return mkdir(dir, 0755);
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_line_entries),
	    cmocka_unit_test(test_parse_line_nothing),
	    cmocka_unit_test(test_parse_line_malformed),
	    cmocka_unit_test(test_find_exact),
	    cmocka_unit_test(test_find_prefix_not_match),
	    cmocka_unit_test(test_find_first_wins),
	    cmocka_unit_test(test_find_invalid_skipped),
	    cmocka_unit_test(test_find_default_cc),
	    cmocka_unit_test(test_find_line_endings),
	    cmocka_unit_test(check_reports_lines),
	    cmocka_unit_test(set_replaces_and_appends),
	    cmocka_unit_test(set_new_file_and_refusals),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
