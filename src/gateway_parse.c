/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing and classifying Gateway answers: pure, no I/O (fuzzed). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_parse.h"
#include "text.h"

const char *tgotp_gw_result_str(enum tgotp_gw_result r)
{
	switch (r) {
	case TGOTP_GW_OK:
		return "ok";
	case TGOTP_GW_UNAVAILABLE:
		return "gateway_unavailable";
	case TGOTP_GW_ERROR:
		return "gateway_error";
	case TGOTP_GW_UNDELIVERABLE:
		return "not_on_telegram";
	case TGOTP_GW_REFUSED:
		return "sending_refused";
	case TGOTP_GW_CODE_INVALID:
		return "code_invalid";
	}
	return "unknown";
}

const char *tgotp_verification_str(enum tgotp_verification v)
{
	static const char *const names[] = {"none",	    "code_valid",
					    "code_invalid", "code_max_attempts_exceeded",
					    "expired",	    "unknown"};
	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

/* FLOOD_WAIT_<n>: n seconds, capped at a day; a malformed n counts as 0
 * (the prefix alone decides that sending was refused). */
static long flood_seconds(const char *digits)
{
	long long n;
	int r = tgotp_parse_decimal(digits, strlen(digits), 86400, &n);

	if (r == -ERANGE)
		return 86400;
	return r < 0 ? 0 : (long)n;
}

enum tgotp_gw_result tgotp_gw_classify_error(const char *error, long *flood_wait)
{
	static const char flood[] = "FLOOD_WAIT_";

	*flood_wait = 0;
	if (strncmp(error, "PHONE_NUMBER_", strlen("PHONE_NUMBER_")) == 0)
		return TGOTP_GW_UNDELIVERABLE;
	if (strncmp(error, flood, sizeof(flood) - 1) == 0) {
		*flood_wait = flood_seconds(error + sizeof(flood) - 1);
		return TGOTP_GW_REFUSED;
	}
	if (strcmp(error, "BALANCE_NOT_ENOUGH") == 0)
		return TGOTP_GW_REFUSED;
	if (strcmp(error, "CODE_INVALID") == 0)
		return TGOTP_GW_CODE_INVALID;
	/* SECURITY: an error we do not know was still an answer, and the
	 * request carries text the caller chooses (user name, rhost): it must
	 * never count as "unreachable", which failmode = safe lets in. */
	return TGOTP_GW_ERROR;
}

static enum tgotp_verification verification_from(const char *s)
{
	/* Exact, lower case: "CODE_VALID" seen in blog posts is not the API. */
	if (strcmp(s, "code_valid") == 0)
		return TGOTP_VERIFY_CODE_VALID;
	if (strcmp(s, "code_invalid") == 0)
		return TGOTP_VERIFY_CODE_INVALID;
	if (strcmp(s, "code_max_attempts_exceeded") == 0)
		return TGOTP_VERIFY_MAX_ATTEMPTS;
	if (strcmp(s, "expired") == 0)
		return TGOTP_VERIFY_EXPIRED;
	return TGOTP_VERIFY_UNKNOWN;
}

/* A request id goes back to the server and into the log: visible ASCII
 * only (observed ids are numeric; the API only promises a string). */
static bool printable_token(const char *s)
{
	return *s && tgotp_text_printable(s, strlen(s), TGOTP_TEXT_TOKEN);
}

/* Fills st from a RequestStatus object. -1 when it is malformed. */
static int read_request_status(const cJSON *r, struct tgotp_status *st)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "request_id");
	const cJSON *cost = cJSON_GetObjectItemCaseSensitive(r, "request_cost");
	const cJSON *bal = cJSON_GetObjectItemCaseSensitive(r, "remaining_balance");
	const cJSON *vs = cJSON_GetObjectItemCaseSensitive(r, "verification_status");
	const cJSON *status;

	if (!cJSON_IsObject(r) || !cJSON_IsString(id) || !printable_token(id->valuestring) ||
	    strlen(id->valuestring) >= sizeof(st->request_id))
		return -1;
	strcpy(st->request_id, id->valuestring);
	if (cJSON_IsNumber(cost)) {
		st->has_cost = true;
		st->request_cost = cost->valuedouble;
	}
	if (cJSON_IsNumber(bal)) {
		st->has_balance = true;
		st->remaining_balance = bal->valuedouble;
	}
	if (vs) {
		status = cJSON_GetObjectItemCaseSensitive(vs, "status");
		st->verification = cJSON_IsString(status) ? verification_from(status->valuestring)
							  : TGOTP_VERIFY_UNKNOWN;
	}
	return 0;
}

/* Nothing but JSON whitespace between p and end (the body is not
 * NUL-terminated). */
static bool only_blanks(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			return false;
	return true;
}

enum tgotp_gw_result tgotp_gw_parse(const char *body, size_t len, long http_status,
				    bool want_result_object, struct tgotp_status *st)
{
	/* Whatever is not the envelope: a 4xx is a server that answered and
	 * refused; anything else (5xx, a proxy's page, garbage) is nobody. */
	enum tgotp_gw_result ret =
	    http_status >= 400 && http_status <= 499 ? TGOTP_GW_ERROR : TGOTP_GW_UNAVAILABLE;
	const cJSON *ok, *err, *result;
	const char *end = NULL;
	cJSON *root = NULL;

	memset(st, 0, sizeof(*st));
	/* SECURITY: a NUL inside the body would let the parser see less than
	 * what was sent. */
	if (!body || len == 0 || memchr(body, '\0', len))
		goto out;
	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!cJSON_IsObject(root) || !only_blanks(end, body + len))
		goto out;
	ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
	if (cJSON_IsFalse(ok)) {
		err = cJSON_GetObjectItemCaseSensitive(root, "error");
		if (!cJSON_IsString(err))
			goto out;
		tgotp_text_copy_printable(err->valuestring, strlen(err->valuestring), st->error,
					  sizeof(st->error));
		ret = tgotp_gw_classify_error(st->error, &st->flood_wait);
		goto out;
	}
	if (!cJSON_IsTrue(ok) || http_status < 200 || http_status > 299)
		goto out;
	result = cJSON_GetObjectItemCaseSensitive(root, "result");
	if (want_result_object ? read_request_status(result, st) < 0 : !cJSON_IsTrue(result))
		goto out;
	ret = TGOTP_GW_OK;
out:
	cJSON_Delete(root);
	return ret;
}
