/* Abuse limits through real libpam: codes per user, codes per day, the
 * FLOOD_WAIT pause, grace periods, and state that cannot be trusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

#define LOGIN H_LOGIN

static int sends(void)
{
	struct h_stats s;

	h_mock_stats(&s);
	return s.send;
}

static void state_path(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/state/%s", h_dir(), name);
}

static void write_state_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	state_path(name, path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
}

static void rate_limit_per_user(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_login bob = LOGIN(.user = "bob", .answers = {ANSWER_CODE});

	(void)state;
	h_users_file("bob +14155550101\n");
	h_config("rate_limit = 2\nrate_window = 600");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_true(h_messages_has(&l, "Try again in 10 minutes"));
	assert_true(h_log_has("outcome=rate_limited"));
	assert_int_equal(sends(), 2);
	h_run(&bob); /* another user has a count of its own */
	assert_result(&bob, PAM_SUCCESS, "PAM_SUCCESS");
}

static void failed_sends_do_not_count(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_config("rate_limit = 1");
	h_mock_fault("{\"mode\": \"http5xx\", \"count\": 2}");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
}

static void daily_budget(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_login bob = LOGIN(.user = "bob", .answers = {ANSWER_CODE});

	(void)state;
	h_users_file("bob +14155550101\n");
	h_config("daily_budget = 1\nfailmode = safe");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	h_run(&bob);
	/* SECURITY: a drained budget must not turn safe mode into no factor. */
	assert_result(&bob, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_true(h_log_has("outcome=daily_budget"));
	assert_int_equal(sends(), 1);
}

static void budget_of_another_day_is_reset(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_config("daily_budget = 1");
	h_run(&l); /* creates the state directory */
	h_state_reset();
	h_run(&l);
	write_state_file("budget", "2001-01-01 1\n");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
}

static void flood_wait_is_remembered(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_mock_fault("{\"mode\": \"error\", \"arg\": \"FLOOD_WAIT_120\", \"count\": 1}");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	h_mock_reset();
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_true(h_log_has("outcome=flood_wait"));
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
}

static void grace_period(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_login other = LOGIN(.rhost = "192.0.2.8", .answers = {ANSWER_CODE});
	struct h_login local = LOGIN(.rhost = NULL, .answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_config("grace_period = 300");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	h_mock_reset();
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("outcome=grace"));
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
	h_run(&other); /* another remote host is asked again */
	assert_result(&other, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("outcome=success"));
	h_run(&local);
	assert_result(&local, PAM_SUCCESS, "PAM_SUCCESS");
	h_run(&local); /* no rhost: never a grace */
	assert_true(h_log_has("outcome=success"));
}

static void grace_off_by_default(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_run(&l);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("outcome=success"));
	assert_int_equal(sends(), 2);
}

static void corrupt_rate_file_is_full(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_run(&l); /* creates the state directory */
	h_mock_reset();
	write_state_file("rate.alice", "12x\n");
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_true(h_log_has("corrupt"));
	assert_int_equal(sends(), 0);
}

static void foreign_state_is_refused(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char path[512];

	(void)state;
	h_run(&l);
	h_mock_reset();
	state_path("rate.alice", path, sizeof(path));
	assert_int_equal(chown(path, 65534, 65534), 0);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_int_equal(sends(), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	state_path("", path, sizeof(path));
	assert_int_equal(chmod(path, 0755), 0);
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_true(h_log_has("must be owned by root, mode 0700"));
	assert_int_equal(sends(), 0);
}

static void names_never_escape_the_directory(void **state)
{
	static const char *const names[] = {"../../escape", "a/b", "..", "%2e%2e", "x%y"};
	char conf[1024], path[512];
	size_t i;
	int files = 0;
	DIR *d;
	struct dirent *e;

	(void)state;
	conf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
			 "user \"%s\" { phone = \"+442079460958\" }\n", names[i]);
	h_config(conf);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct h_login l = LOGIN(.user = names[i], .answers = {ANSWER_CODE});
		h_run(&l);
		assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	}
	snprintf(path, sizeof(path), "%s/escape", h_dir());
	assert_int_not_equal(access(path, F_OK), 0);
	state_path("", path, sizeof(path));
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)))
		if (strncmp(e->d_name, "rate.", 5) == 0) {
			files++;
			assert_null(strchr(e->d_name + 5, '.'));
		}
	closedir(d);
	assert_int_equal(files, 5);
}

