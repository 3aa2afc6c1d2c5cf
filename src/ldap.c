#include <string.h>

#include "ldap.h"

int tgotp_ldap_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *in; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c == 0x7f) {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '\\';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		} else {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return 0;
}

enum tgotp_lookup tgotp_ldap_lookup(const struct tgotp_ldap_config *l, const char *default_cc,
				    const char *user, char phone[TGOTP_PHONE_MAX],
				    const struct tgotp_log *log)
{
	(void)l;
	(void)default_cc;
	(void)user;
	phone[0] = '\0';
	tgotp_log(log, LOG_ERR, "ldap: directory lookup is not built into this version");
	return TGOTP_LOOKUP_ERROR;
}
