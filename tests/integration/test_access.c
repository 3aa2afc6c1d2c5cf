/* Who is asked at all, and what they are told: trusted_networks,
 * exempt_groups, user_source = ruser and messages { }, through real libpam
 * against the mock Gateway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

#define LOGIN H_LOGIN

static int requests(void)
{
	struct h_stats s;

	h_mock_stats(&s);
	return s.requests;
}

/* SECURITY: after every test the log holds no full phone number. */
static int teardown(void **state)
{
	(void)state;
	assert_null(strstr(h_log_all(), "2079460958"));
	assert_null(strstr(h_log_all(), "4155550101"));
	return 0;
}

/* ---- trusted_networks */

#define TRUSTED "trusted_networks = {\"10.0.0.0/8\", \"2001:db8::/32\"}"

/* A login from rhost: let through without a code, nothing sent. */
static void assert_trusted(const char *rhost)
{
	struct h_login l = LOGIN(.rhost = rhost, .answers = {ANSWER_CODE});

	h_mock_reset();
	h_run(&l);
	assert_result(&l, PAM_PERM_DENIED, "PAM_IGNORE");
	assert_outcome("trusted_network");
	assert_int_equal(l.prompts, 0);
	assert_int_equal(requests(), 0);
}

/* A login from rhost: asked for a code, as if no network were trusted. */
static void assert_asked(const char *rhost)
{
	struct h_login l = LOGIN(.rhost = rhost, .answers = {ANSWER_CODE});

	h_mock_reset();
	h_state_reset(); /* a fresh rate limit for each */
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_string_equal(h_mock_last_param("phone_number"), "+442079460958");
}

static void trusted_addresses(void **state)
{
	(void)state;
	h_config(TRUSTED);
	assert_trusted("10.1.2.3");
	assert_trusted("2001:db8:5::7");
	assert_trusted("::ffff:10.1.2.3"); /* sshd on a dual-stack socket */
	assert_asked("192.0.2.7");
	assert_asked("2001:db9::7");
	assert_asked("::ffff:192.0.2.7");
	assert_asked(NULL); /* a local login names no host */
}

/* SECURITY: with sshd's UseDNS the remote host is whatever name the
 * client's reverse zone gives: a name that spells a trusted address, or
 * what only inet_aton or a resolver would read as one, is no address. */
static void names_never_trusted(void **state)
{
	(void)state;
	h_config(TRUSTED "\ntrusted_networks = {\"10.0.0.0/8\", \"2001:db8::/32\"}");
	assert_asked("10.1.2.3.example.com");
	assert_asked("010.1.2.3");
	assert_asked("10.1.2.3 ");
	assert_asked("0x0a010203");
	assert_asked("167838211");
	assert_asked("10.1.2.3%eth0");
	assert_asked("2001:db8::7%eth0");
	assert_asked("[2001:db8::7]");
}

static void invalid_cidr_is_config_error(void **state)
{
	struct h_login l = LOGIN(.rhost = "10.0.0.1", .answers = {ANSWER_CODE});

	(void)state;
	h_config("trusted_networks = {\"10.0.0.1/8\"}");
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_outcome("config_error");
	assert_true(h_log_has("pam_tgotp.conf:"));
	assert_true(h_log_has("trusted_networks: \"10.0.0.1/8\": the address has bits set"));
	assert_int_equal(requests(), 0);
}

/* ---- exempt_groups (the tests run as root, a member of group root) */

static void exempt_group_member(void **state)
{
	struct h_login l = LOGIN(.user = "root", .answers = {ANSWER_CODE});

	(void)state;
	h_config(
	    "exempt_groups = {\"nogroup\", \"root\"}\nuser root { phone = \"+442079460958\" }");
	h_run(&l);
	assert_result(&l, PAM_PERM_DENIED, "PAM_IGNORE");
	assert_outcome("exempt_group");
	assert_int_equal(requests(), 0);
}

static void exempt_group_non_member(void **state)
{
	struct h_login l = LOGIN(.user = "root", .answers = {ANSWER_CODE});

	(void)state;
	h_config("exempt_groups = {\"nogroup\"}\nuser root { phone = \"+442079460958\" }");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
}

/* SECURITY: a typo or a renamed group exempts nobody, whatever its place
 * in the list. */
