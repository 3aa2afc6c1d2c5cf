/* Every row of README's results table ("What the module returns"), through
 * real libpam, against the mock Gateway over TLS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

#define LOGIN H_LOGIN

/* SECURITY: after every test, the module's log holds no token, no code and
 * no full phone number. */
static int teardown(void **state)
{
	cJSON *j = cJSON_Parse(h_mock_last());
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
	const char *log = h_log_all();

	(void)state;
	assert_null(strstr(log, "test-token"));
	assert_null(strstr(log, "2079460958"));
	assert_null(strstr(log, "4155550101"));
	if (cJSON_IsString(code) && code->valuestring[0])
		assert_null(strstr(h_log(), code->valuestring));
	cJSON_Delete(j);
	return 0;
}

/* ---- the code was verified */

static void success_with_check_ability(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_messages_has(&l, "+44 \u2022\u2022\u2022\u2022 \u2022\u202258"));
	h_mock_stats(&s);
	assert_int_equal(s.connections, 1);
	assert_int_equal(s.requests, 3);
	assert_int_equal(s.check_send_ability, 1);
	assert_int_equal(s.send, 1);
	assert_int_equal(s.check, 1);
	assert_int_equal(s.revoke, 0);
	assert_outcome("success");
	assert_true(h_log_has("user=alice service=tgotp-test rhost=192.0.2.7"));
	assert_true(h_log_has("request_cost="));
	assert_true(h_log_has("remaining_balance="));
}

static void success_without_check_ability(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_config("check_ability = false");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	h_mock_stats(&s);
	assert_int_equal(s.connections, 1);
	assert_int_equal(s.requests, 2);
	assert_int_equal(s.check_send_ability, 0);
}

static void success_code_with_blanks(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_SPACED});

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
}

static void success_after_one_wrong_code(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_WRONG, ANSWER_CODE});

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_messages_has(&l, "Tries left: 2"));
}

/* Two malformed answers and a wrong code use up the three tries: the
 * right code after them is never asked for. */
static void malformed_answer_is_a_try_without_a_call(void **state)
{
	struct h_login l = LOGIN(.answers = {"12ab56", "12345678", ANSWER_WRONG, ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_int_equal(l.prompts, 3);
	assert_true(h_messages_has(&l, "Tries left: 1"));
	h_mock_stats(&s);
	assert_int_equal(s.check, 1);
	assert_outcome("wrong_code");
}

static void users_file_number_with_spaces(void **state)
{
	struct h_login l = LOGIN(.user = "bob", .answers = {ANSWER_CODE});

	(void)state;
	h_users_file("# name number\n\nbobby +1 999 000 0000\nbob   (415) 555-0101  \n");
	h_config("default_country_code = \"1\"");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_string_equal(h_mock_last_param("phone_number"), "+14155550101");
	assert_true(h_messages_has(&l, "+1 \u2022\u2022\u2022\u2022 \u2022\u202201"));
}

static void request_carries_settings_and_payload(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char host[256] = "", expect[512];

	(void)state;
	h_config("code_length = 8\nttl = 120\nsender_username = \"testchannel\"\n"
		 "callback_url = \"https://example.org/report\"");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_string_equal(h_mock_last_param("code_length"), "8");
	assert_string_equal(h_mock_last_param("ttl"), "120");
	assert_string_equal(h_mock_last_param("sender_username"), "testchannel");
	assert_string_equal(h_mock_last_param("callback_url"), "https://example.org/report");
	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, ".")] = '\0';
	snprintf(expect, sizeof(expect), "tgotp-test alice@%s from 192.0.2.7", host);
	assert_string_equal(h_mock_last_param("payload"), expect);
}

/* ---- wrong codes, expiry, Gateway attempt limit, empty answer, conversation */

static void wrong_code_max_tries(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_WRONG, ANSWER_WRONG, ANSWER_WRONG});
	struct h_stats s;

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_int_equal(l.prompts, 3);
	assert_true(h_messages_has(&l, "Tries left: 1"));
	h_mock_stats(&s);
	assert_int_equal(s.check, 3);
	assert_int_equal(s.revoke, 1);
	assert_outcome("wrong_code");
}

static void max_tries_one(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_WRONG, ANSWER_CODE});

	(void)state;
	h_config("max_tries = 1");
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_int_equal(l.prompts, 1);
}

static void code_expired(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_EXPIRED_CODE});

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("expired");
}

