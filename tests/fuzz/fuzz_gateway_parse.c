/* libFuzzer target: classifying Gateway answers. Input: a flag byte (bit 0:
 * want_result_object), two bytes of HTTP status (big-endian), then the body
 * exactly as received: not NUL-terminated, possibly holding NULs. */
#include <string.h>

#include "fuzz.h"
#include "../../src/gateway_parse.h"

/* A request id goes back to the server and into the log: visible ASCII, no
 * blank, at least one byte. */
static bool visible_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tgotp_status st;
	enum tgotp_gw_result r;
	bool want_obj;
	long status;
	char *body;

	if (size < 3)
		return 0;
	want_obj = data[0] & 1;
	status = (long)data[1] << 8 | data[2];
	/* A heap copy of exactly the body's size: ASan sees any read past it. */
	body = malloc(size - 3 ? size - 3 : 1);
	if (!body)
		return 0;
	memcpy(body, data + 3, size - 3);
	r = tgotp_gw_parse(body, size - 3, status, want_obj, &st);
	FUZZ_CHECK(memchr(st.error, '\0', sizeof(st.error)) != NULL && fuzz_printable(st.error));
	FUZZ_CHECK(memchr(st.request_id, '\0', sizeof(st.request_id)) != NULL);
	FUZZ_CHECK(st.flood_wait >= 0 && st.flood_wait <= 86400);
	FUZZ_CHECK(st.verification >= TGOTP_VERIFY_NONE && st.verification <= TGOTP_VERIFY_UNKNOWN);
	if (r == TGOTP_GW_OK) {
		/* ok needs a 2xx status, and no error. */
		FUZZ_CHECK(status >= 200 && status <= 299 && st.error[0] == '\0');
		FUZZ_CHECK(!want_obj || visible_token(st.request_id));
	} else {
		FUZZ_CHECK(r == TGOTP_GW_UNAVAILABLE || r == TGOTP_GW_ERROR ||
			   r == TGOTP_GW_UNDELIVERABLE || r == TGOTP_GW_REFUSED ||
			   r == TGOTP_GW_CODE_INVALID);
	}
	/* SECURITY: "nobody answered" (which failmode = safe lets in) is never
	 * an error string nor a 4xx: those are answers. */
	if (r == TGOTP_GW_UNAVAILABLE)
		FUZZ_CHECK(st.error[0] == '\0' && (status < 400 || status > 499));
	if (r == TGOTP_GW_UNDELIVERABLE)
		FUZZ_CHECK(strncmp(st.error, "PHONE_NUMBER_", 13) == 0);
	if (r == TGOTP_GW_REFUSED)
		FUZZ_CHECK(strcmp(st.error, "BALANCE_NOT_ENOUGH") == 0 ||
			   strncmp(st.error, "FLOOD_WAIT_", 11) == 0);
	if (memchr(body, '\0', size - 3))
		FUZZ_CHECK(
		    r == (status >= 400 && status <= 499 ? TGOTP_GW_ERROR : TGOTP_GW_UNAVAILABLE));
	free(body);
	return 0;
}
