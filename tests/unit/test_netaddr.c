/* Unit tests: trusted_networks' CIDRs and addresses (src/netaddr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "../../src/netaddr.h"

static int parse(const char *s, struct tgotp_cidr *c)
{
	const char *why = NULL;
	int r = tgotp_cidr_parse(s, c, &why);

	if (r < 0)
		assert_non_null(why);
	return r;
}

static void cidrs(void **state)
{
	struct tgotp_cidr c;

	(void)state;
	assert_int_equal(parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(parse("2001:db8::/32", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 32);
	/* a bare address is one host */
	assert_int_equal(parse("192.0.2.7", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(parse("2001:db8::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(parse("0.0.0.0/0", &c), 0);
	assert_int_equal(parse("::/0", &c), 0);
	assert_int_equal(parse("10.1.2.3/32", &c), 0);
	/* an IPv4-mapped network is its IPv4 network */
	assert_int_equal(parse("::ffff:10.0.0.0/104", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(parse("::ffff:10.0.0.0/95", &c), -1);
	/* refused, never rounded or guessed */
	assert_int_equal(parse("10.0.0.1/8", &c), -1);
	assert_int_equal(parse("2001:db8::1/32", &c), -1);
	assert_int_equal(parse("10.0.0.0/33", &c), -1);
	assert_int_equal(parse("2001:db8::/129", &c), -1);
	assert_int_equal(parse("10.0.0.0/08", &c), -1);
	assert_int_equal(parse("10.0.0.0/", &c), -1);
	assert_int_equal(parse("10.0.0.0/-1", &c), -1);
	assert_int_equal(parse("10.0.0.0/+8", &c), -1);
	assert_int_equal(parse("10.0.0.0/8/8", &c), -1);
	assert_int_equal(parse("10.0.0.0 /8", &c), -1);
	assert_int_equal(parse("010.0.0.0/8", &c), -1);
	assert_int_equal(parse("10.0/16", &c), -1);
	assert_int_equal(parse("0x0a000000/8", &c), -1);
	assert_int_equal(parse("gateway.example.org/32", &c), -1);
	assert_int_equal(parse("", &c), -1);
	assert_int_equal(parse("/8", &c), -1);
	assert_int_equal(parse("fe80::1%eth0/128", &c), -1);
	assert_int_equal(
	    parse("0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/8", &c),
	    -1);
}

static bool in(const char *rhost, const char *cidr)
{
	char *list[] = {(char *)(uintptr_t)cidr};

	return tgotp_addr_in_networks(rhost, list, 1);
}

static void matching(void **state)
{
	char a[] = "10.0.0.0/8", b[] = "2001:db8::/32", c[] = "192.0.2.7";
	char *nets[] = {a, b, c};

	(void)state;
	assert_true(tgotp_addr_in_networks("10.1.2.3", nets, 3));
	assert_true(tgotp_addr_in_networks("2001:db8:1::5", nets, 3));
	assert_true(tgotp_addr_in_networks("192.0.2.7", nets, 3));
	assert_false(tgotp_addr_in_networks("192.0.2.8", nets, 3));
	assert_false(tgotp_addr_in_networks("11.0.0.1", nets, 3));
	assert_false(tgotp_addr_in_networks("2001:db9::1", nets, 3));
	/* an IPv4-mapped IPv6 address is its IPv4 address */
	assert_true(tgotp_addr_in_networks("::ffff:10.1.2.3", nets, 3));
	assert_false(tgotp_addr_in_networks("::ffff:11.1.2.3", nets, 3));
	assert_false(in("::ffff:10.1.2.3", "::/0"));
	assert_true(in("::ffff:10.1.2.3", "0.0.0.0/0"));
	/* SECURITY: names, and spellings only inet_aton or a resolver would
	 * read as 10.1.2.3, match nothing */
	assert_false(tgotp_addr_in_networks("10.1.2.3.example.com", nets, 3));
	assert_false(tgotp_addr_in_networks("010.1.2.3", nets, 3));
	assert_false(tgotp_addr_in_networks("10.1.2.3 ", nets, 3));
	assert_false(tgotp_addr_in_networks(" 10.1.2.3", nets, 3));
	assert_false(tgotp_addr_in_networks("0x0a010203", nets, 3));
	assert_false(tgotp_addr_in_networks("167838211", nets, 3));
	assert_false(tgotp_addr_in_networks("10.66051", nets, 3));
	assert_false(tgotp_addr_in_networks("10.1.2.3/8", nets, 3));
	assert_false(tgotp_addr_in_networks("", nets, 3));
	assert_false(tgotp_addr_in_networks(NULL, nets, 3));
	assert_false(tgotp_addr_in_networks("10.1.2.3", nets, 0));
	/* prefixes that end inside a byte */
	assert_true(in("172.31.255.255", "172.16.0.0/12"));
	assert_false(in("172.32.0.0", "172.16.0.0/12"));
	assert_true(in("2001:db8::ff", "2001:db8::80/121"));
	assert_false(in("2001:db8::7f", "2001:db8::80/121"));
	/* a CIDR the parser would refuse matches nothing */
	assert_false(in("10.0.0.1", "10.0.0.1/8"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cidrs),
	    cmocka_unit_test(matching),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
