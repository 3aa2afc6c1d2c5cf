/* What tgotp state and tgotp reset read and clear in the state directory
 * (root only: the state must be root-owned). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "state_grace.h"
#include "state_limits.h"
#include "unit.h"

static char dir[64];

static struct tgotp_state *open_fresh(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return tgotp_state_open(dir, &test_log);
}

static void rate_listed_and_cleared(void **state)
{
	struct tgotp_state *st = open_fresh();
	time_t t[8];
	long retry;
	int n;

	(void)state;
	assert_non_null(st);
	assert_int_equal(tgotp_state_rate_take(st, "u", 3, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "u", 3, 100, 1010, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "v", 3, 100, 1005, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_list(st, "u", 100, 1050, t, 8, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(t[0], 1000); /* oldest first */
	assert_int_equal(t[1], 1010);
	/* outside the window: not counted */
	assert_int_equal(tgotp_state_rate_list(st, "u", 100, 1105, t, 8, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(tgotp_state_rate_clear(st, "u"), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_list(st, "u", 100, 1050, t, 8, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 0);
	/* another user's slots stay */
	assert_int_equal(tgotp_state_rate_list(st, "v", 100, 1050, t, 8, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 1);
	/* a cleared user gets codes again */
	assert_int_equal(tgotp_state_rate_take(st, "u", 1, 100, 1060, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "u", 1, 100, 1061, &retry), TGOTP_STATE_LIMITED);
	assert_int_equal(tgotp_state_rate_clear(st, "u"), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "u", 1, 100, 1062, &retry), TGOTP_STATE_OK);
	tgotp_state_close(st);
}

static void grace_listed_and_cleared(void **state)
{
	struct tgotp_state *st = open_fresh();
	struct tgotp_grace_entry e[4];
	bool granted;
	int n;

	(void)state;
	assert_non_null(st);
	assert_int_equal(tgotp_state_grace_record(st, "u", "sshd", "10.0.0.1", 1000),
			 TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_record(st, "u", "sudo", "bad\x1bhost", 1001),
			 TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_list(st, "u", e, 4, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].service, "sshd");
	assert_string_equal(e[0].rhost, "10.0.0.1");
	assert_int_equal(e[0].at, 1000);
	assert_string_equal(e[1].rhost, "bad?host"); /* control bytes never shown */
	assert_int_equal(tgotp_state_grace_clear(st, "u"), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_list(st, "u", e, 4, &n), TGOTP_STATE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(tgotp_state_grace_check(st, "u", "sshd", "10.0.0.1", 1002, 600, &granted),
			 TGOTP_STATE_OK);
	assert_false(granted);
	tgotp_state_close(st);
}

static void users_with_state(void **state)
{
	struct tgotp_state *st = open_fresh();
	char long_name[300], **users;
	long retry;

	(void)state;
	assert_non_null(st);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(tgotp_state_rate_take(st, "zed", 3, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, "a b", 3, 100, 1000, &retry), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_rate_take(st, long_name, 3, 100, 1000, &retry),
			 TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_grace_record(st, "zed", "sshd", "h", 1000), TGOTP_STATE_OK);
	users = tgotp_state_users(st);
	assert_non_null(users);
	assert_string_equal(users[0], "a b");
	assert_string_equal(users[1], long_name); /* from its section, not the hashed name */
	assert_string_equal(users[2], "zed");
	assert_null(users[3]);
	tgotp_state_users_free(users);
	tgotp_state_close(st);
}

static void budget_used(void **state)
{
	struct tgotp_state *st = open_fresh();
	long used = -1;

	(void)state;
	assert_non_null(st);
	assert_int_equal(tgotp_state_budget_used(st, 86400 * 100, &used), TGOTP_STATE_OK);
	assert_int_equal(used, 0);
	assert_int_equal(tgotp_state_budget_take(st, 5, 86400 * 100), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_take(st, 5, 86400 * 100 + 1), TGOTP_STATE_OK);
	assert_int_equal(tgotp_state_budget_used(st, 86400 * 100 + 2, &used), TGOTP_STATE_OK);
	assert_int_equal(used, 2);
	assert_int_equal(tgotp_state_budget_used(st, 86400 * 101, &used), TGOTP_STATE_OK);
	assert_int_equal(used, 0);
	tgotp_state_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rate_listed_and_cleared),
	    cmocka_unit_test(grace_listed_and_cleared),
	    cmocka_unit_test(users_with_state),
	    cmocka_unit_test(budget_used),
	};
	char cmd[128];
	int rc;

	if (geteuid() != 0) {
		printf("SKIP: the state directory must be root's\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/tgotp-state-admin.%d", (int)getpid());
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