static void gateway_max_attempts(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_WRONG, ANSWER_WRONG, ANSWER_WRONG, ANSWER_WRONG,
					     ANSWER_WRONG, ANSWER_CODE, ANSWER_CODE});

	(void)state;
	h_config("max_tries = 7"); /* run-tests.sh starts the mock with 5 attempts */
	h_run(&l);
	assert_result(&l, PAM_MAXTRIES, "PAM_MAXTRIES");
	assert_int_equal(l.prompts, 5);
	assert_outcome("code_max_attempts_exceeded");
}

static void empty_answer(void **state)
{
	struct h_login l = LOGIN(.answers = {"   "});
	struct h_stats s;

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	h_mock_stats(&s);
	assert_int_equal(s.check, 0);
	assert_int_equal(s.revoke, 1);
	assert_outcome("empty_answer");
}

static void conversation_fails(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CONV_ERROR});

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("conversation_failed");
}

static void hostile_answers(void **state)
{
	struct h_login l = LOGIN(.answers = {"123456123456", ANSWER_NUL_INSIDE, "\033[2J123456",
					     "１２３４５６", ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_config("max_tries = 5");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_messages_has(&l, "Tries left: 1"));
	h_mock_stats(&s);
	assert_int_equal(s.check, 1); /* none of the four reached the Gateway */
}

static void huge_answer(void **state)
{
	static char big[1024 * 1024];
	struct h_login l = LOGIN(.answers = {big, ANSWER_CODE});

	(void)state;
	memset(big, '7', sizeof(big) - 1);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_messages_has(&l, "Tries left: 2"));
}

/* ---- PAM_IGNORE: outside groups, unmapped = ignore */

static void user_outside_groups(void **state)
{
	struct h_login l = LOGIN(.user = "root", .answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_config("groups = {\"nogroup\"}\nuser root { phone = \"+442079460958\" }");
	h_run(&l);
	assert_result(&l, PAM_PERM_DENIED, "PAM_IGNORE");
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
}

static void user_inside_groups(void **state)
{
	struct h_login l = LOGIN(.user = "root", .answers = {ANSWER_CODE});

	(void)state;
	h_config("groups = {\"nogroup\", \"root\"}\nuser root { phone = \"+442079460958\" }");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
}

static void unmapped_deny(void **state)
{
	struct h_login l = LOGIN(.user = "mallory");

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("unmapped");
}

static void unmapped_ignore(void **state)
{
	struct h_login l = LOGIN(.user = "mallory");

	(void)state;
	h_config("unmapped = ignore");
	h_run(&l);
	assert_result(&l, PAM_PERM_DENIED, "PAM_IGNORE");
}

static void unmapped_fallback(void **state)
{
	struct h_login l = LOGIN(.user = "mallory");

	(void)state;
	h_config("unmapped = fallback\nfailmode = safe");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
}

static void invalid_number_is_unmapped(void **state)
{
	struct h_login l = LOGIN(.user = "dave");

	(void)state;
	h_config("unmapped = ignore\nuser dave { phone = \"+44 20 CALL NOW\" }");
	h_run(&l);
	assert_result(&l, PAM_PERM_DENIED, "PAM_IGNORE");
	assert_true(h_log_has("not valid E.164"));
}

static void user_name_matched_exactly(void **state)
{
	struct h_login l = LOGIN(.user = "Alice");

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_outcome("unmapped");
}

/* ---- PAM_AUTHINFO_UNAVAIL whatever failmode: not on Telegram, refused */

static void not_on_telegram(void **state)
{
	struct h_login l = LOGIN(.user = "carol", .answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_config("failmode = safe");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("not_on_telegram");
	h_mock_stats(&s);
	assert_int_equal(s.send, 0);
}

static void not_on_telegram_without_check_ability(void **state)
{
	struct h_login l = LOGIN(.user = "carol", .answers = {ANSWER_CODE});

	(void)state;
	h_config("failmode = safe\ncheck_ability = false");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
}

static void refused_error(const char *error, const char *method)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char fault[256];

	snprintf(fault, sizeof(fault), "{\"mode\": \"error\", \"arg\": \"%s\", \"method\": \"%s\"}",
		 error, method);
	h_config("failmode = safe");
	h_mock_fault(fault);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("sending_refused");
}

static void balance_not_enough(void **state)
{
	(void)state;
	refused_error("BALANCE_NOT_ENOUGH", "sendverificationmessage");
}

static void flood_wait(void **state)
{
	(void)state;
	refused_error("FLOOD_WAIT_30", "checksendability");
}

/* ---- Gateway unreachable (nobody answered): failmode decides */

struct fault_case {
	const char *port;  /* mock port to use */
	const char *fault; /* JSON for /fault, or NULL */
};

static void expect_unavailable(const struct fault_case *fc, const char *extra)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char conf[256];

	snprintf(conf, sizeof(conf), "timeout = 2\n%s", extra);
	h_config_port(fc->port, conf);
	if (fc->fault)
		h_mock_fault(fc->fault);
	h_run(&l);
	if (strstr(extra, "safe")) {
		assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
		assert_true(h_log_has("outcome=gateway_unavailable"));
	} else {
		assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	}
	/* The first request fails: one timeout (2 s), with room for valgrind. */
	if (l.seconds >= 2 + 2.5 * h_time_scale())
		fail_msg("took %.1f s", l.seconds);
}

