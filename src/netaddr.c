/* SPDX-License-Identifier: BSD-3-Clause */
/* IP networks for trusted_networks. SECURITY: only inet_pton(3) reads an
 * address: no getaddrinfo, no inet_aton (which takes "10.1", "0x0a010203"
 * and "010.1.2.3"), so that a host name (sshd's UseDNS, which lets whoever
 * controls a reverse zone pick the name) never passes for an address. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "text.h"

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* A literal address, an IPv4-mapped IPv6 one turned into IPv4. 0 or -1. */
static int parse_addr(const char *s, int *family, unsigned char addr[16])
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) != 1)
		return -1;
	*family = AF_INET6;
	if (memcmp(addr, v4_mapped, sizeof(v4_mapped)) == 0) {
		memmove(addr, addr + 12, 4);
		*family = AF_INET;
	}
	return 0;
}

/* Whether the first prefix bits of a and b agree. */
static bool same_prefix(const unsigned char *a, const unsigned char *b, unsigned int prefix)
{
	unsigned int whole = prefix / 8, rest = prefix % 8;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	if (memcmp(a, b, whole) != 0)
		return false;
	return rest == 0 || ((a[whole] ^ b[whole]) & mask) == 0;
}

/* Whether every bit of the len bytes at a past the first prefix is 0. */
static bool host_bits_zero(const unsigned char *a, size_t len, unsigned int prefix)
{
	size_t i;

	for (i = prefix / 8; i < len; i++)
		if (a[i] & (i == prefix / 8 ? 0xff >> (prefix % 8) : 0xff))
			return false;
	return true;
}

int tgotp_cidr_parse(const char *s, struct tgotp_cidr *out, const char **why)
{
	char addr[TGOTP_CIDR_TEXT_MAX];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int max, mapped_bits = 0;
	long long prefix = -1;

	memset(out, 0, sizeof(*out));
	*why = "not an IPv4 or IPv6 address";
	if (alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (parse_addr(addr, &out->family, out->addr) < 0)
		return -1;
	if (out->family == AF_INET && strchr(addr, ':'))
		mapped_bits = 96; /* written as ::ffff:a.b.c.d/n */
	max = (out->family == AF_INET ? 32 : 128) + mapped_bits;
	if (slash) {
		const char *p = slash + 1;
		*why = "the prefix length must be a decimal number without a leading zero";
		if ((p[0] == '0' && p[1]) || tgotp_parse_decimal(p, strlen(p), 999, &prefix) < 0)
			return -1;
		*why = "the prefix length is too long for the address";
		if (prefix > (long long)max)
			return -1;
		*why = "an IPv4-mapped network needs a prefix of at least 96";
		if ((long long)mapped_bits > prefix)
			return -1;
	}
	out->prefix = prefix < 0 ? max - mapped_bits : (unsigned int)prefix - mapped_bits;
	/* An address with bits past the prefix is a typo or a misunderstanding
	 * ("10.0.0.1/8"): which network was meant is for the administrator. */
	*why = "the address has bits set past the prefix length (write the network's "
	       "first address)";
	if (!host_bits_zero(out->addr, out->family == AF_INET ? 4 : 16, out->prefix))
		return -1;
	return 0;
}

bool tgotp_addr_in_networks(const char *rhost, char *const *cidrs, size_t n)
{
	struct tgotp_cidr c;
	unsigned char addr[16];
	const char *why;
	int family;
	size_t i;

	if (!rhost || parse_addr(rhost, &family, addr) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (tgotp_cidr_parse(cidrs[i], &c, &why) == 0 && c.family == family &&
		    same_prefix(addr, c.addr, c.prefix))
			return true;
	return false;
}