/* How a child of concurrent_logins_hold_the_limit ended. */
enum { CHILD_ANSWERED = 0, CHILD_LIMITED = 3, CHILD_OTHER = 4 };

/* One login of the concurrent ones; its result is the exit status. It
 * returns through exit(), not _exit(): LeakSanitizer and valgrind check
 * the child at its exit as they check the parent. */
static void concurrent_login(void)
{
	struct h_login l = LOGIN(.answers = {""});
	int code = CHILD_OTHER;

	h_run_as_written(&l);
	/* the empty answer ends a login that got a code */
	if (strcmp(l.result, "PAM_AUTH_ERR") == 0)
		code = CHILD_ANSWERED;
	else if (strcmp(l.result, "PAM_MAXTRIES") == 0)
		code = CHILD_LIMITED;
	else
		fprintf(stderr, "concurrent login ended %s, log:\n%s", l.result, h_log());
	exit(code);
}

/* Whether a child ended as one of the two results a login may have here;
 * says why not when it did not. */
static bool child_ended_well(int status)
{
	if (WIFEXITED(status) &&
	    (WEXITSTATUS(status) == CHILD_ANSWERED || WEXITSTATUS(status) == CHILD_LIMITED))
		return true;
	if (WIFSIGNALED(status))
		fprintf(stderr, "concurrent login killed by signal %d\n", WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 98)
		fprintf(stderr, "concurrent login: sanitizer report (exit 98)\n");
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 99)
		fprintf(stderr, "concurrent login: valgrind errors (exit 99)\n");
	else
		fprintf(stderr, "concurrent login: exit status %#x\n", status);
	return false;
}

/* 50 logins of one user at once never send more than rate_limit codes,
 * and every one of them ends answered or rate limited. */
static void concurrent_logins_hold_the_limit(void **state)
{
	enum { N = 50 };
	struct h_login l = LOGIN();
	pid_t pids[N];
	int i, status, limited = 0, answered = 0, other = 0;

	(void)state;
	h_config("rate_limit = 5");
	h_service(&l); /* once, before any child reads it */
	fflush(NULL);  /* children must not write the parent's buffers again */
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			concurrent_login();
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (!child_ended_well(status))
			other++;
		else if (WEXITSTATUS(status) == CHILD_LIMITED)
			limited++;
		else
			answered++;
	}
	printf("concurrency: %d logins at once: %d codes sent, %d logins got one, %d rate "
	       "limited, %d other\n",
	       N, sends(), answered, limited, other);
	assert_int_equal(other, 0);
	assert_int_equal(sends(), 5);
	assert_int_equal(answered, 5);
	assert_int_equal(limited, N - 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(rate_limit_per_user, h_setup),
	    cmocka_unit_test_setup(failed_sends_do_not_count, h_setup),
	    cmocka_unit_test_setup(daily_budget, h_setup),
	    cmocka_unit_test_setup(budget_of_another_day_is_reset, h_setup),
	    cmocka_unit_test_setup(flood_wait_is_remembered, h_setup),
	    cmocka_unit_test_setup(grace_period, h_setup),
	    cmocka_unit_test_setup(grace_off_by_default, h_setup),
	    cmocka_unit_test_setup(corrupt_rate_file_is_full, h_setup),
	    cmocka_unit_test_setup(foreign_state_is_refused, h_setup),
	    cmocka_unit_test_setup(names_never_escape_the_directory, h_setup),
	    cmocka_unit_test_setup(concurrent_logins_hold_the_limit, h_setup),
	};

	if (geteuid() != 0) {
		printf("SKIP: the limits tests need root: the module accepts only root-owned "
		       "configuration, token and state\n");
		return 77;
	}
	return cmocka_run_group_tests_name("pam_limits", tests, h_group_setup, h_group_teardown);
}
