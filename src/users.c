#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "ldapdir.h"
#include "users.h"

#define USERS_FILE_MAX (16 * 1024 * 1024)

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int tgotp_users_parse_line(char *line, char **name, char **number)
{
	char *p = line, *end;

	*name = *number = NULL;
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*name = p;
	while (*p && !is_blank(*p))
		p++;
	if (*p == '\0')
		return -1;
	*p++ = '\0';
	while (is_blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_blank(end[-1]))
		*--end = '\0';
	if (*p == '\0' || *p == '#')
		return -1;
	*number = p;
	return 1;
}

/* Normalises a number found for user, logging the masked reason when it
 * does not normalise. Returns 0 when phone was filled. */
static int take_number(const char *where, const char *user, const char *number,
		       const char *default_cc, char phone[TGOTP_PHONE_MAX],
		       const struct tgotp_log *log)
{
	char field[TGOTP_LOG_FIELD_MAX];

	if (tgotp_phone_normalise(number, default_cc, phone) == 0)
		return 0;
	/* SECURITY: a number that failed may still be mostly right: never
	 * log it whole. */
	tgotp_log(log, LOG_WARNING,
		  "%s: phone number of user %s is not valid E.164 (%zu characters), skipped", where,
		  tgotp_log_field(user, field, sizeof(field)), strlen(number));
	return -1;
}

enum tgotp_lookup tgotp_users_find_in_text(const char *text, const char *user,
					   const char *default_cc, char phone[TGOTP_PHONE_MAX],
					   const struct tgotp_log *log)
{
	enum tgotp_lookup ret = TGOTP_LOOKUP_NOT_FOUND;
	char *copy, *line, *save = NULL, *name, *number, where[64];
	int lineno = 0;

	copy = strdup(text);
	if (!copy)
		return TGOTP_LOOKUP_ERROR;
	/* strtok_r would skip empty lines and lose the numbering. */
	for (line = copy; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		if (tgotp_users_parse_line(line, &name, &number) != 1 || strcmp(name, user) != 0)
			continue;
		snprintf(where, sizeof(where), "users file line %d", lineno);
		if (take_number(where, user, number, default_cc, phone, log) == 0) {
			ret = TGOTP_LOOKUP_FOUND;
			break;
		}
	}
	tgotp_freezero(copy, strlen(text) + 1);
	return ret;
}

static enum tgotp_lookup find_inline(const struct tgotp_config *c, const char *user,
				     char phone[TGOTP_PHONE_MAX], const struct tgotp_log *log)
{
	size_t i;

	for (i = 0; i < c->nusers; i++)
		if (strcmp(c->users[i].name, user) == 0 &&
		    take_number("configuration user section", user, c->users[i].phone,
				c->default_country_code, phone, log) == 0)
			return TGOTP_LOOKUP_FOUND;
	return TGOTP_LOOKUP_NOT_FOUND;
}

static enum tgotp_lookup find_in_file(const struct tgotp_config *c, const char *user,
				      char phone[TGOTP_PHONE_MAX], const struct tgotp_log *log)
{
	enum tgotp_lookup ret;
	char *text = NULL;
	size_t len = 0;
	int err;

	err = tgotp_read_file(c->users_file, TGOTP_FILE_PERSONAL, USERS_FILE_MAX, &text, &len, log);
	if (err == -ENOENT)
		return TGOTP_LOOKUP_NOT_FOUND;
	if (err < 0)
		return TGOTP_LOOKUP_ERROR;
	if (memchr(text, '\0', len)) {
		tgotp_log(log, LOG_ERR, "%s: NUL byte in the file", c->users_file);
		ret = TGOTP_LOOKUP_ERROR;
	} else {
		ret = tgotp_users_find_in_text(text, user, c->default_country_code, phone, log);
	}
	tgotp_freezero(text, len + 1);
	return ret;
}

enum tgotp_lookup tgotp_users_lookup(const struct tgotp_config *c, const char *user,
				     char phone[TGOTP_PHONE_MAX], const struct tgotp_log *log)
{
	enum tgotp_lookup ret;

	phone[0] = '\0';
	ret = find_inline(c, user, phone, log);
	if (ret == TGOTP_LOOKUP_NOT_FOUND)
		ret = find_in_file(c, user, phone, log);
	if (ret == TGOTP_LOOKUP_NOT_FOUND && c->ldap.enabled)
		ret = tgotp_ldap_lookup(&c->ldap, c->default_country_code, user, phone, log);
	return ret;
}
