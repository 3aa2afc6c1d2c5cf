/* Unit tests: classifying Gateway answers (tgotp_gw_parse in src/gateway_parse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/gateway_parse.h"

static struct tgotp_status st;

/* Parses a NUL-terminated body; st is pre-filled with junk to prove it is reset. */
static enum tgotp_gw_result parse(const char *body, long http, bool want_obj)
{
	memset(&st, 'J', sizeof(st));
	return tgotp_gw_parse(body, strlen(body), http, want_obj, &st);
}

#define assert_double(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static const char sent[] =
    "{\"ok\":true,\"result\":{\"request_id\":\"141665098367493\",\"phone_number\":\"442079460958\","
    "\"request_cost\":0.01,\"remaining_balance\":9.99,"
    "\"delivery_status\":{\"status\":\"sent\",\"updated_at\":1700000000}}}";

static void test_ok_send(void **state)
{
	(void)state;
	assert_int_equal(parse(sent, 200, true), TGOTP_GW_OK);
	assert_string_equal(st.request_id, "141665098367493");
	assert_true(st.has_cost);
	assert_double(st.request_cost, 0.01);
	assert_true(st.has_balance);
	assert_double(st.remaining_balance, 9.99);
	assert_int_equal(st.verification, TGOTP_VERIFY_NONE);
	assert_string_equal(st.error, "");
	assert_int_equal(st.flood_wait, 0);
}

static void test_ok_minimal_resets_status(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"ok\":true,\"result\":{\"request_id\":\"7\"}}", 200, true),
			 TGOTP_GW_OK);
	assert_string_equal(st.request_id, "7");
	assert_false(st.has_cost);
	assert_false(st.has_balance);
	assert_int_equal(st.verification, TGOTP_VERIFY_NONE);
	assert_string_equal(st.error, "");
	assert_int_equal(st.flood_wait, 0);
	/* Whitespace and key order do not matter; 2xx other than 200 is fine. */
	assert_int_equal(parse(" {\n \"result\" : {\"request_cost\": 0, \"request_id\": \"8\"},"
			       " \"ok\" : true }\n",
			       201, true),
			 TGOTP_GW_OK);
	assert_string_equal(st.request_id, "8");
	assert_true(st.has_cost);
	assert_double(st.request_cost, 0.0);
}

static enum tgotp_verification verify(const char *status)
{
	char body[512];

	snprintf(body, sizeof(body),
		 "{\"ok\":true,\"result\":{\"request_id\":\"141665098367493\",\"request_cost\":0,"
		 "\"verification_status\":{\"status\":\"%s\",\"updated_at\":1700000100,"
		 "\"code_entered\":\"123456\"}}}",
		 status);
	assert_int_equal(parse(body, 200, true), TGOTP_GW_OK);
	return st.verification;
}

static void test_verification_status(void **state)
{
	(void)state;
	assert_int_equal(verify("code_valid"), TGOTP_VERIFY_CODE_VALID);
	assert_int_equal(verify("code_invalid"), TGOTP_VERIFY_CODE_INVALID);
	assert_int_equal(verify("code_max_attempts_exceeded"), TGOTP_VERIFY_MAX_ATTEMPTS);
	assert_int_equal(verify("expired"), TGOTP_VERIFY_EXPIRED);
	assert_int_equal(verify("CODE_VALID"), TGOTP_VERIFY_UNKNOWN);
	assert_int_equal(verify("code_valid "), TGOTP_VERIFY_UNKNOWN);
	assert_int_equal(verify("code_valid_not"), TGOTP_VERIFY_UNKNOWN);
	assert_int_equal(verify("weird"), TGOTP_VERIFY_UNKNOWN);
	assert_int_equal(verify(""), TGOTP_VERIFY_UNKNOWN);
}

/* A verification_status that is there but unreadable is never valid. */
static void test_verification_malformed(void **state)
{
	static const char *bodies[] = {
	    "{\"ok\":true,\"result\":{\"request_id\":\"1\",\"verification_status\":{\"status\":1}}"
	    "}",
	    "{\"ok\":true,\"result\":{\"request_id\":\"1\",\"verification_status\":{}}}",
	    "{\"ok\":true,\"result\":{\"request_id\":\"1\",\"verification_status\":\"code_valid\"}"
	    "}",
	};
	size_t i;
	enum tgotp_gw_result r;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		r = parse(bodies[i], 200, true);
		assert_true(r != TGOTP_GW_OK || st.verification == TGOTP_VERIFY_UNKNOWN);
		assert_int_not_equal(st.verification, TGOTP_VERIFY_CODE_VALID);
	}
}

