/* SPDX-License-Identifier: BSD-3-Clause */
/* The texts the user sees (messages { } of the configuration): checked when
 * the file is read, and their few % directives expanded by a small expander
 * of their own. SECURITY: the administrator's text never becomes a printf
 * format: "%s%n" in a message is refused, never interpreted. */
#ifndef TGOTP_MESSAGE_H
#define TGOTP_MESSAGE_H

#include <stddef.h>

/* The longest message as written, in bytes. */
#define TGOTP_MESSAGE_MAX 200
/* Room for an expanded message: every directive of the longest message may
 * expand to a masked number. */
#define TGOTP_MESSAGE_OUT_MAX 2048

/* What the directives stand for; each message knows some of them only. */
struct tgotp_message_vars {
	const char *p; /* %p: the masked phone number */
	long n;	       /* %n: tries left */
	long m;	       /* %m: minutes to wait */
};

/* Whether tmpl can be shown: 1..TGOTP_MESSAGE_MAX bytes of printable UTF-8
 * whose directives are "%%" or a '%' followed by one of the letters of
 * known ("" for none). NULL when it can, else what is wrong. */
const char *tgotp_message_check(const char *tmpl, const char *known);

/* Expands tmpl (checked) into out (size bytes, at least 1), cut on a UTF-8
 * character boundary. A directive the check would refuse is copied as
 * written. Returns out. */
char *tgotp_message_expand(const char *tmpl, const struct tgotp_message_vars *v, char *out,
			   size_t size);

#endif
