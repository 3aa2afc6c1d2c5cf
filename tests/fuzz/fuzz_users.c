/* libFuzzer target: the users file. Input: a flag byte, then
 * "USER\n[COUNTRY_CODE\n]FILE": the user looked up, the default country code
 * when flag bit 0 is set, then the file's contents (cut at a NUL: the module
 * refuses files holding one before they reach the parser). Every line of the
 * file also goes through tgotp_users_parse_line on its own. */
#include <string.h>

#include "fuzz.h"
#include "../../src/users.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void check_line(const char *orig)
{
	char *line = strdup(orig), *name, *number;
	size_t len = strlen(orig);
	int r;

	if (!line)
		return;
	r = tgotp_users_parse_line(line, &name, &number);
	FUZZ_CHECK(r >= -1 && r <= 1);
	if (r == 1) {
		FUZZ_CHECK(name >= line && name < line + len && number > name &&
			   number < line + len);
		FUZZ_CHECK(name[0] && name[0] != '#' && strcspn(name, " \t\r\n") == strlen(name));
		FUZZ_CHECK(number[0] && number[0] != '#' && !is_blank(number[0]) &&
			   !is_blank(number[strlen(number) - 1]));
	} else {
		FUZZ_CHECK(r == -1 || (name == NULL && number == NULL));
	}
	free(line);
}

static void check_each_line(const char *file)
{
	char *copy = strdup(file), *line, *next;

	if (!copy)
		return;
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		check_line(line);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char phone[TGOTP_PHONE_MAX];
	char *text, *user, *cc = NULL, *file, *nl;
	enum tgotp_lookup r;

	if (size < 1)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	user = text;
	nl = strchr(user, '\n');
	file = nl ? nl + 1 : user + strlen(user);
	if (nl)
		*nl = '\0';
	if ((data[0] & 1) && (nl = strchr(file, '\n'))) {
		*nl = '\0';
		cc = file;
		file = nl + 1;
	}
	memset(phone, 'X', sizeof(phone));
	r = tgotp_users_find_in_text(file, user, cc, phone, &fuzz_log);
	FUZZ_CHECK(r == TGOTP_LOOKUP_FOUND || r == TGOTP_LOOKUP_NOT_FOUND);
	if (r == TGOTP_LOOKUP_FOUND) {
		FUZZ_CHECK(fuzz_is_e164(phone));
		FUZZ_CHECK(strstr(file, user) != NULL);
	}
	check_each_line(file);
	free(text);
	return 0;
}
