/* Telegram Gateway API client: one curl handle (and so one TLS connection)
 * per login, JSON bodies, errors classified as the contract's table does. */
#ifndef TGOTP_GATEWAY_H
#define TGOTP_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define TGOTP_BODY_MAX	   (64 * 1024)
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
	long http_status;
	bool request_sent; /* false: the request never left (connect, TLS failed) */
	bool answered;	   /* an HTTP answer came back (whatever it said) */
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

struct tgotp_gw_opts {
	const char *api_url; /* https only */
	const char *token;   /* secret: copied into the Authorization header */
	const char *ca_file; /* "" or NULL: system store */
	const char *proxy;   /* "" or NULL: none, whatever the environment says */
	long timeout;	     /* seconds per request, connect included */
};

struct tgotp_gateway;

struct tgotp_gateway *tgotp_gateway_new(const struct tgotp_gw_opts *o, const struct tgotp_log *log);
void tgotp_gateway_free(struct tgotp_gateway *gw);

struct tgotp_send_req {
	const char *phone_number;
	const char *request_id; /* from checkSendAbility, or NULL */
	const char *sender_username;
	const char *callback_url;
	const char *payload;
	long code_length;
	long ttl;
};

enum tgotp_gw_result tgotp_gw_check_send_ability(struct tgotp_gateway *gw, const char *phone,
						 struct tgotp_status *st);
enum tgotp_gw_result tgotp_gw_send(struct tgotp_gateway *gw, const struct tgotp_send_req *r,
				   struct tgotp_status *st);
enum tgotp_gw_result tgotp_gw_check(struct tgotp_gateway *gw, const char *request_id,
				    const char *code, struct tgotp_status *st);
enum tgotp_gw_result tgotp_gw_revoke(struct tgotp_gateway *gw, const char *request_id);
/* The same, with the answer in st (tgotp check --online: a revoke of a
 * request that does not exist costs nothing and shows whether the token is
 * accepted). */
enum tgotp_gw_result tgotp_gw_revoke_status(struct tgotp_gateway *gw, const char *request_id,
					    struct tgotp_status *st);

#endif
