/* SPDX-License-Identifier: BSD-3-Clause */
/* The texts the user sees: checked when the configuration is read, their
 * directives (%p, %n, %m, %%) expanded here and nowhere through printf. */
#include <stdio.h>
#include <string.h>

#include "message.h"
#include "text.h"

const char *tgotp_message_check(const char *tmpl, const char *known)
{
	size_t n = strlen(tmpl);
	const char *p;

	if (n == 0 || n > TGOTP_MESSAGE_MAX)
		return "must be 1 to 200 bytes";
	if (!tgotp_text_printable(tmpl, n, TGOTP_TEXT_UTF8))
		return "must be printable UTF-8, without control characters";
	for (p = tmpl; (p = strchr(p, '%')); p += 2)
		if (p[1] != '%' && (p[1] == '\0' || !strchr(known, p[1])))
			return "has a % directive this message does not know (%% is a '%')";
	return NULL;
}

/* Appends the n bytes at s to out (size bytes) at *o, as many whole UTF-8
 * characters as fit. */
static void put(char *out, size_t size, size_t *o, const char *s, size_t n)
{
	size_t room = size - 1 - *o;

	if (n > room) {
		n = room;
		/* back to the start of the character that does not fit */
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
}

char *tgotp_message_expand(const char *tmpl, const struct tgotp_message_vars *v, char *out,
			   size_t size)
{
	char num[24];
	const char *p, *val;
	size_t o = 0, len;

	out[0] = '\0';
	for (p = tmpl; *p; p += len) {
		val = p;
		len = p[0] == '%' && p[1] ? 2 : 1;
		if (len == 1) {
			len = strcspn(p + 1, "%") + 1; /* plain text up to the next % */
		} else if (p[1] == '%') {
			val = "%";
		} else if (p[1] == 'p') {
			val = v->p ? v->p : "-";
		} else if (p[1] == 'n' || p[1] == 'm') {
			snprintf(num, sizeof(num), "%ld", p[1] == 'n' ? v->n : v->m);
			val = num;
		}
		put(out, size, &o, val, val == p ? len : strlen(val));
	}
	return out;
}