static const struct fault_case faults[] = {
    {"closed", NULL},
    {"badca", NULL},
    {"wronghost", NULL},
    {"expired", NULL},
    {"stall", NULL},
    {"gateway", "{\"mode\": \"slow\", \"arg\": 10}"},
    {"gateway", "{\"mode\": \"garbage\"}"},
    {"gateway", "{\"mode\": \"http5xx\", \"arg\": 502}"},
    {"gateway", "{\"mode\": \"http5xx\", \"arg\": 503, \"method\": \"sendverificationmessage\"}"},
    {"gateway", "{\"mode\": \"ok_no_result\"}"},
    {"gateway", "{\"mode\": \"no_ok\"}"},
    {"gateway", "{\"mode\": \"json_array\"}"},
    {"gateway", "{\"mode\": \"ok_string\"}"},
    {"gateway", "{\"mode\": \"close\"}"},
    {"gateway", "{\"mode\": \"huge\"}"},
    {"gateway", "{\"mode\": \"endless\"}"},
    {"gateway", "{\"mode\": \"nested\"}"},
    {"gateway", "{\"mode\": \"nul\"}"},
    {"gateway", "{\"mode\": \"slowloris\", \"arg\": 30}"},
};

static void unavailable_secure(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		fprintf(stderr, "  case %s %s\n", faults[i].port,
			faults[i].fault ? faults[i].fault : "");
		h_mock_reset();
		h_state_reset(); /* a timeout keeps its rate slot */
		expect_unavailable(&faults[i], "failmode = secure");
	}
}

static void unavailable_safe(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		fprintf(stderr, "  case %s %s\n", faults[i].port,
			faults[i].fault ? faults[i].fault : "");
		h_mock_reset();
		h_state_reset();
		expect_unavailable(&faults[i], "failmode = safe");
	}
}

/* A resolver that never answers holds a login no longer than `timeout`
 * (libcurl's threaded resolver gives up with the connect timeout). In a
 * child with a mount namespace of its own, /etc/resolv.conf names a
 * loopback UDP port that takes queries and never answers. */
static int blackholed_login(double *seconds)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(53)};
	char conf[256];
	int fd;

	inet_pton(AF_INET, "127.0.0.153", &a.sin_addr);
	snprintf(conf, sizeof(conf), "%s/resolv.conf", h_dir());
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return 2;
	FILE *f = fopen(conf, "w");
	if (!f || fprintf(f, "nameserver 127.0.0.153\noptions timeout:30 attempts:5\n") < 0 ||
	    fclose(f) != 0 || mount(conf, "/etc/resolv.conf", "none", MS_BIND, NULL) < 0)
		return 3;
	h_config("api_url = \"https://gateway.blackhole.example\"\ntimeout = 2");
	h_run(&l);
	*seconds = l.seconds;
	if (l.rc != PAM_AUTHINFO_UNAVAIL || !h_log_has("outcome=gateway_unavailable"))
		return 4;
	return 0;
}

static void blackholed_resolver_within_timeout(void **state)
{
	int fds[2], status;
	double seconds = -1;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	fflush(NULL); /* the child's exit() must not write the parent's buffers */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = blackholed_login(&seconds);
		if (write(fds[1], &seconds, sizeof(seconds)) != sizeof(seconds))
			rc = 5;
		exit(rc); /* LeakSanitizer checks the child at exit() */
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &seconds, sizeof(seconds)), sizeof(seconds));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	fprintf(stderr, "  black-holed resolver: login took %.2f s with timeout = 2\n", seconds);
	/* with room for valgrind */
	assert_true(seconds >= 1.9 && seconds < 2 + 1.5 * h_time_scale());
}

