/* SPDX-License-Identifier: BSD-3-Clause */
/* Text from outside (the Gateway, the directory, user names, the
 * configuration): cleaned before it is shown or logged. */
#ifndef TGOTP_TEXT_H
#define TGOTP_TEXT_H

#include <stddef.h>

/* Copies untrusted text (server answers, directory values, user names) into
 * out, replacing every byte below 0x20, 0x7f and invalid UTF-8 with '?', cut to
 * outlen - 1 bytes on a character boundary. Stops at a NUL or after inlen
 * bytes. Returns out. */
char *tgotp_text_copy_printable(const char *in, size_t inlen, char *out, size_t outlen);

#endif
