/* Prints every key the configuration parser accepts, one a line: "key" at
 * the top level, "section|key" inside a section. tests/man/test_manpages.sh
 * compares the list with the keys pam_tgotp.conf(5) documents. */
#include <stdio.h>

#include "config.h"

static void print_key(const char *section, const char *key, void *arg)
{
	(void)arg;
	if (section)
		printf("%s|%s\n", section, key);
	else
		printf("%s\n", key);
}

int main(void)
{
	if (tgotp_config_each_key(print_key, NULL) < 0) {
		fprintf(stderr, "print_config_keys: out of memory\n");
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
