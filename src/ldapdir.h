/* SPDX-License-Identifier: BSD-3-Clause */
/* Phone numbers from a directory (OpenLDAP's libldap). */
#ifndef TGOTP_LDAPDIR_H
#define TGOTP_LDAPDIR_H

#include "config.h"
#include "phone.h"
#include "users.h"

/* Escapes a value for an LDAP filter per RFC 4515 into out (outlen bytes).
 * Returns 0, or -1 when it does not fit. */
int tgotp_ldap_escape(const char *in, char *out, size_t outlen);

/* Searches the directory for user. FOUND, NOT_FOUND, UNAVAILABLE (no server
 * answered: down, connect or TLS handshake failed, timeout), REFUSED (a
 * server answered with a refusal: bind refused, locked service account,
 * any other LDAP result code; also when another server was down) or ERROR
 * (configuration). */
enum tgotp_lookup tgotp_ldap_lookup(const struct tgotp_ldap_config *l, const char *default_cc,
				    const char *user, char phone[TGOTP_PHONE_MAX],
				    const struct tgotp_log *log);

/* The same; dn (dnlen bytes, may be NULL) receives the DN of the entry the
 * number came from (control characters replaced), "" when none. */
enum tgotp_lookup tgotp_ldap_lookup_dn(const struct tgotp_ldap_config *l, const char *default_cc,
				       const char *user, char phone[TGOTP_PHONE_MAX], char *dn,
				       size_t dnlen, const struct tgotp_log *log);

/* For tgotp check --online: each uri in turn, connect, TLS (StartTLS for
 * ldap://), bind when bind_dn is set; nothing is searched. Each success is
 * logged at LOG_INFO, each failure as a lookup's would be. 0 when every
 * uri passed, else -1. */
int tgotp_ldap_probe(const struct tgotp_ldap_config *l, const struct tgotp_log *log);

#endif