static void missing_exempt_group_exempts_nobody(void **state)
{
	struct h_login first = LOGIN(.user = "root", .answers = {ANSWER_CODE});
	struct h_login last = LOGIN(.user = "root", .answers = {ANSWER_CODE});

	(void)state;
	h_config("exempt_groups = {\"no-such-group-tgotp\", \"root\"}\n"
		 "user root { phone = \"+442079460958\" }");
	h_run(&first);
	assert_result(&first, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("exempt_groups: group \"no-such-group-tgotp\" does not exist: "
			      "exempting nobody"));
	h_config("exempt_groups = {\"root\", \"no-such-group-tgotp\"}\n"
		 "user root { phone = \"+442079460958\" }");
	h_run(&last);
	assert_result(&last, PAM_SUCCESS, "PAM_SUCCESS");
}

/* exempt_groups is checked after groups: outside groups is not_in_groups. */
static void groups_before_exempt_groups(void **state)
{
	struct h_login l = LOGIN(.user = "root", .answers = {ANSWER_CODE});

	(void)state;
	h_config("groups = {\"nogroup\"}\nexempt_groups = {\"root\"}\n"
		 "user root { phone = \"+442079460958\" }");
	h_run(&l);
	assert_result(&l, PAM_PERM_DENIED, "PAM_IGNORE");
	assert_outcome("not_in_groups");
}

/* ---- user_source = ruser: su's caller is asked */

#define RUSER "user_source = \"ruser\"\n"

static void ruser_is_asked(void **state)
{
	struct h_login l = LOGIN(.user = "root", .ruser = "alice", .answers = {ANSWER_CODE});

	(void)state;
	h_users_file("root +14155550101\n");
	h_config(RUSER);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	/* alice's number, not root's; the audit text names the account */
	assert_string_equal(h_mock_last_param("phone_number"), "+442079460958");
	assert_true(strstr(h_mock_last_param("payload"), "root@") != NULL);
	assert_true(h_log_has("user=root ruser=alice service="));
	assert_true(h_messages_has(&l, "+44 \xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 "
				       "\xe2\x80\xa2\xe2\x80\xa2"
				       "58"));
}

/* SECURITY: without a caller to ask (sshd sets no PAM_RUSER), nobody is
 * asked: never the target user, and nothing is sent. */
