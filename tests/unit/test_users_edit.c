/* The users file as tgotp check judges it and tgotp enroll rewrites it,
 * and the module arguments as both the module and tgotp check read them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modargs.h"
#include "users.h"
#include "unit.h"

static char dir[64], path[96];

static void write_file(const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static char *read_back(void)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
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
	write_file("# map\nalice +441\n\nbob +1 415 555 0101\nalice +442\n# end", 0640);
	assert_int_equal(chown(path, 0, 4), 0);
	assert_int_equal(tgotp_users_set(path, "alice", "+442079460958", &test_log), 0);
	assert_string_equal(read_back(),
			    "# map\nalice +442079460958\n\nbob +1 415 555 0101\n# end");
	assert_int_equal(tgotp_users_set(path, "carol", "+14155550199", &test_log), 0);
	assert_string_equal(read_back(), "# map\nalice +442079460958\n\nbob +1 415 555 0101\n# "
					 "end\ncarol +14155550199\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, 4);
}

static void set_new_file_and_refusals(void **state)
{
	struct stat st;

	(void)state;
	unlink(path);
	assert_int_equal(tgotp_users_set(path, "dave", "+442079460958", &test_log), 0);
	assert_string_equal(read_back(), "dave +442079460958\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* an unsafe file is left alone, as the module would refuse it */
	write_file("x +442079460958\n", 0666);
	assert_int_equal(tgotp_users_set(path, "dave", "+442079460958", &test_log), -1);
	assert_string_equal(read_back(), "x +442079460958\n");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(tgotp_users_set(path, "two words", "+442079460958", &test_log), -1);
	assert_int_equal(tgotp_users_set(path, "#x", "+442079460958", &test_log), -1);
	assert_string_equal(read_back(), "x +442079460958\n");
}

static void module_arguments(void **state)
{
	const char *ok[] = {"debug", "config=/etc/x.conf"}, *bad1[] = {"faillmode=safe"},
		   *bad2[] = {"config=relative"};
	struct tgotp_args a;
	const char *bad;

	(void)state;
	assert_int_equal(tgotp_args_parse(2, ok, &a, &bad), 0);
	assert_true(a.debug);
	assert_string_equal(a.config, "/etc/x.conf");
	assert_int_equal(tgotp_args_parse(0, ok, &a, &bad), 0);
	assert_false(a.debug);
	assert_string_equal(a.config, "/etc/security/pam_tgotp.conf");
	assert_int_equal(tgotp_args_parse(1, bad1, &a, &bad), -1);
	assert_string_equal(bad, "faillmode=safe");
	assert_int_equal(tgotp_args_parse(1, bad2, &a, &bad), -1);
	assert_string_equal(bad, "config=relative");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(check_reports_lines),
	    cmocka_unit_test(set_replaces_and_appends),
	    cmocka_unit_test(set_new_file_and_refusals),
	    cmocka_unit_test(module_arguments),
	};
	char cmd[128];
	int rc;

	if (geteuid() != 0) {
		printf("SKIP: the users file must be root's\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/tgotp-users-edit.%d", (int)getpid());
	snprintf(path, sizeof(path), "%s/users", dir);
	if (mkdir(dir, 0755) < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
