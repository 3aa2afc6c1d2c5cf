/* SPDX-License-Identifier: BSD-3-Clause */
/* Prints every key of the configuration key table, one a line: "key" at the
 * top level, "section|key" inside a section. tests/man/test_manpages.sh
 * compares the list with the keys pam_tgotp.conf(5) documents. */
#include <stdio.h>

#include "config_keys.h"

int main(void)
{
	size_t n, i, j;
	const struct tgotp_config_key *keys = tgotp_config_keys(&n);

	for (i = 0; i < n; i++) {
		printf("%s\n", keys[i].name);
		for (j = 0; keys[i].keys && j < keys[i].nkeys; j++)
			printf("%s|%s\n", keys[i].name, keys[i].keys[j].name);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