static enum tgotp_gw_result error(const char *err, long http)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"ok\":false,\"error\":\"%s\"}", err);
	return parse(body, http, true);
}

static void test_errors_classified(void **state)
{
	(void)state;
	assert_int_equal(error("PHONE_NUMBER_NOT_AVAILABLE", 400), TGOTP_GW_UNDELIVERABLE);
	assert_string_equal(st.error, "PHONE_NUMBER_NOT_AVAILABLE");
	assert_string_equal(st.request_id, "");
	assert_int_equal(error("PHONE_NUMBER_INVALID", 400), TGOTP_GW_UNDELIVERABLE);
	assert_int_equal(error("PHONE_NUMBER_NOT_FOUND", 200), TGOTP_GW_UNDELIVERABLE);
	assert_int_equal(error("BALANCE_NOT_ENOUGH", 400), TGOTP_GW_REFUSED);
	assert_int_equal(st.flood_wait, 0);
	assert_int_equal(error("FLOOD_WAIT_30", 429), TGOTP_GW_REFUSED);
	assert_int_equal(st.flood_wait, 30);
	assert_string_equal(st.error, "FLOOD_WAIT_30");
	assert_int_equal(error("ACCESS_TOKEN_INVALID", 401), TGOTP_GW_ERROR);
	assert_int_equal(error("ACCESS_TOKEN_REQUIRED", 401), TGOTP_GW_ERROR);
	assert_int_equal(error("SOMETHING_NEW", 400), TGOTP_GW_ERROR);
	assert_string_equal(st.error, "SOMETHING_NEW");
	assert_int_equal(error("", 400), TGOTP_GW_ERROR);
	assert_int_equal(error("CODE_INVALID", 400), TGOTP_GW_CODE_INVALID);
	assert_int_equal(error("CODE_INVALID_X", 400), TGOTP_GW_ERROR);
	assert_int_equal(error("phone_number_invalid", 400), TGOTP_GW_ERROR);
}

static void test_classify_error(void **state)
{
	/* Any FLOOD_WAIT_* is throttling (README's results table): never the failmode path.
	 * A malformed wait counts as none, a huge one as a day. */
	static const struct {
		const char *error;
		enum tgotp_gw_result r;
		long flood_wait;
	} cases[] = {
	    {"PHONE_NUMBER_MISMATCH", TGOTP_GW_UNDELIVERABLE, 0},
	    {"FLOOD_WAIT_3600", TGOTP_GW_REFUSED, 3600},
	    {"FLOOD_WAIT_", TGOTP_GW_REFUSED, 0},
	    {"FLOOD_WAIT_-5", TGOTP_GW_REFUSED, 0},
	    {"FLOOD_WAIT_99999999999999999999999", TGOTP_GW_REFUSED, 86400},
	    {"FLOOD_WAIT_86401", TGOTP_GW_REFUSED, 86400},
	    {"TTL_INVALID", TGOTP_GW_ERROR, 0},
	    {"", TGOTP_GW_ERROR, 0},
	};
	size_t i;
	long fw;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fw = -1; /* so that the value of the call before cannot pass */
		assert_int_equal(tgotp_gw_classify_error(cases[i].error, &fw), cases[i].r);
		if (fw != cases[i].flood_wait)
			fail_msg("%s: flood wait %ld, want %ld", cases[i].error, fw,
				 cases[i].flood_wait);
	}
}

static void test_http_status_gate(void **state)
{
	(void)state;
	assert_int_equal(parse(sent, 500, true), TGOTP_GW_UNAVAILABLE);
	assert_int_equal(parse(sent, 502, true), TGOTP_GW_UNAVAILABLE);
	/* A 4xx answered: a refusal, never "unreachable", whatever the body. */
	assert_int_equal(parse(sent, 404, true), TGOTP_GW_ERROR);
	assert_int_equal(parse("<html>Forbidden</html>", 403, true), TGOTP_GW_ERROR);
	assert_int_equal(parse("", 401, true), TGOTP_GW_ERROR);
	assert_int_equal(parse("{\"ok\":false,\"error\":\"INTERNAL\"}", 500, true), TGOTP_GW_ERROR);
	assert_int_equal(parse("<html>Bad Gateway</html>", 502, true), TGOTP_GW_UNAVAILABLE);
	assert_int_not_equal(parse(sent, 301, true), TGOTP_GW_OK);
	assert_int_not_equal(parse(sent, 0, true), TGOTP_GW_OK);
	assert_int_not_equal(parse(sent, 199, true), TGOTP_GW_OK);
	assert_int_not_equal(parse(sent, 300, true), TGOTP_GW_OK);
	assert_int_equal(parse(sent, 299, true), TGOTP_GW_OK);
}

