/* SPDX-License-Identifier: BSD-3-Clause */
/* The Gateway's answers: the JSON envelope parsed and classified as the
 * contract's table does. Pure, no I/O (fuzzed); the transport is in
 * gateway.h. */
#ifndef TGOTP_GATEWAY_PARSE_H
#define TGOTP_GATEWAY_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define TGOTP_REQID_MAX	   64
#define TGOTP_GW_ERROR_MAX 64

enum tgotp_gw_result {
	TGOTP_GW_OK,
	TGOTP_GW_UNAVAILABLE,	/* nobody answered: transport, 5xx, not the envelope */
	TGOTP_GW_ERROR,		/* answered with a refusal: ACCESS_TOKEN_*, an unknown error,
				   HTTP 4xx; never "unreachable" */
	TGOTP_GW_UNDELIVERABLE, /* PHONE_NUMBER_*: the number cannot get Telegram messages */
	TGOTP_GW_REFUSED,	/* BALANCE_NOT_ENOUGH, FLOOD_WAIT_*: provokable by strangers */
	TGOTP_GW_CODE_INVALID,	/* CODE_INVALID as an error: counts as a wrong code */
};

enum tgotp_verification {
	TGOTP_VERIFY_NONE, /* no verification_status in the answer */
	TGOTP_VERIFY_CODE_VALID,
	TGOTP_VERIFY_CODE_INVALID,
	TGOTP_VERIFY_MAX_ATTEMPTS,
	TGOTP_VERIFY_EXPIRED,
	TGOTP_VERIFY_UNKNOWN, /* never success */
};

struct tgotp_status {
	char request_id[TGOTP_REQID_MAX]; /* "" when absent */
	bool has_cost;
	double request_cost;
	bool has_balance;
	double remaining_balance;
	enum tgotp_verification verification;
	char error[TGOTP_GW_ERROR_MAX]; /* sanitised error string, "" when none */
	long flood_wait;		/* seconds from FLOOD_WAIT_<n>, else 0 */
	bool request_sent;		/* false: the request never left (connect, TLS failed) */
	bool answered;			/* an HTTP answer came back (whatever it said) */
};

/* Classifies one answer: body of len bytes (may hold NULs: rejected), the
 * HTTP status. ok only with a 2xx status and {"ok": true}. An {"ok": false}
 * error is classified by its string whatever the status (it answered); any
 * other 4xx is ERROR; any other body that is not the envelope is
 * UNAVAILABLE. want_result_object: the method returns a
 * RequestStatus (revoke returns true). Fills st. Pure; fuzzed. */
enum tgotp_gw_result tgotp_gw_parse(const char *body, size_t len, long http_status,
				    bool want_result_object, struct tgotp_status *st);

/* Maps an error string to a result (PHONE_NUMBER_* -> UNDELIVERABLE, ...,
 * anything else -> ERROR). */
enum tgotp_gw_result tgotp_gw_classify_error(const char *error, long *flood_wait);

const char *tgotp_gw_result_str(enum tgotp_gw_result r);
const char *tgotp_verification_str(enum tgotp_verification v);

#endif