/* SECURITY: an answer is never "unreachable": an error string the module
 * does not know, ACCESS_TOKEN_*, any 4xx, an {"ok": false} under a 5xx. The
 * request carries the user name and the remote host name, so whatever the
 * Gateway refuses may be the caller's doing: PAM_AUTHINFO_UNAVAIL whatever
 * failmode, outcome gateway_error, never a code sent. */
static void answered_refusal_is_never_success(void **state)
{
	static const char *const answers[] = {
	    "{\"mode\": \"error\", \"arg\": \"SOMETHING_NEW\"}",
	    "{\"mode\": \"error\", \"arg\": \"SOMETHING_NEW\", \"method\": "
	    "\"sendverificationmessage\"}",
	    "{\"mode\": \"error\", \"arg\": \"ACCESS_TOKEN_INVALID\"}",
	    "{\"mode\": \"error\", \"arg\": \"ACCESS_TOKEN_REQUIRED\"}",
	    "{\"mode\": \"error\", \"arg\": \"PAYLOAD_INVALID\", \"method\": "
	    "\"sendverificationmessage\"}",
	    "{\"mode\": \"http5xx\", \"arg\": 400}",
	    "{\"mode\": \"http5xx\", \"arg\": 401}",
	    "{\"mode\": \"http5xx\", \"arg\": 403}",
	    "{\"mode\": \"http5xx\", \"arg\": 404, \"method\": \"sendverificationmessage\"}",
	    "{\"mode\": \"http5xx_json\"}",
	    "{\"mode\": \"ansi\"}",
	};
	const char *modes[] = {"failmode = safe", "failmode = secure"};
	size_t i, m;
	struct h_stats s;

	(void)state;
	for (m = 0; m < 2; m++) {
		for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
			struct h_login l = LOGIN(.answers = {ANSWER_CODE});
			fprintf(stderr, "  case %s %s\n", modes[m], answers[i]);
			h_mock_reset();
			h_state_reset();
			h_config(modes[m]);
			h_mock_fault(answers[i]);
			h_run(&l);
			assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
			assert_outcome("gateway_error");
			assert_int_equal(l.prompts, 0);
			h_mock_stats(&s);
			/* the refused request is the only one of its kind */
			assert_int_equal(s.send, strstr(answers[i], "sendverif") ? 1 : 0);
		}
	}
}

/* SECURITY: a verification status about another request says nothing
 * about ours: never success, whatever failmode. */
static void status_of_another_request_is_never_success(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_config("failmode = safe");
	h_mock_fault("{\"mode\": \"foreign_id\", \"method\": \"checkverificationstatus\"}");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_outcome("check_failed");
	assert_true(h_log_has("is about request 999999999999999"));
}

/* Once the Gateway took the message, a failing check is never a success,
 * whatever failmode: whoever has the password could provoke it. */
static void check_failure_is_never_success(void **state)
{
	static const char *const faults_at_check[] = {
	    "{\"mode\": \"http5xx\", \"method\": \"checkverificationstatus\"}",
	    "{\"mode\": \"slow\", \"arg\": 10, \"method\": \"checkverificationstatus\"}",
	    "{\"mode\": \"error\", \"arg\": \"REQUEST_ID_INVALID\", \"method\": "
	    "\"checkverificationstatus\"}",
	    "{\"mode\": \"garbage\", \"method\": \"checkverificationstatus\"}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(faults_at_check) / sizeof(faults_at_check[0]); i++) {
		struct h_login l = LOGIN(.answers = {ANSWER_CODE});
		h_mock_reset();
		h_config("failmode = safe\ntimeout = 2");
		h_mock_fault(faults_at_check[i]);
		h_run(&l);
		assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
		assert_outcome("check_failed");
	}
}