static void test_not_envelope(void **state)
{
	static const char *bodies[] = {
	    "",
	    "<html><body>502 Bad Gateway</body></html>",
	    "[1,2]",
	    "null",
	    "true",
	    "\"ok\"",
	    "{}",
	    "{\"ok\":\"true\",\"result\":{\"request_id\":\"1\"}}",
	    "{\"ok\":1,\"result\":{\"request_id\":\"1\"}}",
	    "{\"result\":{\"request_id\":\"1\"}}",
	    "{\"ok\":true}",
	    "{\"ok\":true,\"result\":null}",
	    "{\"ok\":true,\"result\":true}",
	    "{\"ok\":true,\"result\":[]}",
	    "{\"ok\":true,\"result\":{\"request_id\":\"1\"}",	/* truncated */
	    "{\"ok\":true,\"result\":{\"request_id\":\"1\"}}}", /* trailing junk */
	    "{\"ok\":true,\"result\":{\"request_id\":\"1\"}} x",
	    "{\"ok\":false}",
	    "{\"ok\":false,\"error\":123}",
	    "{\"ok\":false,\"error\":null}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		if (parse(bodies[i], 200, true) != TGOTP_GW_UNAVAILABLE)
			print_message("body: %s\n", bodies[i]);
		assert_int_equal(parse(bodies[i], 200, true), TGOTP_GW_UNAVAILABLE);
	}
	memset(&st, 'J', sizeof(st));
	assert_int_equal(tgotp_gw_parse(NULL, 0, 200, true, &st), TGOTP_GW_UNAVAILABLE);
}

static void test_revoke_result_true(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"ok\":true,\"result\":true}", 200, false), TGOTP_GW_OK);
	assert_string_equal(st.request_id, "");
	assert_int_equal(parse("{\"ok\":true}", 200, false), TGOTP_GW_UNAVAILABLE);
	assert_int_equal(parse("{\"ok\":true,\"result\":true}", 500, false), TGOTP_GW_UNAVAILABLE);
	assert_int_equal(parse("{\"ok\":false,\"error\":\"REQUEST_ID_INVALID\"}", 400, false),
			 TGOTP_GW_ERROR);
}

static void test_embedded_nul(void **state)
{
	static const char b1[] = "{\"ok\":true,\"result\":{\"request_id\":\"1\"}}\0garbage";
	static const char b2[] = "{\"ok\":true,\"result\":{\"request_id\":\"1\0\"}}";
	static const char b3[] = "{\"ok\":true,\"result\":{\"request_id\":\"1\"}}\0";

	(void)state;
	memset(&st, 'J', sizeof(st));
	assert_int_equal(tgotp_gw_parse(b1, sizeof(b1) - 1, 200, true, &st), TGOTP_GW_UNAVAILABLE);
	assert_int_equal(tgotp_gw_parse(b2, sizeof(b2) - 1, 200, true, &st), TGOTP_GW_UNAVAILABLE);
	assert_int_equal(tgotp_gw_parse(b3, sizeof(b3) - 1, 200, true, &st), TGOTP_GW_UNAVAILABLE);
}

static void test_len_is_honoured(void **state)
{
	/* The bytes after len are not part of the answer. */
	static const char b[] = "{\"ok\":true,\"result\":{\"request_id\":\"1\"}}";

	(void)state;
	memset(&st, 'J', sizeof(st));
	assert_int_equal(tgotp_gw_parse(b, sizeof(b) - 2, 200, true, &st), TGOTP_GW_UNAVAILABLE);
	assert_int_equal(tgotp_gw_parse(b, sizeof(b) - 1, 200, true, &st), TGOTP_GW_OK);
}

