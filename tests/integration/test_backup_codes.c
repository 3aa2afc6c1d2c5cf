/* Backup codes and the balance warning through real libpam: a code works
 * once, whoever races for it; it stands in when Telegram cannot be used;
 * wrong ones are wrong tries and rate limited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "backup.h"
#include "harness.h"
#include "state.h"

#define LOGIN H_LOGIN

static char backup_path[512];

static void backup_config(const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text), "backup_codes_file = \"%s\"\n%s", backup_path,
		 extra ? extra : "");
	h_config(text);
}

static int setup(void **state)
{
	h_setup(state);
	snprintf(backup_path, sizeof(backup_path), "%s/backup", h_dir());
	unlink(backup_path);
	backup_config(NULL);
	return 0;
}

/* The file with a line per code of user's, hashed at yescrypt's lowest
 * cost: the module takes any crypt(3) hash, and valgrind runs stay short
 * (the default cost is tested in the unit tests and in new_codes_work). */
static void cheap_codes(const char *user, const char *const *codes, int n)
{
	struct crypt_data cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	FILE *f = fopen(backup_path, "a");
	int i;

	assert_non_null(f);
	for (i = 0; i < n; i++) {
		memset(&cd, 0, sizeof(cd));
		assert_non_null(crypt_gensalt_rn("$y$", 1, NULL, 0, salt, sizeof(salt)));
		fprintf(f, "%s %s\n", user, crypt_r(codes[i], salt, &cd));
	}
	fclose(f);
	assert_int_equal(chmod(backup_path, 0600), 0);
}

static int left(const char *user)
{
	struct tgotp_log quiet = {0};

	return tgotp_backup_count(backup_path, user, &quiet);
}

static int revokes(void)
{
	struct h_stats s;

	h_mock_stats(&s);
	return s.revoke;
}

/* Made by the library tgotp backup-codes uses, at the default cost:
 * accepted once at the Telegram prompt, refused the second time. */
static void new_codes_work(void **state)
{
	tgotp_backup_code codes[2];
	char sdir[600];
	struct tgotp_log quiet = {0};
	struct tgotp_state *st;
	struct h_login l = LOGIN();

	(void)state;
	snprintf(sdir, sizeof(sdir), "%s/state", h_dir());
	st = tgotp_state_open(sdir, &quiet);
	assert_non_null(st);
	assert_int_equal(tgotp_backup_replace(st, backup_path, "alice", 2, codes), TGOTP_STATE_OK);
	tgotp_state_close(st);
	l.answers[0] = codes[0];
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("backup_code");
	assert_true(h_log_has("backup_codes_left=1"));
	assert_int_equal(revokes(), 1); /* the Telegram code is not needed any more */
	assert_int_equal(left("alice"), 1);
	/* used: the second time it is a wrong try, every time */
	l = LOGIN(.answers = {codes[0], codes[0], codes[0]});
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_outcome("wrong_code");
	assert_true(h_messages_has(&l, "Wrong code. Tries left: 2."));
	assert_int_equal(left("alice"), 1);
	explicit_bzero(codes, sizeof(codes));
}

/* When no code can be sent the backup prompt stands in: the number is not
 * on Telegram, the user has no number, the Gateway is down (secure mode). */
static void backup_when_telegram_cannot_be_used(void **state)
{
	static const char *const carol[] = {"ppppp-ppppp", "qqqqq-qqqqq"};
	static const char *const bob[] = {"rrrrr-rrrrr"};
	static const char *const alice[] = {"sssss-sssss"};
	struct h_login l = LOGIN(.user = "carol", .answers = {"PPPPP PPPPP"});

	(void)state;
	cheap_codes("carol", carol, 2);
	cheap_codes("bob", bob, 1);
	cheap_codes("alice", alice, 1);
	h_run(&l); /* carol's number is not on Telegram */
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("backup_code");
	assert_true(h_log_has("telegram=not_on_telegram backup_codes_left=1"));
	assert_int_equal(l.prompts, 1);
	l = LOGIN(.user = "bob", .answers = {"rrrrr-rrrrr"}); /* no number */
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("telegram=unmapped backup_codes_left=0"));
	l = LOGIN(.user = "bob", .answers = {"rrrrr-rrrrr"}); /* none left: as before */
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("unmapped");
	assert_int_equal(l.prompts, 0);
	{
		char text[1024];

		/* the Gateway is down */
		snprintf(text, sizeof(text), "backup_codes_file = \"%s\"\n", backup_path);
		h_config_port("closed", text);
		l = LOGIN(.answers = {"sssss-sssss"});
		h_run(&l);
		assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
		assert_true(h_log_has("telegram=gateway_unavailable backup_codes_left=0"));
		/* failmode = safe lets the user in without asking */
		cheap_codes("alice", alice, 1);
		snprintf(text, sizeof(text), "backup_codes_file = \"%s\"\nfailmode = \"safe\"\n",
			 backup_path);
		h_config_port("closed", text);
		l = LOGIN(.answers = {"sssss-sssss"});
		h_run(&l);
		assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
		assert_outcome("gateway_unavailable");
		assert_int_equal(l.prompts, 0);
		assert_int_equal(left("alice"), 1);
	}
	{
		/* the Gateway answers, refusing: no money left, the first
		 * FLOOD_WAIT, a token it no longer accepts */
		static const char *const refusals[][2] = {
		    {"{\"mode\": \"error\", \"arg\": \"BALANCE_NOT_ENOUGH\", \"method\": "
		     "\"sendverificationmessage\"}",
		     "telegram=sending_refused"},
		    {"{\"mode\": \"error\", \"arg\": \"FLOOD_WAIT_30\"}",
		     "telegram=sending_refused"},
		    {"{\"mode\": \"error\", \"arg\": \"ACCESS_TOKEN_INVALID\"}",
		     "telegram=gateway_error"},
		};
		size_t i;
		int before;

		for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
			h_mock_reset();
			h_state_reset();
			backup_config(NULL);
			if (left("alice") == 0)
				cheap_codes("alice", alice, 1);
			before = left("alice");
			h_mock_fault(refusals[i][0]);
			l = LOGIN(.answers = {"sssss-sssss"});
			h_run(&l);
			assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
			assert_outcome("backup_code");
			assert_true(h_log_has(refusals[i][1]));
			assert_int_equal(left("alice"), before - 1);
		}
	}
}

