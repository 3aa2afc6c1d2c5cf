/* SPDX-License-Identifier: BSD-3-Clause */
/* IP networks for trusted_networks: CIDRs parsed strictly, and whether a
 * remote host is a literal address inside one. No name is ever resolved. */
#ifndef TGOTP_NETADDR_H
#define TGOTP_NETADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Room for a CIDR as written: an IPv6 address, '/', three digits. */
#define TGOTP_CIDR_TEXT_MAX 64

struct tgotp_cidr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned int prefix;
};

/* Parses "ADDRESS/PREFIX" (or a bare address: one host) into *out. The
 * address is as inet_pton(3) reads it (no host names, no "010.1.2.3", no
 * blanks); the prefix is decimal, without a leading zero, at most 32 or
 * 128; no bit of the address may be set past the prefix ("10.0.0.1/8" is
 * refused, not rounded). An IPv4-mapped IPv6 network (::ffff:10.0.0.0/104)
 * becomes its IPv4 network. 0, or -1 with *why saying what is wrong. */
int tgotp_cidr_parse(const char *s, struct tgotp_cidr *out, const char **why);

/* Whether rhost is a literal IPv4 or IPv6 address (an IPv4-mapped IPv6
 * address counts as its IPv4 address) inside one of the n CIDRs. A host
 * name, or anything inet_pton(3) does not read whole, matches nothing; so
 * does a CIDR that does not parse. */
bool tgotp_addr_in_networks(const char *rhost, char *const *cidrs, size_t n);

#endif
