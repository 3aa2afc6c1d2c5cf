/* One account, one name: the module keys everything on NSS's own name of
 * the user (pw_name), whatever spelling the login was given.
 *
 * NSS here is this program's own getpwnam_r: the test binary is linked with
 * -rdynamic, so its definition interposes on libc's for the dlopen'ed module
 * (as an LD_PRELOAD shim would), and it answers the way sssd or winbind
 * with a case-insensitive directory do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

#define LOGIN H_LOGIN

/* The spellings a case-insensitive directory accepts for alice. */
static const char *const alice_names[] = {"alice", "Alice", "ALICE", "alice@corp.example"};

static int fill_alice(struct passwd *pw, char *buf, size_t len, struct passwd **result)
{
	static const char fields[] = "alice\0x\0\0/nonexistent\0/bin/false";

	*result = NULL;
	if (len < sizeof(fields))
		return ERANGE;
	memcpy(buf, fields, sizeof(fields));
	pw->pw_name = buf;
	pw->pw_passwd = buf + 6;
	pw->pw_gecos = buf + 8;
	pw->pw_dir = buf + 9;
	pw->pw_shell = buf + 22;
	pw->pw_uid = 4242;
	pw->pw_gid = 4242;
	*result = pw;
	return 0;
}

/* Exported (the build hides symbols by default) so that it interposes. */
__attribute__((visibility("default"))) int
getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **result);

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **result)
{
	int (*real)(const char *, struct passwd *, char *, size_t, struct passwd **);
	size_t i;

	for (i = 0; i < sizeof(alice_names) / sizeof(alice_names[0]); i++)
		if (strcmp(name, alice_names[i]) == 0)
			return fill_alice(pw, buf, len, result);
	if (strcmp(name, "nss-broken") == 0) {
		*result = NULL;
		return EIO; /* the directory behind NSS is down */
	}
	*(void **)&real = dlsym(RTLD_NEXT, "getpwnam_r");
	return real ? real(name, pw, buf, len, result) : ENOENT;
}

static void other_spellings_get_alices_number(void **state)
{
	size_t i;

	(void)state;
	h_config("unmapped = \"ignore\"");
	for (i = 1; i < sizeof(alice_names) / sizeof(alice_names[0]); i++) {
		struct h_login l = LOGIN(.user = alice_names[i], .answers = {ANSWER_CODE});
		char given[128];

		h_mock_reset();
		h_run(&l);
		/* SECURITY: not PAM_IGNORE: "Alice" is alice, who has a number. */
		assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
		assert_string_equal(h_mock_last_param("phone_number"), "+442079460958");
		assert_true(h_log_has("user=alice given_user="));
		snprintf(given, sizeof(given), "given_user=%s ", alice_names[i]);
		assert_true(h_log_has(given));
		assert_outcome("success");
	}
}

/* user_source = ruser: the caller's name goes through NSS as well; the
 * log keeps the account in user= and names the caller in ruser=. */
static void ruser_is_canonicalised(void **state)
{
	struct h_login l = LOGIN(.user = "root", .ruser = "ALICE", .answers = {ANSWER_CODE});
	struct h_login broken =
	    LOGIN(.user = "root", .ruser = "nss-broken", .answers = {ANSWER_CODE});

	(void)state;
	h_users_file("root +14155550101\nnss-broken +14155550101\n");
	h_config("user_source = \"ruser\"");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_string_equal(h_mock_last_param("phone_number"), "+442079460958");
	assert_true(h_log_has("user=root ruser=alice given_ruser=ALICE service="));
	h_run(&broken);
	assert_result(&broken, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("nss_error");
}

static void spellings_share_one_rate_limit(void **state)
{
	struct h_login l;
	size_t i;

	(void)state;
	h_config("rate_limit = 3\nrate_window = 600");
	for (i = 1; i < sizeof(alice_names) / sizeof(alice_names[0]); i++) {
		l = LOGIN(.user = alice_names[i], .answers = {ANSWER_CODE});
		h_run(&l);
		assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	}
	l = LOGIN(.user = "alice", .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_outcome("rate_limited");
}

static void spellings_share_one_grace(void **state)
{
	struct h_login l = LOGIN(.user = "ALICE", .answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_config("grace_period = 300");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("success");
	h_mock_reset();
	l = LOGIN(.user = "alice", .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("grace");
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
}

/* A name NSS does not know is used as given: only an exact map entry. */
static void unknown_name_is_used_as_given(void **state)
{
	struct h_login l = LOGIN(.user = "tgotp-no-such-user", .answers = {ANSWER_CODE});

	(void)state;
	h_users_file("tgotp-no-such-user +14155550101\n");
	h_config(NULL);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_string_equal(h_mock_last_param("phone_number"), "+14155550101");
	assert_false(h_log_has("given_user="));
}

/* The longest name the module accepts (README: invalid_user_name is over
 * 256 bytes) gets its grace like any other; one byte more is refused
 * before anything is looked up or sent. */
#define LONGEST_NAME 256

static void longest_name_gets_its_grace(void **state)
{
	char name[LONGEST_NAME + 2], users[2 * LONGEST_NAME + 64];
	struct h_login l;
	struct h_stats s;

	(void)state;
	memset(name, 'n', LONGEST_NAME);
	name[LONGEST_NAME] = '\0';
	snprintf(users, sizeof(users), "%s +14155550101\n%sn +14155550101\n", name, name);
	h_users_file(users);
	h_config("grace_period = 300");
	l = LOGIN(.user = name, .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("success");
	h_mock_reset();
	l = LOGIN(.user = name, .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_outcome("grace");
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);

	strcat(name, "n");
	l = LOGIN(.user = name, .answers = {ANSWER_CODE});
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("invalid_user_name");
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
}

/* SECURITY: when NSS cannot tell who this is, the module cannot tell whose
 * number, groups and limits apply: never the name as given. */
static void nss_failure_is_unavailable(void **state)
{
	struct h_login l = LOGIN(.user = "nss-broken", .answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_users_file("nss-broken +14155550101\n");
	h_config("failmode = safe\nunmapped = \"ignore\"");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("nss_error");
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(other_spellings_get_alices_number, h_setup),
	    cmocka_unit_test_setup(ruser_is_canonicalised, h_setup),
	    cmocka_unit_test_setup(spellings_share_one_rate_limit, h_setup),
	    cmocka_unit_test_setup(spellings_share_one_grace, h_setup),
	    cmocka_unit_test_setup(unknown_name_is_used_as_given, h_setup),
	    cmocka_unit_test_setup(longest_name_gets_its_grace, h_setup),
	    cmocka_unit_test_setup(nss_failure_is_unavailable, h_setup),
	};

	if (geteuid() != 0) {
		printf("SKIP: the name tests need root: the module accepts only root-owned "
		       "configuration, token and state\n");
		return 77;
	}
	return cmocka_run_group_tests_name("pam_names", tests, h_group_setup, h_group_teardown);
}
