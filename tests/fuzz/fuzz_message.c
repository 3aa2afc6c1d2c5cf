/* libFuzzer target: the texts users see (messages { }). Input: a byte that
 * picks the directives the message knows, a byte that picks the room for
 * the expanded text, two bytes for %n and %m, then the administrator's
 * template (cut at a NUL: libconfuse strings hold none). A template the
 * check accepts must expand into a NUL-terminated, valid UTF-8 text that
 * fits its room, whatever it holds: it never reaches a printf format. */
#include <string.h>

#include "fuzz.h"
#include "../../src/message.h"
#include "../../src/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const known[] = {"", "p", "n", "m", "pnm"};
	static char out[TGOTP_MESSAGE_OUT_MAX];
	struct tgotp_message_vars v = {"+44 •••• ••58", 0, 0};
	size_t room, len;
	char *tmpl;
	const char *why;

	if (size < 4)
		return 0;
	room = 1 + (size_t)data[1] * (sizeof(out) - 1) / 255;
	v.n = data[2];
	v.m = (long)data[3] * 1000;
	tmpl = strndup((const char *)data + 4, size - 4);
	if (!tmpl)
		return 0;
	why = tgotp_message_check(tmpl, known[data[0] % 5]);
	if (why) {
		FUZZ_CHECK(why[0] != '\0');
	} else {
		len = strlen(tmpl);
		FUZZ_CHECK(len >= 1 && len <= TGOTP_MESSAGE_MAX);
		memset(out, 'X', sizeof(out));
		FUZZ_CHECK(tgotp_message_expand(tmpl, &v, out, room) == out);
		len = strlen(out);
		FUZZ_CHECK(len < room);
		FUZZ_CHECK(len == 0 || tgotp_text_printable(out, len, TGOTP_TEXT_UTF8));
	}
	free(tmpl);
	return 0;
}