static void test_request_id_shape(void **state)
{
	char body[256], id[TGOTP_REQID_MAX + 2];

	(void)state;
	assert_int_equal(
	    parse("{\"ok\":true,\"result\":{\"request_id\":141665098367493}}", 200, true),
	    TGOTP_GW_UNAVAILABLE);
	assert_int_equal(parse("{\"ok\":true,\"result\":{\"request_id\":null}}", 200, true),
			 TGOTP_GW_UNAVAILABLE);
	assert_int_equal(parse("{\"ok\":true,\"result\":{\"request_id\":[\"1\"]}}", 200, true),
			 TGOTP_GW_UNAVAILABLE);

	/* 63 characters fit the buffer with its NUL; 64 do not. */
	memset(id, '7', TGOTP_REQID_MAX - 1);
	id[TGOTP_REQID_MAX - 1] = '\0';
	snprintf(body, sizeof(body), "{\"ok\":true,\"result\":{\"request_id\":\"%s\"}}", id);
	assert_int_equal(parse(body, 200, true), TGOTP_GW_OK);
	assert_string_equal(st.request_id, id);

	memset(id, '7', TGOTP_REQID_MAX);
	id[TGOTP_REQID_MAX] = '\0';
	snprintf(body, sizeof(body), "{\"ok\":true,\"result\":{\"request_id\":\"%s\"}}", id);
	assert_int_equal(parse(body, 200, true), TGOTP_GW_UNAVAILABLE);
}

static void test_error_sanitised(void **state)
{
	char body[512];
	char err[200];

	(void)state;
	assert_int_equal(
	    parse("{\"ok\":false,\"error\":\"BAD\\u001b[31m\\r\\nINJECTED\\u007f\"}", 400, true),
	    TGOTP_GW_ERROR);
	assert_false(has_control(st.error));
	assert_memory_equal(st.error, "BAD", 3);
	assert_non_null(strstr(st.error, "INJECTED"));

	/* A long error is cut to the buffer, still classified by its prefix. */
	memset(err, 'X', sizeof(err));
	memcpy(err, "PHONE_NUMBER_", 13);
	err[150] = '\0';
	snprintf(body, sizeof(body), "{\"ok\":false,\"error\":\"%s\"}", err);
	assert_int_equal(parse(body, 400, true), TGOTP_GW_UNDELIVERABLE);
	assert_true(strlen(st.error) < TGOTP_GW_ERROR_MAX);
	assert_memory_equal(st.error, "PHONE_NUMBER_XXX", 16);
}

static void test_deep_nesting(void **state)
{
	size_t n = 100000;
	char *body = malloc(n + 1);

	(void)state;
	assert_non_null(body);
	memset(body, '[', n);
	body[n] = '\0';
	memset(&st, 'J', sizeof(st));
	assert_int_equal(tgotp_gw_parse(body, n, 200, true, &st), TGOTP_GW_UNAVAILABLE);

	/* Deep nesting inside a valid-looking envelope. */
	memcpy(body, "{\"ok\":true,\"result\":", 20);
	assert_int_equal(tgotp_gw_parse(body, n, 200, true, &st), TGOTP_GW_UNAVAILABLE);
	free(body);
}

static void test_strings(void **state)
{
	(void)state;
	assert_non_null(tgotp_gw_result_str(TGOTP_GW_OK));
	assert_non_null(tgotp_gw_result_str(TGOTP_GW_CODE_INVALID));
	assert_non_null(tgotp_gw_result_str((enum tgotp_gw_result)99));
	assert_non_null(tgotp_verification_str(TGOTP_VERIFY_CODE_VALID));
	assert_non_null(tgotp_verification_str(TGOTP_VERIFY_UNKNOWN));
	assert_non_null(tgotp_verification_str((enum tgotp_verification)99));
	assert_string_not_equal(tgotp_gw_result_str(TGOTP_GW_OK),
				tgotp_gw_result_str(TGOTP_GW_UNAVAILABLE));
	assert_string_not_equal(tgotp_verification_str(TGOTP_VERIFY_CODE_VALID),
				tgotp_verification_str(TGOTP_VERIFY_UNKNOWN));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok_send),
	    cmocka_unit_test(test_ok_minimal_resets_status),
	    cmocka_unit_test(test_verification_status),
	    cmocka_unit_test(test_verification_malformed),
	    cmocka_unit_test(test_errors_classified),
	    cmocka_unit_test(test_classify_error),
	    cmocka_unit_test(test_http_status_gate),
	    cmocka_unit_test(test_not_envelope),
	    cmocka_unit_test(test_revoke_result_true),
	    cmocka_unit_test(test_embedded_nul),
	    cmocka_unit_test(test_len_is_honoured),
	    cmocka_unit_test(test_request_id_shape),
	    cmocka_unit_test(test_error_sanitised),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
