/* SPDX-License-Identifier: BSD-3-Clause */
/* The audit text sent as the Gateway's payload. */
#ifndef TGOTP_PAYLOAD_H
#define TGOTP_PAYLOAD_H

#include <stddef.h>

#define TGOTP_PAYLOAD_MAX 128

struct tgotp_payload_vars {
	const char *service; /* %s */
	const char *user;    /* %u */
	const char *host;    /* %H short host name */
	const char *rhost;   /* %r */
};

/* Checks a template: only %s %u %H %r and %% are allowed. 0 or -1. */
int tgotp_payload_check(const char *tmpl);

/* Expands tmpl into out (at most TGOTP_PAYLOAD_MAX bytes + NUL), control
 * characters stripped, cut on a UTF-8 boundary. Missing values expand to "-".
 * Returns 0, or -1 for an invalid template. */
int tgotp_payload_expand(const char *tmpl, const struct tgotp_payload_vars *v,
			 char out[TGOTP_PAYLOAD_MAX + 1]);

#endif
