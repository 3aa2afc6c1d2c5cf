/* The state locks through real libpam: a lock held by a stopped process
 * (a local user's Ctrl-Z'd sudo) ends the logins that need it with
 * PAM_AUTHINFO_UNAVAIL, outcome state_busy, within 3 s whatever failmode,
 * and logins that do not need it go on as if nothing happened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "../lock_holder.h"
#include "harness.h"

#define LOGIN H_LOGIN

/* The state lock's 2 s deadline (README) plus a login's own work: about 2.01 s
 * measured plain and under ASan, 2.12 s under valgrind on a quiet machine;
 * 6.2 s under valgrind on a loaded one, hence the margin's scale. */
#define BUSY_BOUND (2.0 + 1.0 * h_time_scale())

static pid_t holder = -1;
static pid_t logins[2] = {-1, -1}; /* children of start_login not waited for */

static int sends(void)
{
	struct h_stats s;

	h_mock_stats(&s);
	return s.send;
}

/* Starts a process that takes the lock file name of the state directory
 * and is then stopped, as a suspended sudo would be, until release_lock. */
static void hold_lock(const char *name)
{
	char path[512];
	int status;

	snprintf(path, sizeof(path), "%s/state", h_dir());
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/state/%s", h_dir(), name);
	holder = lock_holder_start(path);
	assert_true(holder > 0);
	assert_int_equal(kill(holder, SIGSTOP), 0);
	assert_int_equal(waitpid(holder, &status, WUNTRACED), holder);
	assert_true(WIFSTOPPED(status));
}

/* Replaces the entry from in logins with to. */
static void track_login(pid_t from, pid_t to)
{
	size_t i;

	for (i = 0; i < sizeof(logins) / sizeof(logins[0]); i++)
		if (logins[i] == from) {
			logins[i] = to;
			return;
		}
}

static void end_process(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static void release_lock(void)
{
	end_process(&holder);
}

/* Teardown of every test: the holder goes, stopped or not, and so do
 * logins a failed assertion left running. */
static int teardown(void **state)
{
	size_t i;

	(void)state;
	release_lock();
	for (i = 0; i < sizeof(logins) / sizeof(logins[0]); i++)
		end_process(&logins[i]);
	return 0;
}

/* What a login run in a child process reports back. */
struct busy_login {
	pid_t pid;
	int fd; /* read end of the report */
	int rc;
	char result[32];
	double seconds;
	bool state_busy, path_logged, told;
};

/* Runs l in a child process, so that a login that hangs fails the test
 * (killed by the alarm) instead of hanging it. lock_name is the lock the
 * log line must name. The service file is written here, before the fork:
 * a login of the parent meanwhile runs with it as written. The child
 * leaves through exit(), so LeakSanitizer and valgrind check it. */
static void start_login(struct busy_login *b, struct h_login *l, const char *lock_name)
{
	char path[512];
	int p[2];

	memset(b, 0, sizeof(*b));
	assert_int_equal(pipe(p), 0);
	h_service(l);
	fflush(NULL);
	b->pid = fork();
	assert_true(b->pid >= 0);
	if (b->pid == 0) {
		close(p[0]);
		alarm(15);
		h_run_as_written(l);
		b->rc = l->rc;
		memcpy(b->result, l->result, sizeof(b->result));
		b->seconds = l->seconds;
		b->state_busy = h_log_has("outcome=state_busy ");
		snprintf(path, sizeof(path), "%s/state/%s: lock not had", h_dir(), lock_name);
		b->path_logged = h_log_has(path);
		b->told = h_messages_has(l, "Telegram verification is not available.");
		if (!b->state_busy || !b->path_logged)
			fprintf(stderr, "login of %s, log:\n%s", l->user, h_log());
		exit(write(p[1], b, sizeof(*b)) == (ssize_t)sizeof(*b) ? 0 : 1);
	}
	close(p[1]);
	b->fd = p[0];
	track_login(-1, b->pid);
}

/* Waits for the login of start_login: it must have ended state_busy. */
static void assert_busy(struct busy_login *b, const char *who)
{
	struct busy_login r;
	ssize_t n = read(b->fd, &r, sizeof(r));
	int status;

	close(b->fd);
	assert_int_equal(waitpid(b->pid, &status, 0), b->pid);
	track_login(b->pid, -1);
	if (n != (ssize_t)sizeof(r)) {
		fprintf(stderr, "login of %s did not end (status %#x)\n", who, status);
		fail();
	}
	/* a report sent, then a sanitizer's or valgrind's exit code */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "login of %s ended with status %#x\n", who, status);
		fail();
	}
	printf("%s: %s%s after %.3f s\n", who, r.result, r.state_busy ? ", state_busy" : "",
	       r.seconds);
	assert_int_equal(r.rc, PAM_AUTHINFO_UNAVAIL);
	assert_string_equal(r.result, "PAM_AUTHINFO_UNAVAIL");
	assert_true(r.state_busy);
	assert_true(r.path_logged);
	assert_true(r.told);
	assert_true(r.seconds < BUSY_BOUND);
}

