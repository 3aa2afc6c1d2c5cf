/* The user -> phone number map: inline `user` sections, then users_file.
 * (The directory comes after these, in ldap.h.) */
#ifndef TGOTP_USERS_H
#define TGOTP_USERS_H

#include <stddef.h>

#include "config.h"
#include "phone.h"

enum tgotp_lookup {
	TGOTP_LOOKUP_FOUND,
	TGOTP_LOOKUP_NOT_FOUND,
	TGOTP_LOOKUP_UNAVAILABLE, /* nobody answered (down, connect, timeout): failmode decides */
	TGOTP_LOOKUP_REFUSED,	  /* the directory answered with a refusal (bind refused,
				     locked service account, any other result code):
				     PAM_AUTHINFO_UNAVAIL whatever failmode */
	TGOTP_LOOKUP_ERROR,	  /* unsafe or broken configuration */
};

/* Splits one users_file line into a name and the number as written (which
 * may contain spaces). Blank lines and '#' comments give 0 and no name.
 * Returns 1 with *name and *number pointing into line (modified in place),
 * 0 for nothing, -1 for a malformed line. */
int tgotp_users_parse_line(char *line, char **name, char **number);

/* Looks user up in text (a users_file's contents). Returns FOUND with the
 * normalised number in phone, or NOT_FOUND. Entries that do not normalise
 * are logged (masked) and skipped. */
enum tgotp_lookup tgotp_users_find_in_text(const char *text, const char *user,
					   const char *default_cc, char phone[TGOTP_PHONE_MAX],
					   const struct tgotp_log *log);

/* Inline entries, then users_file (a missing file is an empty map; an unsafe
 * one is an ERROR), then LDAP when configured. */
enum tgotp_lookup tgotp_users_lookup(const struct tgotp_config *c, const char *user,
				     char phone[TGOTP_PHONE_MAX], const struct tgotp_log *log);

#endif
