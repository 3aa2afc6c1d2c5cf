/* SPDX-License-Identifier: BSD-3-Clause */
/* Logging without PAM: the parts in src/ report through a callback that the
 * module routes to pam_syslog and the tests capture. */
#ifndef TGOTP_LOG_H
#define TGOTP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

typedef void (*tgotp_log_fn)(void *ctx, int prio, const char *msg);

struct tgotp_log {
	tgotp_log_fn fn;
	void *ctx;
	bool debug; /* LOG_DEBUG lines pass only when set */
};

/* Formats, strips control characters and hands the line to the callback.
 * A NULL log or callback drops the line. */
void tgotp_log(const struct tgotp_log *log, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Room for a user name, host name or directory value as a log field: the
 * first 64 bytes, each of which may become %XX. */
#define TGOTP_LOG_FIELD_MAX (3 * 64 + 1)

/* A value for a key=value log field (and for user-controlled text in any
 * log line): blanks, '=', '"', '%' and control
 * bytes become %XX (a user name such as "x outcome=success" cannot forge
 * fields); NULL or "" gives "-". Cut to fit len. Returns out or "-". */
const char *tgotp_log_field(const char *v, char *out, size_t len);

#endif