static void no_ruser_is_auth_err(void **state)
{
	struct h_login unset = LOGIN(.user = "root", .answers = {ANSWER_CODE});
	struct h_login empty = LOGIN(.user = "root", .ruser = "", .answers = {ANSWER_CODE});
	struct h_login ctrl = LOGIN(.user = "root", .ruser = "al\nice", .answers = {ANSWER_CODE});

	(void)state;
	h_users_file("root +14155550101\n");
	h_config(RUSER);
	h_run(&unset);
	assert_result(&unset, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("no_ruser");
	if (!h_log_has("user=root ruser=- service="))
		fail_msg("%s", h_log());
	h_run(&empty);
	assert_result(&empty, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("no_ruser");
	h_run(&ctrl);
	assert_result(&ctrl, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("invalid_user_name");
	assert_int_equal(unset.prompts + empty.prompts + ctrl.prompts, 0);
	assert_int_equal(requests(), 0);
}

/* The caller's rate limit counts, whichever account they ask for. */
static void ruser_rate_limit(void **state)
{
	struct h_login to_root = LOGIN(.user = "root", .ruser = "alice", .answers = {ANSWER_CODE});
	struct h_login to_bob = LOGIN(.user = "bob", .ruser = "alice", .answers = {ANSWER_CODE});
	struct h_login bob_to_root =
	    LOGIN(.user = "root", .ruser = "bob", .answers = {ANSWER_CODE});

	(void)state;
	h_users_file("bob +14155550101\n");
	h_config(RUSER "rate_limit = 1\nrate_window = 600");
	h_run(&to_root);
	assert_result(&to_root, PAM_SUCCESS, "PAM_SUCCESS");
	h_run(&to_bob);
	assert_result(&to_bob, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_outcome("rate_limited");
	h_run(&bob_to_root);
	assert_result(&bob_to_root, PAM_SUCCESS, "PAM_SUCCESS");
	assert_string_equal(h_mock_last_param("phone_number"), "+14155550101");
}

/* groups and exempt_groups are the caller's: root's groups do not count. */
static void ruser_groups(void **state)
{
	struct h_login l = LOGIN(.user = "root", .ruser = "alice", .answers = {ANSWER_CODE});

	(void)state;
	h_config(RUSER "exempt_groups = {\"root\"}");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	h_config(RUSER "groups = {\"root\"}");
	h_run(&l);
	assert_result(&l, PAM_PERM_DENIED, "PAM_IGNORE");
	assert_outcome("not_in_groups");
}

/* ---- messages { } */

#define BULLETS "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2 \xe2\x80\xa2\xe2\x80\xa2"

static void messages_replaced(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_WRONG, ANSWER_WRONG, ANSWER_WRONG});
	struct h_login limited = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_config("rate_limit = 1\nrate_window = 600\nmessages {\n"
		 "  sent = \"Code an %p gesendet (100%%).\"\n"
		 "  prompt = \"Telegram-Code: \"\n"
		 "  wrong = \"Falsch. Noch %n Versuche.\"\n"
		 "  failed = \"Telegram-Pr\xc3\xbc"
		 "fung fehlgeschlagen.\"\n"
		 "  rate_limited = \"Zu viele Codes. In %m Minuten erneut.\"\n"
		 "}");
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_true(h_messages_has(&l, "Code an +44 " BULLETS "58 gesendet (100%)."));
	assert_string_equal(l.prompt_texts, "Telegram-Code: \nTelegram-Code: \nTelegram-Code: \n");
	assert_true(h_messages_has(&l, "Falsch. Noch 2 Versuche."));
	assert_true(h_messages_has(&l, "Falsch. Noch 1 Versuche."));
	assert_true(h_messages_has(&l, "Telegram-Pr\xc3\xbc"
				       "fung fehlgeschlagen."));
	assert_null(strstr(l.messages, "Telegram code"));
	assert_null(strstr(l.messages, "Wrong code"));
	h_run(&limited);
	assert_result(&limited, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_true(h_messages_has(&limited, "Zu viele Codes. In 10 Minuten erneut."));
}

static void unavailable_replaced(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_config("messages { unavailable = \"Telegram ist nicht erreichbar.\" }");
	h_mock_fault("{\"mode\": \"http5xx\", \"count\": 5}");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_string_equal(l.messages, "Telegram ist nicht erreichbar.\n");
}

/* Without messages { }: the English texts, exactly as before it existed. */
static void english_by_default(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_WRONG, ANSWER_WRONG, ANSWER_WRONG});

	(void)state;
	h_config(NULL);
	h_run(&l);
	assert_string_equal(l.messages, "A Telegram code was sent to +44 " BULLETS "58.\n"
					"Wrong code. Tries left: 2.\n"
					"Wrong code. Tries left: 1.\n"
					"Telegram verification failed.\n");
	assert_string_equal(l.prompt_texts, "Telegram code: \nTelegram code: \nTelegram code: \n");
}

/* SECURITY: the administrator's text is never a printf format: printf's
 * directives are refused when the file is read, and %% shows them. */
static void no_format_string_path(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_WRONG, ANSWER_CODE});

	(void)state;
	h_config("messages { wrong = \"%s%s%n\" }");
	h_run(&l);
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_true(h_log_has("wrong has a % directive this message does not know"));
	assert_int_equal(requests(), 0);
	h_config("messages { wrong = \"%%s%%s%%n %n\" }");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_string_equal(strchr(l.messages, '\n') + 1, "%s%s%n 2\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(trusted_addresses, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(names_never_trusted, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(invalid_cidr_is_config_error, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(exempt_group_member, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(exempt_group_non_member, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(missing_exempt_group_exempts_nobody, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(groups_before_exempt_groups, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(ruser_is_asked, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(no_ruser_is_auth_err, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(ruser_rate_limit, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(ruser_groups, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(messages_replaced, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(unavailable_replaced, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(english_by_default, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(no_format_string_path, h_setup, teardown),
	};

	if (geteuid() != 0) {
		printf("SKIP: the access tests need root: the module accepts only root-owned "
		       "configuration, token and state\n");
		return 77;
	}
	return cmocka_run_group_tests_name("pam_access", tests, h_group_setup, h_group_teardown);
}
