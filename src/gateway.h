/* SPDX-License-Identifier: BSD-3-Clause */
/* Telegram Gateway API client: one curl handle (and so one TLS connection)
 * per login, JSON bodies; the answers are parsed and classified by
 * gateway_parse.h. */
#ifndef TGOTP_GATEWAY_H
#define TGOTP_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway_parse.h"
#include "log.h"

#define TGOTP_BODY_MAX (64 * 1024)

struct tgotp_gw_opts {
	const char *api_url; /* https only */
	const char *token;   /* secret: copied into the Authorization header */
	const char *ca_file; /* "" or NULL: system store */
	const char *proxy;   /* "" or NULL: none, whatever the environment says */
	long timeout;	     /* seconds per request, connect included */
};

struct tgotp_gateway;

/* true (logged) when SSLKEYLOGFILE is set: libcurl would write the TLS
 * session keys of any connection there, so none may be started (the etcd
 * store asks too). */
bool tgotp_caller_controls_key_log(const struct tgotp_log *log);

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
