/* libFuzzer target: the payload template. Input: NUL-separated fields
 * "TEMPLATE\0SERVICE\0USER\0HOST\0RHOST"; a field the input stops before is
 * NULL (a PAM item that is not set). */
#include <string.h>

#include "fuzz.h"
#include "../../src/payload.h"

/* Valid UTF-8 without overlongs and surrogates (what sanitising keeps). */
static bool valid_utf8(const unsigned char *s)
{
	size_t n, i;
	unsigned int cp;

	while (*s) {
		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 2, cp = *s & 0x1f;
		else if (*s >= 0xe0 && *s <= 0xef)
			n = 3, cp = *s & 0x0f;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 4, cp = *s & 0x07;
		else
			return false;
		for (i = 1; i < n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		s += n;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy, *field[5] = {NULL}, *p, *end;
	struct tgotp_payload_vars v;
	char out[TGOTP_PAYLOAD_MAX + 1];
	int checked, expanded;
	size_t i;

	/* One byte more than the input: the last field is NUL-terminated. */
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	for (i = 0, p = copy; i < 5 && p <= end; i++, p += strlen(p) + 1)
		field[i] = p;
	v = (struct tgotp_payload_vars){field[1], field[2], field[3], field[4]};
	memset(out, 'X', sizeof(out));
	checked = tgotp_payload_check(field[0]);
	expanded = tgotp_payload_expand(field[0], &v, out);
	FUZZ_CHECK(checked == expanded && (checked == 0 || checked == -1));
	FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	if (expanded == 0) {
		FUZZ_CHECK(strlen(out) <= TGOTP_PAYLOAD_MAX);
		FUZZ_CHECK(fuzz_printable(out) && valid_utf8((const unsigned char *)out));
	} else {
		FUZZ_CHECK(out[0] == '\0' && strchr(field[0], '%') != NULL);
	}
	free(copy);
	return 0;
}