/* SECURITY: the caller of sudo chooses the environment. */
static void caller_environment_decides_nothing(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	/* a configured proxy (nothing listens there) cannot be bypassed */
	h_config("proxy = \"http://127.0.0.1:1\"");
	setenv("no_proxy", "*", 1);
	setenv("NO_PROXY", "*", 1);
	h_run(&l);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
	/* an environment proxy is never used */
	h_config(NULL);
	setenv("https_proxy", "http://127.0.0.1:1", 1);
	setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
	h_run(&l);
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	/* libcurl would write the TLS keys where SSLKEYLOGFILE says */
	setenv("SSLKEYLOGFILE", "/tmp/tgotp-test-keylog", 1);
	h_run(&l);
	unsetenv("SSLKEYLOGFILE");
	assert_result(&l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	assert_int_not_equal(access("/tmp/tgotp-test-keylog", F_OK), 0);
}

static void missing_group_means_asking(void **state)
{
	struct h_login l = LOGIN(.user = "root", .answers = {ANSWER_CODE});

	(void)state;
	h_config("groups = {\"no-such-group-tgotp\"}\nuser root { phone = \"+442079460958\" }");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("does not exist: asking for a code"));
}

static void wrong_token_is_unavailable(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_token("not-the-token\n", 0600);
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_true(h_log_has("ACCESS_TOKEN_INVALID"));
}

/* SECURITY: the token travels in the Authorization header and nowhere
 * else: a token in the URL ends up in proxy and server logs. Every request
 * of a login that succeeds (checkSendAbility, sendVerificationMessage,
 * checkVerificationStatus) and of one that fails (revoke too). */
static void token_in_the_authorization_header_only(void **state)
{
	struct h_login ok = LOGIN(.answers = {ANSWER_CODE});
	struct h_login bad = LOGIN(.answers = {ANSWER_WRONG, ANSWER_WRONG, ANSWER_WRONG});
	struct h_stats s;

	(void)state;
	h_run(&ok);
	assert_result(&ok, PAM_SUCCESS, "PAM_SUCCESS");
	h_run(&bad);
	assert_result(&bad, PAM_MAXTRIES, "PAM_MAXTRIES");
	h_mock_stats(&s);
	assert_int_equal(s.check_send_ability, 2);
	assert_int_equal(s.send, 2);
	assert_int_equal(s.check, 4);
	assert_int_equal(s.revoke, 1);
	assert_int_equal(assert_token_in_header_only("test-token"), s.requests);
}

static void redirect_not_followed(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_mock_fault("{\"mode\": \"redirect\"}");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	h_mock_stats(&s);
	assert_int_equal(s.stolen, 0);
}

static void escape_sequences_never_logged_raw(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});

	(void)state;
	h_mock_fault("{\"mode\": \"ansi\"}");
	h_run(&l);
	assert_result(&l, PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL");
	assert_null(strchr(h_log(), '\033'));
	assert_null(strchr(h_log(), '\r'));
	assert_null(strchr(h_log(), '\a'));
	assert_null(strstr(h_log(), "\nInjected"));
	assert_null(strchr(l.messages, '\033'));
}

/* ---- a status the module does not know is never success */

static void unknown_status(void **state)
{
	static const char *const statuses[] = {"code_maybe", "CODE_VALID", "", "code_valid "};
	char fault[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct h_login l = LOGIN(.answers = {ANSWER_CODE, ANSWER_CODE, ANSWER_CODE});
		h_mock_reset();
		snprintf(fault, sizeof(fault),
			 "{\"mode\": \"status\", \"method\": \"checkverificationstatus\", "
			 "\"arg\": \"%s\"}",
			 statuses[i]);
		h_config("failmode = safe");
		h_mock_fault(fault);
		h_run(&l);
		assert_int_not_equal(l.rc, PAM_SUCCESS);
		assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	}
}

/* ---- connection reuse breaks gracefully with HTTP/1.0 */

static void http10_server_still_works(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_mock_fault("{\"mode\": \"http10\"}");
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	h_mock_stats(&s);
	assert_int_equal(s.connections, 3);
}

/* ---- PAM_SERVICE_ERR: unsafe or invalid configuration, unreadable token */

static void expect_service_err(struct h_login *l, const char *log_needle)
{
	struct h_stats s;

	h_mock_reset();
	h_run(l);
	assert_result(l, PAM_SERVICE_ERR, "PAM_SERVICE_ERR");
	if (log_needle && !h_log_has(log_needle)) {
		fprintf(stderr, "log was:\n%s", h_log());
		fail_msg("log lacks \"%s\"", log_needle);
	}
	h_mock_stats(&s);
	assert_int_equal(s.requests, 0);
}

