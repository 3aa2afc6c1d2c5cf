/* Unit tests: the module arguments as both the module and tgotp check read
 * them (src/modargs.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

#include "../../src/modargs.h"

static void module_arguments(void **state)
{
	const char *ok[] = {"debug", "config=/etc/x.conf"}, *bad1[] = {"faillmode=safe"},
		   *bad2[] = {"config=relative"};
	struct tgotp_args a;
	const char *bad;

	(void)state;
	assert_int_equal(tgotp_args_parse(2, ok, &a, &bad), 0);
	assert_true(a.debug);
	assert_string_equal(a.config, "/etc/x.conf");
	assert_int_equal(tgotp_args_parse(0, ok, &a, &bad), 0);
	assert_false(a.debug);
	assert_string_equal(a.config, "/etc/security/pam_tgotp.conf");
	assert_int_equal(tgotp_args_parse(1, bad1, &a, &bad), -1);
	assert_string_equal(bad, "faillmode=safe");
	assert_int_equal(tgotp_args_parse(1, bad2, &a, &bad), -1);
	assert_string_equal(bad, "config=relative");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(module_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
