/* SPDX-License-Identifier: BSD-3-Clause */
/* Bytes and text, one way each for the whole library: hex digits, which
 * text is printable, cleaning untrusted text before it is shown or logged,
 * strict decimal numbers. */
#ifndef TGOTP_TEXT_H
#define TGOTP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Writes byte c as two lower-case hex digits at out (not NUL-terminated). */
void tgotp_hex_byte(char *out, unsigned char c);

/* A control character: a byte below 0x20, or DEL. */
bool tgotp_text_is_control(unsigned char c);

enum tgotp_text_kind {
	TGOTP_TEXT_LINE,  /* for people: no control character; spaces and
			     bytes above 0x7f (UTF-8) allowed */
	TGOTP_TEXT_TOKEN, /* for a protocol (a header, a URL, an id): visible
			     ASCII only, 0x21..0x7e */
	TGOTP_TEXT_UTF8,  /* for people, written by the administrator: valid
			     UTF-8 without C0 or C1 control characters */
};

/* Whether the n bytes at s are all printable as kind. */
bool tgotp_text_printable(const char *s, size_t n, enum tgotp_text_kind kind);

/* Copies untrusted text (server answers, directory values, user names) into
 * out, replacing every byte below 0x20, 0x7f and invalid UTF-8 with '?', cut to
 * outlen - 1 bytes on a character boundary. Stops at a NUL or after inlen
 * bytes. Returns out. */
char *tgotp_text_copy_printable(const char *in, size_t inlen, char *out, size_t outlen);

/* The n bytes at s as a decimal number: digits only (no sign, no blank),
 * at least one, at most max (>= 0). 0 with *out set; -EINVAL when it is not
 * such a number; -ERANGE when it is one above max. */
int tgotp_parse_decimal(const char *s, size_t n, long long max, long long *out);

#endif