static void config_syntax_error(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char needle[512];

	(void)state;
	h_config("ttl = 300\nmax_tries = 11");
	snprintf(needle, sizeof(needle), "%s/pam_tgotp.conf:10: max_tries = 11 is out of range",
		 h_dir());
	expect_service_err(&l, needle);
	h_config("timeout = ten");
	expect_service_err(&l, "timeout");
	h_config("failmode = open");
	expect_service_err(&l, "failmode");
	h_config("api_url = \"http://127.0.0.1:1\"");
	expect_service_err(&l, "https:// only");
	h_config("faillmode = safe");
	expect_service_err(&l, "faillmode");
	/* SECURITY: 4 digits with the default limits: 14 % a day to guess */
	h_config("code_length = 4");
	expect_service_err(&l, "max_tries x rate_limit x 86400 / rate_window allows 1440 guesses");
}

static void config_unsafe_owner_or_mode(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/pam_tgotp.conf", h_dir());
	assert_int_equal(chmod(path, 0620), 0);
	expect_service_err(&l, "writable by group or others");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(chown(path, 65534, 0), 0);
	expect_service_err(&l, "not owned by root");
	assert_int_equal(unlink(path), 0);
	expect_service_err(&l, "does not exist");
}

static void config_symlink_refused(void **state)
{
	static char args[600];
	struct h_login l = LOGIN(.answers = {ANSWER_CODE}, .module_args = args);
	char path[512], link[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/pam_tgotp.conf", h_dir());
	snprintf(link, sizeof(link), "%s/link.conf", h_dir());
	unlink(link);
	assert_int_equal(symlink(path, link), 0);
	snprintf(args, sizeof(args), "config=%s", link); /* the last config= wins */
	expect_service_err(&l, "link.conf: cannot open");
}

static void unknown_module_argument(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE}, .module_args = "faillmode=safe");

	(void)state;
	expect_service_err(&l, "unknown or invalid module argument \"faillmode=safe\"");
}

static void token_unsafe_or_missing(void **state)
{
	struct h_login l = LOGIN(.answers = {ANSWER_CODE});
	char path[512];

	(void)state;
	h_token("test-token\n", 0640);
	expect_service_err(&l, "readable by group or others");
	h_token("test-token\n", 0400);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	h_token("\n", 0600);
	expect_service_err(&l, "first line is empty");
	h_token("tok\001en\n", 0600);
	expect_service_err(&l, "unexpected characters");
	snprintf(path, sizeof(path), "%s/token", h_dir());
	unlink(path);
	expect_service_err(&l, "does not exist");
}

static void users_file_unsafe(void **state)
{
	struct h_login l = LOGIN(.user = "bob", .answers = {ANSWER_CODE});
	char path[512];

	(void)state;
	h_users_file("bob +14155550101\n");
	snprintf(path, sizeof(path), "%s/users", h_dir());
	assert_int_equal(chmod(path, 0666), 0);
	expect_service_err(&l, "writable by group or others");
}

/* Phone numbers are personal data: a users file every local user can read
 * still works, and the log says so. */
static void users_file_readable_by_all_is_logged(void **state)
{
	struct h_login l = LOGIN(.user = "bob", .answers = {ANSWER_CODE});
	char path[512];

	(void)state;
	h_users_file("bob +14155550101\n");
	h_config(NULL);
	snprintf(path, sizeof(path), "%s/users", h_dir());
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_false(h_log_has("personal data"));
	assert_int_equal(chmod(path, 0640), 0);
	h_run(&l);
	assert_false(h_log_has("personal data"));
	assert_int_equal(chmod(path, 0644), 0);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_true(h_log_has("users: readable by every local user (mode 0644): it holds phone "
			      "numbers, personal data"));
}

/* ---- codes are never sent for a login that already failed */

