/* SPDX-License-Identifier: BSD-3-Clause */
/* The user -> phone number map: inline `user` sections, then users_file.
 * (The directory comes after these, in ldapdir.h.) */
#ifndef TGOTP_USERS_H
#define TGOTP_USERS_H

#include <stdbool.h>
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

/* Where a number was found (tgotp lookup). */
enum tgotp_source {
	TGOTP_SOURCE_NONE,
	TGOTP_SOURCE_CONFIG,	 /* an inline user section */
	TGOTP_SOURCE_USERS_FILE, /* line of users_file */
	TGOTP_SOURCE_LDAP,	 /* dn */
};

struct tgotp_where {
	enum tgotp_source source;
	int line;
	char dn[512];
};

/* tgotp_users_lookup, telling where the number came from. */
enum tgotp_lookup tgotp_users_lookup_where(const struct tgotp_config *c, const char *user,
					   char phone[TGOTP_PHONE_MAX], struct tgotp_where *w,
					   const struct tgotp_log *log);

/* Checks every line of text (the users file called name): each malformed
 * line, each number that does not normalise and each user named again is
 * logged as "name:LINE: ...". Returns the number of bad lines (a user
 * named again is only a warning: the first usable line wins). */
int tgotp_users_check_text(const char *name, const char *text, const char *default_cc,
			   const struct tgotp_log *log);

/* Whether user can be written into a users file: not empty, no blanks or
 * control characters, not starting with '#'. */
bool tgotp_users_name_ok(const char *user);

/* Writes "user e164" into the users file path: in place of user's first
 * line (later lines of user are dropped), else at the end; comments and
 * other lines are kept byte for byte. The new file is written beside the
 * old one and renamed over it, with the old file's owner and mode (a new
 * file: root, 0600), under a lock on the file's directory held at most
 * 2 s. The old file must be safe to use (as the module reads it). 0 or -1
 * (logged). */
int tgotp_users_set(const char *path, const char *user, const char *e164,
		    const struct tgotp_log *log);

#endif
