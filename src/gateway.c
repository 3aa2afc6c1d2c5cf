/* SPDX-License-Identifier: BSD-3-Clause */
/* The Gateway transport: one curl handle per login, JSON in, JSON out. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "gateway.h"

#define USER_AGENT "pam_tgotp/" TGOTP_VERSION

struct tgotp_gateway {
	CURL *curl;
	struct curl_slist *headers; /* holds the token: wiped on free */
	char *auth_header;
	char *base_url;
	const struct tgotp_log *log;
	char errbuf[CURL_ERROR_SIZE];
	char *body; /* the last answer, at most TGOTP_BODY_MAX bytes */
	size_t body_len;
	bool body_overflow;
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct tgotp_gateway *gw = userp;
	size_t n = size * nmemb;

	/* SECURITY: a hostile or broken server cannot make us hold more than
	 * TGOTP_BODY_MAX bytes: the transfer is aborted instead. */
	if (n > TGOTP_BODY_MAX - gw->body_len) {
		gw->body_overflow = true;
		return 0;
	}
	memcpy(gw->body + gw->body_len, data, n);
	gw->body_len += n;
	return n;
}

/* Logs a failed curl_easy_setopt by the option's name; returns rc. */
static CURLcode setopt_done(const struct tgotp_gateway *gw, const char *option, CURLcode rc)
{
	if (rc != CURLE_OK)
		tgotp_log(gw->log, LOG_ERR, "gateway: curl_easy_setopt(%s) failed: %s", option,
			  curl_easy_strerror(rc));
	return rc;
}

/* Sets one option of gw's handle; true when that failed (and was logged),
 * so that a chain of them joined with || stops at the first failure. */