static void sshd_failed_password_sends_nothing(void **state)
{
	/* What sshd does for an unknown user: its password prompt gets this
	 * string, which pam_unix stores as PAM_AUTHTOK (an application
	 * cannot set that item itself). */
	struct h_login l = LOGIN(.stack_before = "auth optional pam_unix.so",
				 .answers = {"\b\n\r\177INCORRECT", ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_int_equal(l.prompts, 1);
	h_mock_stats(&s);
	assert_int_equal(s.connections, 0);
	assert_outcome("password_failed");
}

static void sshd_marker_as_answer_stops_at_once(void **state)
{
	struct h_login l = LOGIN(.answers = {"\b\n\r\177INCORRECT", ANSWER_CODE});
	struct h_stats s;

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_int_equal(l.prompts, 1);
	h_mock_stats(&s);
	assert_int_equal(s.check, 0);
	assert_int_equal(s.revoke, 1);
	assert_outcome("denied_by_sshd");
}

/* ---- messages */

static void silent_hides_information(void **state)
{
	struct h_login l = LOGIN(.flags = PAM_SILENT, .answers = {ANSWER_CODE});

	(void)state;
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_false(h_messages_has(&l, "sent to"));
}

static void odd_user_names(void **state)
{
	static char huge[100001];
	const char *const names[] = {"", "ali\nce", "alice\033[2J", huge};
	size_t i;

	(void)state;
	memset(huge, 'a', sizeof(huge) - 1);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct h_login l = LOGIN(.user = names[i], .answers = {"x"});
		struct h_stats s;
		h_mock_reset();
		h_run(&l);
		assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
		h_mock_stats(&s);
		assert_int_equal(s.requests, 0);
		assert_null(strchr(h_log(), '\033'));
	}
}

/* SECURITY: a user name cannot forge log fields in any line the module
 * writes, not only in its summary line. */
static void user_names_never_forge_log_fields(void **state)
{
	struct h_login l = LOGIN(.user = "x outcome=success", .answers = {ANSWER_CODE});

	(void)state;
	/* a number that does not normalise is logged with the user's name */
	h_config("user \"x outcome=success\" { phone = \"12\" }");
	h_run(&l);
	assert_result(&l, PAM_AUTH_ERR, "PAM_AUTH_ERR");
	assert_true(h_log_has("phone number of user x%20outcome%3dsuccess is not valid"));
	assert_true(h_log_has("user=x%20outcome%3dsuccess "));
	assert_false(h_log_has("x outcome=success"));
	assert_null(strstr(h_log_all(), "x outcome=success"));
}

static void long_user_name_cut_in_payload(void **state)
{
	static char name[201];
	struct h_login l = LOGIN(.user = name, .answers = {ANSWER_CODE});
	char conf[512];

	(void)state;
	memset(name, 'u', sizeof(name) - 1);
	snprintf(conf, sizeof(conf), "user %s { phone = \"+442079460958\" }", name);
	h_config(conf);
	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	assert_int_equal(strlen(h_mock_last_param("payload")), 128);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(success_with_check_ability, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(success_without_check_ability, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(success_code_with_blanks, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(success_after_one_wrong_code, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(malformed_answer_is_a_try_without_a_call, h_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(users_file_number_with_spaces, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(request_carries_settings_and_payload, h_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(wrong_code_max_tries, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(max_tries_one, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(code_expired, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(gateway_max_attempts, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(empty_answer, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(conversation_fails, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(hostile_answers, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(huge_answer, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(user_outside_groups, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(user_inside_groups, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(unmapped_deny, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(unmapped_ignore, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(unmapped_fallback, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(invalid_number_is_unmapped, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(user_name_matched_exactly, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(not_on_telegram, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(not_on_telegram_without_check_ability, h_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(balance_not_enough, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(flood_wait, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(unavailable_secure, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(unavailable_safe, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(answered_refusal_is_never_success, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(blackholed_resolver_within_timeout, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(status_of_another_request_is_never_success, h_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(check_failure_is_never_success, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(caller_environment_decides_nothing, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(missing_group_means_asking, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(wrong_token_is_unavailable, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(token_in_the_authorization_header_only, h_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(redirect_not_followed, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(escape_sequences_never_logged_raw, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(unknown_status, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(http10_server_still_works, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(config_syntax_error, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(config_unsafe_owner_or_mode, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(config_symlink_refused, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(unknown_module_argument, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(token_unsafe_or_missing, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(users_file_unsafe, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(users_file_readable_by_all_is_logged, h_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(sshd_failed_password_sends_nothing, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(sshd_marker_as_answer_stops_at_once, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(silent_hides_information, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(odd_user_names, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(user_names_never_forge_log_fields, h_setup, teardown),
	    cmocka_unit_test_setup_teardown(long_user_name_cut_in_payload, h_setup, teardown),
	};

	if (geteuid() != 0) {
		printf("SKIP: the PAM integration tests need root: the module accepts only "
		       "root-owned configuration and token files\n");
		return 77;
	}
	return cmocka_run_group_tests_name("pam_integration", tests, h_group_setup,
					   h_group_teardown);
}
