/* SPDX-License-Identifier: BSD-3-Clause */
/* Logging without PAM: lines formatted, cleaned of control characters and
 * handed to the caller's callback; values escaped as key=value fields. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "text.h"

#define LOG_LINE_MAX 1024

void tgotp_log(const struct tgotp_log *log, int prio, const char *fmt, ...)
{
	char raw[LOG_LINE_MAX], clean[LOG_LINE_MAX];
	va_list ap;
	int n;

	if (!log || !log->fn || (prio == LOG_DEBUG && !log->debug))
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	tgotp_text_copy_printable(raw, strlen(raw), clean, sizeof(clean));
	log->fn(log->ctx, prio, clean);
}

/* A value for a key=value log field: blanks, '=', '"' and '%' become %XX
 * so that a user name such as "x outcome=success" cannot forge fields. */
const char *tgotp_log_field(const char *v, char *out, size_t len)
{
	size_t o = 0;

	if (!v || !*v)
		return "-";
	for (; *v && o + 4 < len; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == ' ' || tgotp_text_is_control(c) || c == '=' || c == '"' || c == '%') {
			out[o++] = '%';
			tgotp_hex_byte(out + o, c);
			o += 2;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}