#define SETOPT_FAILED(gw, opt, val)                                                                \
	(setopt_done((gw), #opt, curl_easy_setopt((gw)->curl, opt, val)) != CURLE_OK)

static int set_common_options(struct tgotp_gateway *gw, const struct tgotp_gw_opts *o)
{
	bool own_ca = o->ca_file && *o->ca_file;

	/* SECURITY: https only and no redirects: a Location: http://...
	 * answer cannot take the token (or the code) anywhere. */
	if (SETOPT_FAILED(gw, CURLOPT_PROTOCOLS_STR, "https") ||
	    SETOPT_FAILED(gw, CURLOPT_REDIR_PROTOCOLS_STR, "https") ||
	    SETOPT_FAILED(gw, CURLOPT_FOLLOWLOCATION, 0L))
		return -1;
	/* No SIGALRM in the host: timeouts without signals. */
	if (SETOPT_FAILED(gw, CURLOPT_NOSIGNAL, 1L))
		return -1;
#if LIBCURL_VERSION_NUM >= 0x075700
	/* A resolver that never answers would otherwise hold the login until
	 * getaddrinfo gives up (resolv.conf's timeout x attempts x servers,
	 * minutes): libcurl joins its resolver thread. With this it leaves
	 * the thread to finish on its own; the module is linked -z nodelete
	 * so that libcurl stays mapped under that thread after pam_end. */
	if (SETOPT_FAILED(gw, CURLOPT_QUICK_EXIT, 1L))
		return -1;
#endif
	if (SETOPT_FAILED(gw, CURLOPT_CONNECTTIMEOUT, o->timeout) ||
	    SETOPT_FAILED(gw, CURLOPT_TIMEOUT, o->timeout))
		return -1;
	/* SECURITY: verification is never configurable. */
	if (SETOPT_FAILED(gw, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    SETOPT_FAILED(gw, CURLOPT_SSL_VERIFYHOST, 2L) ||
	    SETOPT_FAILED(gw, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2))
		return -1;
	/* SECURITY: an empty proxy disables the *_proxy environment of sshd
	 * or sudo; only the configuration may name one. An empty no-proxy
	 * list stops "no_proxy=*" (from the caller of sudo) from routing
	 * around a configured proxy. */
	if (SETOPT_FAILED(gw, CURLOPT_PROXY, o->proxy ? o->proxy : "") ||
	    SETOPT_FAILED(gw, CURLOPT_NOPROXY, ""))
		return -1;
	if (own_ca && (SETOPT_FAILED(gw, CURLOPT_CAINFO, o->ca_file) ||
		       SETOPT_FAILED(gw, CURLOPT_CAPATH, NULL)))
		return -1;
	/* SECURITY: answers are capped (see on_write too). */
	if (SETOPT_FAILED(gw, CURLOPT_MAXFILESIZE, (long)TGOTP_BODY_MAX) ||
	    SETOPT_FAILED(gw, CURLOPT_WRITEFUNCTION, on_write) ||
	    SETOPT_FAILED(gw, CURLOPT_WRITEDATA, gw) ||
	    SETOPT_FAILED(gw, CURLOPT_ERRORBUFFER, gw->errbuf) ||
	    SETOPT_FAILED(gw, CURLOPT_USERAGENT, USER_AGENT) ||
	    SETOPT_FAILED(gw, CURLOPT_HTTPHEADER, gw->headers) ||
	    SETOPT_FAILED(gw, CURLOPT_POST, 1L))
		return -1;
	/* SECURITY: no credentials from $HOME/.netrc. */
	return SETOPT_FAILED(gw, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED) ? -1 : 0;
}

/* SECURITY: libcurl opens $SSLKEYLOGFILE (plain getenv, as root, with
 * the caller's umask) when it sets up TLS. Under sudo or su the caller
 * chooses the environment: that would create a root-owned file wherever
 * they like and write the TLS secrets (and so the token) into it. */
bool tgotp_caller_controls_key_log(const struct tgotp_log *log)
{
	const char *v = getenv("SSLKEYLOGFILE");

	if (!v || !*v)
		return false;
	tgotp_log(log, LOG_ERR,
		  "SSLKEYLOGFILE is set in the environment: refusing to "
		  "start TLS (libcurl would write the session keys there)");
	return true;
}

struct tgotp_gateway *tgotp_gateway_new(const struct tgotp_gw_opts *o, const struct tgotp_log *log)
{
	struct tgotp_gateway *gw = calloc(1, sizeof(*gw));
	struct curl_slist *h;
	size_t n;

	if (!gw)
		return NULL;
	gw->log = log;
	if (tgotp_caller_controls_key_log(log))
		goto fail;
	n = strlen(o->api_url);
	while (n > 0 && o->api_url[n - 1] == '/')
		n--;
	gw->base_url = strndup(o->api_url, n);
	gw->body = malloc(TGOTP_BODY_MAX + 1);
	n = strlen("Authorization: Bearer ") + strlen(o->token) + 1;
	gw->auth_header = malloc(n);
	gw->curl = curl_easy_init();
	if (!gw->base_url || !gw->body || !gw->auth_header || !gw->curl)
		goto fail;
	snprintf(gw->auth_header, n, "Authorization: Bearer %s", o->token);
	h = curl_slist_append(NULL, "Content-Type: application/json");
	if (h)
		gw->headers = h;
	h = h ? curl_slist_append(h, "Accept: application/json") : NULL;
	h = h ? curl_slist_append(h, "Expect:") : NULL;
	h = h ? curl_slist_append(h, gw->auth_header) : NULL;
	if (!h || set_common_options(gw, o) < 0)
		goto fail;
	return gw;
fail:
	tgotp_log(log, LOG_ERR, "gateway: cannot set up the HTTP client");
	tgotp_gateway_free(gw);
	return NULL;
}

static void wipe_headers(struct curl_slist *h)
{
	for (; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
}

void tgotp_gateway_free(struct tgotp_gateway *gw)
{
	if (!gw)
		return;
	if (gw->curl)
		curl_easy_cleanup(gw->curl);
	wipe_headers(gw->headers);
	curl_slist_free_all(gw->headers);
	tgotp_strfreezero(gw->auth_header);
	tgotp_freezero(gw->body, TGOTP_BODY_MAX + 1);
	free(gw->base_url);
	free(gw);
}

/* Frees a request object, wiping its string values first (the body of
 * checkVerificationStatus holds the code). NULL is fine. */
static void delete_wiped(cJSON *j)
{
	cJSON *v;

	cJSON_ArrayForEach(v, j)
	{
		if (cJSON_IsString(v))
			explicit_bzero(v->valuestring, strlen(v->valuestring));
	}
	cJSON_Delete(j);
}

/* A request object with up to two string parameters (k2 may be NULL);
 * NULL when out of memory. */
static cJSON *request_of(const char *k1, const char *v1, const char *k2, const char *v2)
{
	cJSON *j = cJSON_CreateObject();

	if (j &&
	    (!cJSON_AddStringToObject(j, k1, v1) || (k2 && !cJSON_AddStringToObject(j, k2, v2)))) {
		delete_wiped(j);
		j = NULL;
	}
	return j;
}

/* POSTs json (taken over and freed; NULL: it could not be built) to
 * method; returns the classified answer in st. */
static enum tgotp_gw_result call(struct tgotp_gateway *gw, const char *method, cJSON *json,
				 bool want_result_object, struct tgotp_status *st)
{
	enum tgotp_gw_result ret = TGOTP_GW_UNAVAILABLE;
	char *url = NULL, *payload = NULL;
	long http = 0, sent = 0;
	CURLcode rc;

	memset(st, 0, sizeof(*st));
	if (asprintf(&url, "%s/%s", gw->base_url, method) < 0)
		url = NULL;
	payload = url && json ? cJSON_PrintUnformatted(json) : NULL;
	if (!payload) {
		tgotp_log(gw->log, LOG_ERR, "gateway: %s: cannot build the request", method);
		goto out;
	}
	gw->body_len = 0;
	gw->body_overflow = false;
	gw->errbuf[0] = '\0';
	if (SETOPT_FAILED(gw, CURLOPT_URL, url) || SETOPT_FAILED(gw, CURLOPT_POSTFIELDS, payload) ||
	    SETOPT_FAILED(gw, CURLOPT_POSTFIELDSIZE, (long)strlen(payload)))
		goto out;
	rc = curl_easy_perform(gw->curl);
	if (curl_easy_getinfo(gw->curl, CURLINFO_REQUEST_SIZE, &sent) != CURLE_OK)
		sent = 1; /* unknown: assume it went out */
	if (rc != CURLE_OK) {
		st->request_sent = sent > 0;
		tgotp_log(gw->log, LOG_ERR, "gateway: %s: %s%s", method,
			  gw->errbuf[0] ? gw->errbuf : curl_easy_strerror(rc),
			  gw->body_overflow ? " (answer larger than 64 KiB)" : "");
		goto out;
	}
	curl_easy_getinfo(gw->curl, CURLINFO_RESPONSE_CODE, &http);
	gw->body[gw->body_len] = '\0'; /* cJSON may look one byte past the end */
	ret = tgotp_gw_parse(gw->body, gw->body_len, http, want_result_object, st);
	st->request_sent = st->answered = true;
	if (ret != TGOTP_GW_OK && !st->error[0])
		tgotp_log(
		    gw->log, LOG_ERR,
		    "gateway: %s: HTTP %ld, answer is not the API's JSON envelope (%zu bytes)",
		    method, http, gw->body_len);
	else if (ret != TGOTP_GW_OK)
		tgotp_log(gw->log, LOG_ERR, "gateway: %s: HTTP %ld, error %s", method, http,
			  st->error);
out:
	/* The body of checkVerificationStatus holds the code. */
	curl_easy_setopt(gw->curl, CURLOPT_POSTFIELDS, NULL);
	tgotp_strfreezero(payload);
	delete_wiped(json);
	explicit_bzero(gw->body, gw->body_len);
	free(url);
	return ret;
}

enum tgotp_gw_result tgotp_gw_check_send_ability(struct tgotp_gateway *gw, const char *phone,
						 struct tgotp_status *st)
{
	return call(gw, "checkSendAbility", request_of("phone_number", phone, NULL, NULL), true,
		    st);
}

static int add_optional_string(cJSON *j, const char *key, const char *v)
{
	if (!v || !*v)
		return 0;
	return cJSON_AddStringToObject(j, key, v) ? 0 : -1;
}

enum tgotp_gw_result tgotp_gw_send(struct tgotp_gateway *gw, const struct tgotp_send_req *r,
				   struct tgotp_status *st)
{
	cJSON *j = request_of("phone_number", r->phone_number, NULL, NULL);

	if (j && (add_optional_string(j, "request_id", r->request_id) < 0 ||
		  add_optional_string(j, "sender_username", r->sender_username) < 0 ||
		  add_optional_string(j, "callback_url", r->callback_url) < 0 ||
		  add_optional_string(j, "payload", r->payload) < 0 ||
		  !cJSON_AddNumberToObject(j, "code_length", (double)r->code_length) ||
		  !cJSON_AddNumberToObject(j, "ttl", (double)r->ttl))) {
		delete_wiped(j);
		j = NULL;
	}
	return call(gw, "sendVerificationMessage", j, true, st);
}

enum tgotp_gw_result tgotp_gw_check(struct tgotp_gateway *gw, const char *request_id,
				    const char *code, struct tgotp_status *st)
{
	enum tgotp_gw_result r = call(gw, "checkVerificationStatus",
				      request_of("request_id", request_id, "code", code), true, st);

	/* SECURITY: a status is only about our code when it names our
	 * request; any other answer is never success. */
	if (r == TGOTP_GW_OK && strcmp(st->request_id, request_id) != 0) {
		tgotp_log(gw->log, LOG_ERR,
			  "gateway: checkVerificationStatus: the answer is about request %s, "
			  "not %s",
			  st->request_id, request_id);
		r = TGOTP_GW_ERROR;
	}
	return r;
}

enum tgotp_gw_result tgotp_gw_revoke(struct tgotp_gateway *gw, const char *request_id)
{
	struct tgotp_status st;

	return call(gw, "revokeVerificationMessage",
		    request_of("request_id", request_id, NULL, NULL), false, &st);
}

enum tgotp_gw_result tgotp_gw_revoke_status(struct tgotp_gateway *gw, const char *request_id,
					    struct tgotp_status *st)
{
	return call(gw, "revokeVerificationMessage",
		    request_of("request_id", request_id, NULL, NULL), false, st);
}
