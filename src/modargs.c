/* SPDX-License-Identifier: BSD-3-Clause */
/* The module arguments of a pam.d line (debug, config=): one parser for the
 * module and for tgotp check. */
#include <string.h>

#include "config.h"
#include "modargs.h"

int tgotp_args_parse(int argc, const char *const *argv, struct tgotp_args *a, const char **bad)
{
	int i;

	a->debug = false;
	a->config = TGOTP_DEFAULT_CONFIG;
	*bad = NULL;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "debug") == 0) {
			a->debug = true;
		} else if (strncmp(argv[i], "config=", 7) == 0 && argv[i][7] == '/') {
			a->config = argv[i] + 7;
		} else {
			*bad = argv[i];
			return -1;
		}
	}
	return 0;
}