/* A wrong backup code is a wrong try; each one checked takes a slot of
 * rate_limit, so guessing stops with the sends. */
static void wrong_backup_codes(void **state)
{
	static const char *const carol[] = {"ppppp-ppppp"};
	struct h_login l = LOGIN(.answers = {"abcde-fghjk", ANSWER_CODE});

	(void)state;
	cheap_codes("alice", carol, 1);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("success");
	assert_true(h_messages_has(&l, "Wrong code. Tries left: 2."));
	assert_int_equal(left("alice"), 1);
	cheap_codes("carol", carol, 1);
	backup_config("rate_limit = 2\n");
	l = LOGIN(.user = "carol", .answers = {"abcde-fghjk", "abcde-fghjm", "ppppp-ppppp"});
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_outcome("rate_limited");
	assert_true(h_messages_has(&l, "Tries left: 1."));
	assert_true(h_messages_has(&l, "Try again in"));
	assert_int_equal(left("carol"), 1); /* the right one was not even checked */
	l = LOGIN(.user = "carol", .answers = {"ppppp-ppppp"});
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_outcome("rate_limited");
	/* a code that looks like none is a wrong try without a slot */
	h_state_reset();
	l = LOGIN(.user = "carol", .answers = {"123456", "abc", "ppppp-ppppp"});
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("backup_code");
}

/* How a child of racing_logins_one_code ended. */
enum { CHILD_IN = 0, CHILD_REFUSED = 3, CHILD_OTHER = 4 };

static void racing_login(void)
{
	struct h_login l = LOGIN(.answers = {"zzzzz-zzzzz"});
	int code = CHILD_OTHER;

	h_run_as_written(&l);
	if (strcmp(l.result, "PAM_SUCCESS") == 0 && h_log_has("outcome=backup_code "))
		code = CHILD_IN;
	else if (strcmp(l.result, "PAM_MAXTRIES") == 0 && h_log_has("outcome=wrong_code "))
		code = CHILD_REFUSED;
	else
		fprintf(stderr, "racing login ended %s, log:\n%s", l.result, h_log());
	exit(code);
}

/* 20 logins at once with one backup code, typed at the Telegram prompt
 * (every one of them checks it): exactly one gets in. */
static void racing_logins_one_code(void **state)
{
	enum { N = 20 };
	static const char *const code[] = {"zzzzz-zzzzz"};
	struct h_login l = LOGIN();
	pid_t pids[N];
	int i, status, in = 0, refused = 0, other = 0;

	(void)state;
	cheap_codes("alice", code, 1);
	backup_config("rate_limit = 100\nmax_tries = 1\n");
	h_service(&l); /* once, before any child reads it */
	fflush(NULL);
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			racing_login();
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_IN)
			in++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_REFUSED)
			refused++;
		else {
			fprintf(stderr, "racing login: %s %d\n",
				WIFSIGNALED(status) ? "signal" : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			other++;
		}
	}
	printf("race: %d logins with one backup code: %d in, %d refused, %d other\n", N, in,
	       refused, other);
	assert_int_equal(other, 0);
	assert_int_equal(in, 1);
	assert_int_equal(refused, N - 1);
	assert_int_equal(left("alice"), 0);
}

static int count_in_log(const char *needle)
{
	const char *p = h_log();
	int n = 0;

	while ((p = strstr(p, needle))) {
		n++;
		p++;
	}
	return n;
}

/* A balance below balance_warning: one warning a login, and the balance
 * kept for tgotp state; off by default. */
static void balance_warning(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char path[600], text[64] = "";
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/state/balance", h_dir());
	h_mock_config("{\"balance\": 1.5}");
	h_config(NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_int_equal(count_in_log("low_balance"), 0);
	assert_int_equal(access(path, F_OK), -1); /* nothing new kept by default */
	h_config("balance_warning = 1.48");
	h_run(&l);
	assert_int_equal(count_in_log("low_balance"), 0); /* 1.48 left: not below */
	h_config("balance_warning = 2.5");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_int_equal(count_in_log("low_balance remaining=1.4700 balance_warning=2.5000"), 1);
	l.answers[0] = ANSWER_WRONG; /* every Gateway answer of the login: still one line */
	l.answers[1] = ANSWER_WRONG;
	l.answers[2] = ANSWER_CODE;
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_int_equal(count_in_log("low_balance"), 1);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_non_null(strstr(text, " 1.4600\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(new_codes_work, setup),
	    cmocka_unit_test_setup(backup_when_telegram_cannot_be_used, setup),
	    cmocka_unit_test_setup(wrong_backup_codes, setup),
	    cmocka_unit_test_setup(racing_logins_one_code, setup),
	    cmocka_unit_test_setup(balance_warning, setup),
	};

	if (geteuid() != 0) {
		printf("SKIP: the backup code tests need root: the module accepts only root-owned "
		       "configuration, token, state and backup codes\n");
		return 77;
	}
	return cmocka_run_group_tests_name("pam_backup_codes", tests, h_group_setup,
					   h_group_teardown);
}
