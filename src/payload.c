/* SPDX-License-Identifier: BSD-3-Clause */
/* The audit text sent as the Gateway's payload: the configured template
 * with %s, %u, %H, %r and %% expanded, cleaned and cut to size. */
#include <string.h>

#include "text.h"
#include "payload.h"

static const char *var_for(char c, const struct tgotp_payload_vars *v)
{
	switch (c) {
	case 's':
		return v->service;
	case 'u':
		return v->user;
	case 'H':
		return v->host;
	case 'r':
		return v->rhost;
	default:
		return NULL;
	}
}

int tgotp_payload_check(const char *tmpl)
{
	static const struct tgotp_payload_vars probe = {"", "", "", ""};
	const char *p;

	for (p = tmpl; *p; p++) {
		if (*p != '%')
			continue;
		p++;
		if (*p != '%' && !var_for(*p, &probe))
			return -1;
	}
	return 0;
}

/* Appends s to out (cap bytes including the NUL) at *o; silently cut. */
static void append(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o + 1 >= cap)
		return;
	if (n > cap - 1 - *o)
		n = cap - 1 - *o;
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
}

int tgotp_payload_expand(const char *tmpl, const struct tgotp_payload_vars *v,
			 char out[TGOTP_PAYLOAD_MAX + 1])
{
	/* Raw text may be longer than the payload: it is cut after cleaning. */
	char raw[4 * TGOTP_PAYLOAD_MAX];
	const char *p, *val;
	size_t o = 0;

	out[0] = raw[0] = '\0';
	if (tgotp_payload_check(tmpl) < 0)
		return -1;
	for (p = tmpl; *p; p++) {
		if (*p != '%') {
			append(raw, sizeof(raw), &o, p, 1);
			continue;
		}
		p++;
		if (*p == '%') {
			append(raw, sizeof(raw), &o, "%", 1);
			continue;
		}
		val = var_for(*p, v);
		if (!val || !*val)
			val = "-";
		append(raw, sizeof(raw), &o, val, strlen(val));
	}
	tgotp_text_copy_printable(raw, o, out, TGOTP_PAYLOAD_MAX + 1);
	return 0;
}