/* alice's lock is held: alice is turned away, bob logs in meanwhile. */
static void user_lock_held(void **state)
{
	struct h_login alice = LOGIN();
	struct h_login bob = LOGIN(.user = "bob", .answers = {ANSWER_CODE});
	struct busy_login b;

	(void)state;
	h_users_file("bob +14155550101\n");
	h_config("failmode = safe");
	hold_lock("lock.alice");
	start_login(&b, &alice, "lock.alice");
	h_run_as_written(&bob); /* the same stack as alice's, not rewritten */
	printf("bob: %s after %.3f s while alice's lock was held\n", bob.result, bob.seconds);
	assert_result(&bob, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("success");
	assert_busy(&b, "alice");
	assert_int_equal(sends(), 1);
	release_lock();
	alice.answers[0] = ANSWER_CODE;
	h_run(&alice);
	assert_result(&alice, PAM_SUCCESS, "PAM_SUCCESS");
}

/* A busy lock is never a grace period: the grace check ends the login. */
static void user_lock_held_is_no_grace(void **state)
{
	struct h_login alice = LOGIN(.answers = {ANSWER_CODE});
	struct busy_login b;

	(void)state;
	h_config("grace_period = 300\nfailmode = safe");
	h_run(&alice);
	assert_result(&alice, PAM_SUCCESS, "PAM_SUCCESS");
	h_mock_reset();
	hold_lock("lock.alice");
	start_login(&b, &alice, "lock.alice");
	assert_busy(&b, "alice (grace)");
	assert_int_equal(sends(), 0);
}

/* The host-wide lock is held: every login is turned away, none hangs. */
static void host_lock_held(void **state)
{
	struct h_login alice = LOGIN();
	struct h_login bob = LOGIN(.user = "bob");
	struct busy_login a, b;
	struct h_stats s;

	(void)state;
	h_users_file("bob +14155550101\n");
	h_config("failmode = safe\ndaily_budget = 100");
	hold_lock(".lock");
	start_login(&a, &alice, ".lock");
	start_login(&b, &bob, ".lock");
	assert_busy(&a, "alice");
	assert_busy(&b, "bob");
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
	release_lock();
	alice.answers[0] = ANSWER_CODE;
	h_run(&alice);
	assert_result(&alice, PAM_SUCCESS, "PAM_SUCCESS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(user_lock_held, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(user_lock_held_is_no_grace, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(host_lock_held, h_setup, teardown),
	};

	if (geteuid() != 0) {
		printf("SKIP: the state lock tests need root: the module accepts only root-owned "
		       "configuration, token and state\n");
		return 77;
	}
	return cmocka_run_group_tests_name("pam_state_locks", tests, h_group_setup,
					   h_group_teardown);
}
