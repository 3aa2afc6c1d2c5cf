/* SPDX-License-Identifier: BSD-3-Clause */
/* The module's arguments (the pam.d line): read by the module and by
 * `tgotp check`, which must judge a stack exactly as the module would. */
#ifndef TGOTP_MODARGS_H
#define TGOTP_MODARGS_H

#include <stdbool.h>

struct tgotp_args {
	bool debug;
	const char *config; /* points into argv, or TGOTP_DEFAULT_CONFIG */
};

/* Fills a from argv. An unknown or invalid argument (config= needs an
 * absolute path) makes it return -1 with *bad pointing at it. */
int tgotp_args_parse(int argc, const char *const *argv, struct tgotp_args *a, const char **bad);

#endif
