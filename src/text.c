/* SPDX-License-Identifier: BSD-3-Clause */
/* Bytes and text, one way each for the whole library: hex digits, which
 * text is printable, cleaning untrusted text before it is shown or logged,
 * strict decimal numbers. */
#include <errno.h>
#include <string.h>

#include "text.h"

void tgotp_hex_byte(char *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	out[0] = hex[c >> 4];
	out[1] = hex[c & 15];
}

bool tgotp_text_is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Length of the valid UTF-8 sequence starting at s (at most avail bytes), or
 * 0 when it is not one. Overlong forms and surrogates are refused. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* Valid UTF-8 without a control character, C1 (U+0080..U+009F, which some
 * terminals read as escape sequences) included. */
static bool utf8_printable(const unsigned char *s, size_t n)
{
	size_t i, len;

	for (i = 0; i < n; i += len) {
		len = utf8_seq_len(s + i, n - i);
		if (len == 0 || (len == 1 && tgotp_text_is_control(s[i])) ||
		    (len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0))
			return false;
	}
	return true;
}

bool tgotp_text_printable(const char *s, size_t n, enum tgotp_text_kind kind)
{
	size_t i;

	if (kind == TGOTP_TEXT_UTF8)
		return utf8_printable((const unsigned char *)s, n);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (tgotp_text_is_control(c) ||
		    (kind == TGOTP_TEXT_TOKEN && (c == ' ' || c > 0x7e)))
			return false;
	}
	return true;
}

char *tgotp_text_copy_printable(const char *in, size_t inlen, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0, n;

	if (outlen == 0)
		return out;
	while (in && i < inlen && s[i] != '\0') {
		n = utf8_seq_len(s + i, inlen - i);
		if (n == 0 || (n == 1 && tgotp_text_is_control(s[i]))) {
			/* SECURITY: no escape sequence or line break reaches a
			 * terminal or a log line from untrusted text. */
			if (o + 1 >= outlen)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + n >= outlen)
			break;
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

int tgotp_parse_decimal(const char *s, size_t n, long long max, long long *out)
{
	long long v = 0;
	bool over = false;
	int d;
	size_t i;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = s[i] - '0';
		if (over || v > max / 10 || (v == max / 10 && d > max % 10))
			over = true; /* the rest must still be digits */
		else
			v = v * 10 + d;
	}
	if (over)
		return -ERANGE;
	*out = v;
	return 0;
}
