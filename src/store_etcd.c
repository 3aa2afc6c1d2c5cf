/* SPDX-License-Identifier: BSD-3-Clause */
/* The fleet's records in etcd v3, through its JSON gateway (store_etcd.h). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "gateway.h"
#include "state_io.h"
#include "store_etcd.h"
#include "text.h"

#define BODY_MAX   (4 * 1024 * 1024) /* an answer: a user list can be long */
#define CERT_MAX   (64 * 1024)
#define KEY_MAX	   (2 * 1024 * 1024) /* prefix + a name, escaped or not */
#define BUDGET_TTL (2 * 86400)
#define GRACE_TTL  86400 /* the longest grace_period the configuration allows */
#define FLOOD_MAX  86400
#define USER_AGENT "pam_tgotp/" TGOTP_VERSION
#define VALUE_MAX  STATE_FILE_MAX

struct tgotp_etcd {
	CURL *curl;
	struct curl_slist *headers;
	char **endpoints; /* without a trailing '/' */
	size_t n, cur;	  /* cur: the member to ask first */
	char *prefix;
	long long left_ms; /* of the allowance */
	bool down;	   /* no member answered: no more requests */
	char *cert, *key;  /* PEM, handed to curl as blobs; key wiped */
	size_t cert_len, key_len;
	char errbuf[CURL_ERROR_SIZE];
	char *body;
	size_t body_len;
	bool body_overflow;
	const struct tgotp_log *log;
	struct stamps stamps;
	char value[VALUE_MAX]; /* a record's text, NUL-terminated */
	char out[VALUE_MAX];   /* its next text */
	long long rev;	       /* mod_revision of value; 0: no such key */
};

/* ---- base64, as the JSON gateway wants bytes */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *)in;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	unsigned v;

	if (!out)
		return NULL;
	for (i = 0; i < len; i += 3) {
		v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
		    (i + 2 < len ? p[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

/* Decodes in into out (cap bytes, NUL-terminated): the length, or -1 when
 * it is not base64 or does not fit. */
static long b64_decode(const char *in, char *out, size_t cap)
{
	size_t o = 0, bits = 0;
	unsigned v = 0;
	const char *c;

	for (; *in && *in != '='; in++) {
		if (!(c = strchr(b64, *in)))
			return -1;
		v = v << 6 | (unsigned)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return -1;
			out[o++] = (char)(v >> bits & 0xff);
		}
	}
	out[o] = '\0';
	return (long)o;
}

/* ---- the transport */

static long long monotonic_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct tgotp_etcd *e = userp;
	size_t n = size * nmemb;

	if (n > BODY_MAX - e->body_len) {
		e->body_overflow = true;
		return 0;
	}
	memcpy(e->body + e->body_len, data, n);
	e->body_len += n;
	return n;
}

#define SET(e, opt, val) (curl_easy_setopt((e)->curl, opt, val) != CURLE_OK)

static int set_options(struct tgotp_etcd *e, const struct tgotp_etcd_opts *o)
{
	struct curl_blob cert = {e->cert, e->cert_len, CURL_BLOB_NOCOPY};
	struct curl_blob key = {e->key, e->key_len, CURL_BLOB_NOCOPY};

	/* SECURITY: as for the Gateway (gateway.c): https only, no redirects,
	 * verification always on, no proxy from the environment, no netrc,
	 * answers capped, no signals. */
	if (SET(e, CURLOPT_PROTOCOLS_STR, "https") ||
	    SET(e, CURLOPT_REDIR_PROTOCOLS_STR, "https") || SET(e, CURLOPT_FOLLOWLOCATION, 0L) ||
	    SET(e, CURLOPT_NOSIGNAL, 1L) || SET(e, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    SET(e, CURLOPT_SSL_VERIFYHOST, 2L) ||
	    SET(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) ||
	    SET(e, CURLOPT_PROXY, "") || SET(e, CURLOPT_NOPROXY, "") ||
	    SET(e, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED) ||
	    SET(e, CURLOPT_MAXFILESIZE, (long)BODY_MAX) ||
	    SET(e, CURLOPT_WRITEFUNCTION, on_write) || SET(e, CURLOPT_WRITEDATA, e) ||
	    SET(e, CURLOPT_ERRORBUFFER, e->errbuf) || SET(e, CURLOPT_USERAGENT, USER_AGENT) ||
	    SET(e, CURLOPT_HTTPHEADER, e->headers) || SET(e, CURLOPT_POST, 1L))
		return -1;
#if LIBCURL_VERSION_NUM >= 0x075700
	if (SET(e, CURLOPT_QUICK_EXIT, 1L)) /* see gateway.c */
		return -1;
#endif
	if (o->ca_file && *o->ca_file &&
	    (SET(e, CURLOPT_CAINFO, o->ca_file) || SET(e, CURLOPT_CAPATH, NULL)))
		return -1;
	if (e->cert && (SET(e, CURLOPT_SSLCERT_BLOB, &cert) || SET(e, CURLOPT_SSLKEY_BLOB, &key)))
		return -1;
	return 0;
}

/* The client certificate and its key, read the way other files are: root's,
 * the key root's alone (fileio.h). */
static int read_client_cert(struct tgotp_etcd *e, const struct tgotp_etcd_opts *o)
{
	if (!o->cert_file || !*o->cert_file)
		return 0;
	if (tgotp_read_file(o->cert_file, TGOTP_FILE_CONFIG, CERT_MAX, &e->cert, &e->cert_len,
			    e->log) < 0 ||
	    tgotp_read_file(o->key_file, TGOTP_FILE_SECRET, CERT_MAX, &e->key, &e->key_len,
			    e->log) < 0) {
		tgotp_log(e->log, LOG_ERR, "store: the client certificate or its key is unusable");
		return -1;
	}
	return 0;
}

struct tgotp_etcd *tgotp_etcd_open(const struct tgotp_etcd_opts *o, const struct tgotp_log *log)
{
	struct tgotp_etcd *e = calloc(1, sizeof(*e));
	size_t i, len;

	if (!e)
		return NULL;
	e->log = log;
	e->left_ms = o->timeout_ms;
	if (tgotp_caller_controls_key_log(log) || read_client_cert(e, o) < 0)
		goto fail;
	e->endpoints = calloc(o->nendpoints + 1, sizeof(*e->endpoints));
	e->prefix = strdup(o->prefix);
	e->body = malloc(BODY_MAX + 1);
	e->curl = curl_easy_init();
	e->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (!e->endpoints || !e->prefix || !e->body || !e->curl || !e->headers)
		goto oom;
	for (i = 0; i < o->nendpoints; i++, e->n++) {
		len = strlen(o->endpoints[i]);
		while (len > 0 && o->endpoints[i][len - 1] == '/')
			len--;
		if (!(e->endpoints[i] = strndup(o->endpoints[i], len)))
			goto oom;
	}
	if (set_options(e, o) < 0)
		goto oom;
	return e;
oom:
	tgotp_log(log, LOG_ERR, "store: cannot set up the HTTP client");
fail:
	tgotp_etcd_close(e);
	return NULL;
}

void tgotp_etcd_close(struct tgotp_etcd *e)
{
	size_t i;

	if (!e)
		return;
	if (e->curl)
		curl_easy_cleanup(e->curl);
	curl_slist_free_all(e->headers);
	for (i = 0; e->endpoints && i < e->n; i++)
		free(e->endpoints[i]);
	free(e->endpoints);
	free(e->prefix);
	free(e->body);
	free(e->cert);
	if (e->key)
		tgotp_freezero(e->key, e->key_len + 1);
	free(e);
}

/* The "message" of an error answer, printable, or a note of its size. */
static void answer_error(struct tgotp_etcd *e, long http, char *out, size_t cap)
{
	cJSON *j = cJSON_ParseWithLength(e->body, e->body_len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

	if (cJSON_IsString(m))
		snprintf(out, cap, "HTTP %ld: %.200s", http, m->valuestring);
	else
		snprintf(out, cap, "HTTP %ld, %zu bytes that are not etcd's JSON", http,
			 e->body_len);
	cJSON_Delete(j);
}

/* POSTs json (taken over) to path on the members in turn: the answer's
 * object into *out (0), or -1 (logged) when no member gave one within the
 * allowance. */
static int call(struct tgotp_etcd *e, const char *path, cJSON *json, cJSON **out)
{
	char *payload = json ? cJSON_PrintUnformatted(json) : NULL, *url = NULL, why[300];
	long long slice, t0;
	long http = 0;
	size_t tried;
	CURLcode rc;
	int ret = -1;

	*out = NULL;
	cJSON_Delete(json);
	if (!payload) {
		tgotp_log(e->log, LOG_ERR, "store: %s: cannot build the request", path);
		return -1;
	}
	for (tried = 0; !e->down && tried < e->n; tried++, e->cur = (e->cur + 1) % e->n) {
		/* SECURITY: a member that accepts connections and then says
		 * nothing (stopped, partitioned) may take its share only. */
		slice = e->left_ms / (long long)(e->n - tried);
		if (slice <= 0)
			break;
		free(url);
		if (asprintf(&url, "%s%s", e->endpoints[e->cur], path) < 0) {
			url = NULL;
			break;
		}
		e->body_len = 0;
		e->body_overflow = false;
		e->errbuf[0] = '\0';
		if (SET(e, CURLOPT_URL, url) || SET(e, CURLOPT_POSTFIELDS, payload) ||
		    SET(e, CURLOPT_TIMEOUT_MS, (long)slice) ||
		    SET(e, CURLOPT_CONNECTTIMEOUT_MS, (long)slice))
			break;
		t0 = monotonic_ms();
		rc = curl_easy_perform(e->curl);
		e->left_ms -= monotonic_ms() - t0;
		http = 0;
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &http);
		e->body[e->body_len] = '\0';
		if (rc == CURLE_OK && http == 200 &&
		    (*out = cJSON_ParseWithLength(e->body, e->body_len)) && cJSON_IsObject(*out)) {
			ret = 0;
			break;
		}
		cJSON_Delete(*out);
		*out = NULL;
		if (rc != CURLE_OK)
			snprintf(why, sizeof(why), "%s",
				 e->errbuf[0] ? e->errbuf : curl_easy_strerror(rc));
		else
			answer_error(e, http, why, sizeof(why));
		tgotp_log(e->log, LOG_ERR, "store: %s%s: %s", e->endpoints[e->cur], path, why);
	}
	if (ret < 0 && !e->down) {
		e->down = true;
		tgotp_log(e->log, LOG_ERR, "store: no etcd member answered (%zu tried)", tried);
	}
	curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, NULL);
	free(payload);
	free(url);
	return ret;
}

/* ---- keys, values, revisions */

/* prefix + part + name, in base64; NULL when out of memory. */
static char *key_of(const struct tgotp_etcd *e, const char *part, const char *name)
{
	char *raw = NULL, *k;

	if (asprintf(&raw, "%s%s%s", e->prefix, part, name ? name : "") < 0 ||
	    strlen(raw) > KEY_MAX) {
		free(raw);
		return NULL;
	}
	k = b64_encode(raw, strlen(raw));
	free(raw);
	return k;
}

/* An int64 of the JSON gateway (a string; absent is 0). */
static long long int64_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	long long n = 0;

	if (cJSON_IsString(v) &&
	    tgotp_parse_decimal(v->valuestring, strlen(v->valuestring), LLONG_MAX, &n) == 0)
		return n;
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
}

/* The first kv of a range answer into e->value and e->rev (none: "" and 0).
 * 0, or 1 when the value is not readable (too large, not base64). */
static int take_kv(struct tgotp_etcd *e, const cJSON *range)
{
	const cJSON *kv = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(range, "kvs"), 0);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(kv, "value");
	long len;

	e->value[0] = '\0';
	e->rev = kv ? int64_of(kv, "mod_revision") : 0;
	if (!kv || !v)
		return 0;
	/* a NUL inside is as unreadable as bad base64 */
	if (!cJSON_IsString(v) ||
	    (len = b64_decode(v->valuestring, e->value, sizeof(e->value))) < 0 ||
	    strlen(e->value) != (size_t)len) {
		e->value[0] = '\0';
		return 1;
	}
	return 0;
}

/* Reads key (base64) into e->value, e->rev: 0, 1 when the value is not
 * readable, -1 unavailable (logged). */
static int get(struct tgotp_etcd *e, const char *key)
{
	cJSON *req = cJSON_CreateObject(), *ans;
	int r;

	if (!cJSON_AddStringToObject(req, "key", key) || call(e, "/v3/kv/range", req, &ans) < 0)
		return -1;
	r = take_kv(e, ans);
	cJSON_Delete(ans);
	return r;
}

/* A lease of ttl seconds: its ID, or 0 (logged) when none was granted. */
static long long lease(struct tgotp_etcd *e, long ttl)
{
	cJSON *req = cJSON_CreateObject(), *ans;
	long long id;

	if (!cJSON_AddNumberToObject(req, "TTL", (double)ttl) ||
	    call(e, "/v3/lease/grant", req, &ans) < 0)
		return 0;
	id = int64_of(ans, "ID");
	cJSON_Delete(ans);
	if (!id)
		tgotp_log(e->log, LOG_ERR, "store: etcd granted no lease");
	return id;
}

static cJSON *add_obj(cJSON *arr, const char *name)
{
	cJSON *item = cJSON_CreateObject(), *o = cJSON_AddObjectToObject(item, name);

	cJSON_AddItemToArray(arr, item);
	return o;
}

static bool add_int64(cJSON *o, const char *name, long long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", v);
	return cJSON_AddStringToObject(o, name, s) != NULL;
}

/* Puts e->out as key's value with lease id if the key's mod_revision is
 * still e->rev: 1 done, 0 changed meanwhile (e->value and e->rev are then
 * the new ones), -1 unavailable. */
static int put_if_unchanged(struct tgotp_etcd *e, const char *key, long long id)
{
	cJSON *req = cJSON_CreateObject(), *ans, *cmp, *put, *rng, *f;
	char *v = b64_encode(e->out, strlen(e->out));
	int r = -1;

	cmp = cJSON_AddArrayToObject(req, "compare");
	put = cJSON_AddArrayToObject(req, "success");
	f = cJSON_AddArrayToObject(req, "failure");
	if (!v || !cmp || !put || !f)
		goto bad;
	if (!cJSON_AddItemToArray(cmp, cJSON_CreateObject()))
		goto bad;
	cmp = cJSON_GetArrayItem(cmp, 0);
	put = add_obj(put, "request_put");
	rng = add_obj(f, "request_range");
	if (!cJSON_AddStringToObject(cmp, "key", key) ||
	    !cJSON_AddStringToObject(cmp, "target", "MOD") ||
	    !cJSON_AddStringToObject(cmp, "result", "EQUAL") ||
	    !add_int64(cmp, "mod_revision", e->rev) || !put ||
	    !cJSON_AddStringToObject(put, "key", key) ||
	    !cJSON_AddStringToObject(put, "value", v) || (id && !add_int64(put, "lease", id)) ||
	    !rng || !cJSON_AddStringToObject(rng, "key", key))
		goto bad;
	free(v);
	if (call(e, "/v3/kv/txn", req, &ans) < 0)
		return -1;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "succeeded"))) {
		r = 1;
	} else {
		r = 0;
		f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ans, "responses"), 0);
		if (take_kv(e, cJSON_GetObjectItemCaseSensitive(f, "response_range")) != 0)
			e->rev = -1; /* unreadable: read it again */
	}
	cJSON_Delete(ans);
	return r;
bad:
	free(v);
	cJSON_Delete(req);
	tgotp_log(e->log, LOG_ERR, "store: cannot build a transaction");
	return -1;
}

/* What a change makes of a record: e->value (corrupt: its value could not
 * be read) into e->out, with a verdict; write false leaves it as it is. */
struct change {
	enum tgotp_verdict (*fn)(struct tgotp_etcd *e, bool corrupt, struct change *c);
	long ttl; /* of the record's lease; 0: none */
	bool write;
	/* the operation's own */
	const char *user, *gkey;
	long limit, window, budget, *retry_after;
	time_t now, until;
};

/* Reads key, lets c decide, writes what it made if the key did not change
 * meanwhile; again on the new value when it did, at most CAS_TRIES times. */
static enum tgotp_verdict change(struct tgotp_etcd *e, const char *key, struct change *c)
{
	enum tgotp_verdict v;
	long long id = 0;
	unsigned pause_ms;
	struct timespec ts;
	int tries, r = 0;

	if (!key)
		return TGOTP_STATE_ERROR;
	if ((r = get(e, key)) < 0)
		return TGOTP_STATE_UNAVAILABLE;
	for (tries = 0; tries < TGOTP_ETCD_CAS_TRIES; tries++) {
		if (e->rev < 0 && (r = get(e, key)) < 0)
			return TGOTP_STATE_UNAVAILABLE;
		c->write = false;
		v = c->fn(e, r > 0, c);
		if (!c->write)
			return v;
		if (c->ttl > 0 && !id && !(id = lease(e, c->ttl)))
			return TGOTP_STATE_UNAVAILABLE;
		r = put_if_unchanged(e, key, id);
		if (r < 0)
			return TGOTP_STATE_UNAVAILABLE;
		if (r == 1)
			return v;
		/* Another host won: 1..(4 x tries) ms, varied by process, so
		 * that the losers do not meet again in step. */
		pause_ms = 1 + (unsigned)(getpid() + tries) % (unsigned)(4 * (tries + 1));
		ts.tv_sec = 0;
		ts.tv_nsec = (long)pause_ms * 1000000L;
		nanosleep(&ts, NULL);
		e->left_ms -= pause_ms;
		r = 0;
	}
	tgotp_log(e->log, LOG_ERR, "store: a record changed under %d tries in a row: given up",
		  TGOTP_ETCD_CAS_TRIES);
	return TGOTP_STATE_BUSY;
}

/* ---- codes per user per window */

static enum tgotp_verdict rate_take(struct tgotp_etcd *e, bool corrupt, struct change *c)
{
	struct stamps *s = &e->stamps;
	time_t oldest;
	int i;

	*c->retry_after = 0;
	if (corrupt || tgotp_stamps_parse(e->value, s, c->now, c->window) != 0) {
		/* SECURITY: a corrupt count is a full one, not an empty one. */
		tgotp_log(e->log, LOG_ERR, "store: the rate record is corrupt: treated as full");
		for (s->n = 0; s->n < c->limit && s->n < MAX_STAMPS; s->n++)
			s->t[s->n] = c->now;
		tgotp_stamps_format(s, e->out, sizeof(e->out));
		c->write = true;
	}
	if (s->n >= c->limit) {
		for (oldest = c->now, i = 0; i < s->n; i++)
			if (s->t[i] < oldest)
				oldest = s->t[i];
		*c->retry_after = (long)(oldest + c->window - c->now);
		return TGOTP_STATE_LIMITED;
	}
	s->t[s->n++] = c->now;
	tgotp_stamps_format(s, e->out, sizeof(e->out));
	c->write = true;
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_rate_take(struct tgotp_etcd *e, const char *user, long limit,
					long window, time_t now, long *retry_after)
{
	struct change c = {.fn = rate_take,
			   .ttl = window,
			   .limit = limit,
			   .window = window,
			   .now = now,
			   .retry_after = retry_after};
	char *key = key_of(e, "rate/", user);
	enum tgotp_verdict v = change(e, key, &c);

	free(key);
	return v;
}

static enum tgotp_verdict rate_give_back(struct tgotp_etcd *e, bool corrupt, struct change *c)
{
	struct stamps *s = &e->stamps;
	int i;

	if (corrupt || tgotp_stamps_parse(e->value, s, c->now, c->window) != 0)
		return TGOTP_STATE_ERROR;
	for (i = s->n - 1; i >= 0 && s->t[i] != c->now; i--)
		;
	if (i >= 0) {
		s->t[i] = s->t[--s->n];
		tgotp_stamps_format(s, e->out, sizeof(e->out));
		c->write = true;
	}
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_rate_give_back(struct tgotp_etcd *e, const char *user, time_t now)
{
	/* The lease of rate_window is not known here: a day, as a bound. */
	struct change c = {.fn = rate_give_back, .ttl = 86400, .window = 86400 * 365, .now = now};
	char *key = key_of(e, "rate/", user);
	enum tgotp_verdict v = change(e, key, &c);

	free(key);
	return v;
}

/* ---- codes per UTC day for the fleet */

static char *budget_key(struct tgotp_etcd *e, time_t now)
{
	char day[16];
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	return key_of(e, "budget/", day);
}

/* The count of a budget record: 0, or 1 when corrupt. */
static int budget_count(const char *text, long *count)
{
	size_t len = strlen(text);
	long long n;

	*count = 0;
	if (len == 0)
		return 0;
	if (text[len - 1] != '\n' || tgotp_parse_decimal(text, len - 1, LONG_MAX, &n) < 0)
		return 1;
	*count = (long)n;
	return 0;
}

static enum tgotp_verdict budget_take(struct tgotp_etcd *e, bool corrupt, struct change *c)
{
	long count;

	if (corrupt || budget_count(e->value, &count) != 0) {
		tgotp_log(e->log, LOG_ERR, "store: the budget record is corrupt: treated as spent");
		snprintf(e->out, sizeof(e->out), "%ld\n", c->budget);
		c->write = true;
		return TGOTP_STATE_LIMITED;
	}
	if (count >= c->budget)
		return TGOTP_STATE_LIMITED;
	snprintf(e->out, sizeof(e->out), "%ld\n", count + 1);
	c->write = true;
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_budget_take(struct tgotp_etcd *e, long budget, time_t now)
{
	struct change c = {.fn = budget_take, .ttl = BUDGET_TTL, .budget = budget};
	char *key;
	enum tgotp_verdict v;

	if (budget <= 0)
		return TGOTP_STATE_OK;
	key = budget_key(e, now);
	v = change(e, key, &c);
	free(key);
	return v;
}

static enum tgotp_verdict budget_give_back(struct tgotp_etcd *e, bool corrupt, struct change *c)
{
	long count;

	if (corrupt || budget_count(e->value, &count) != 0)
		return TGOTP_STATE_ERROR;
	if (count > 0) {
		snprintf(e->out, sizeof(e->out), "%ld\n", count - 1);
		c->write = true;
	}
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_budget_give_back(struct tgotp_etcd *e, time_t now)
{
	struct change c = {.fn = budget_give_back, .ttl = BUDGET_TTL};
	char *key = budget_key(e, now);
	enum tgotp_verdict v = change(e, key, &c);

	free(key);
	return v;
}

/* ---- FLOOD_WAIT pauses */

/* The end of the pause in a flood record: 0, or 1 when corrupt. */
static int flood_until(const char *text, time_t *until)
{
	size_t len = strlen(text);

	*until = 0;
	if (len == 0)
		return 0;
	return len < 2 || text[len - 1] != '\n' ||
	       tgotp_state_parse_time(text, text + len - 1, until) < 0;
}

enum tgotp_verdict tgotp_etcd_flood_check(struct tgotp_etcd *e, time_t now, time_t *until)
{
	char *key = key_of(e, "flood", NULL);
	int r = key ? get(e, key) : -2;

	free(key);
	*until = 0;
	if (r < 0)
		return r == -1 ? TGOTP_STATE_UNAVAILABLE : TGOTP_STATE_ERROR;
	if (r > 0 || flood_until(e->value, until) != 0) {
		tgotp_log(e->log, LOG_ERR, "store: the flood record is unusable: pausing 60 s");
		*until = now + 60;
	}
	if (*until > now + FLOOD_MAX)
		*until = now + FLOOD_MAX;
	return now < *until ? TGOTP_STATE_LIMITED : TGOTP_STATE_OK;
}

static enum tgotp_verdict flood_set(struct tgotp_etcd *e, bool corrupt, struct change *c)
{
	time_t old = 0;

	if (!corrupt && flood_until(e->value, &old) == 0 && old >= c->until)
		return TGOTP_STATE_OK; /* a longer pause is already there */
	snprintf(e->out, sizeof(e->out), "%lld\n", (long long)c->until);
	c->write = true;
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_flood_set(struct tgotp_etcd *e, time_t now, time_t until)
{
	struct change c = {.fn = flood_set, .until = until};
	char *key = key_of(e, "flood", NULL);
	enum tgotp_verdict v;

	if (until > now + FLOOD_MAX)
		c.until = until = now + FLOOD_MAX;
	c.ttl = until > now ? (long)(until - now) + 1 : 1;
	v = change(e, key, &c);
	free(key);
	return v;
}

/* ---- grace periods shared by the fleet */

enum tgotp_verdict tgotp_etcd_grace_check(struct tgotp_etcd *e, const char *user,
					  const char *service, const char *rhost, time_t now,
					  long period, bool *granted)
{
	char gkey[TGOTP_GRACE_KEY_MAX], *key;
	int r = tgotp_grace_key(user, service, rhost, gkey);

	*granted = false;
	/* SECURITY: as for the files: no remote host, no grace. */
	if (r < 0)
		return r == -ENAMETOOLONG ? TGOTP_STATE_ERROR : TGOTP_STATE_OK;
	key = key_of(e, "grace/", user);
	r = key ? get(e, key) : -2;
	free(key);
	if (r < 0)
		return r == -1 ? TGOTP_STATE_UNAVAILABLE : TGOTP_STATE_ERROR;
	if (r == 0 && tgotp_grace_find(e->value, gkey, now, period) == 1)
		*granted = true;
	return TGOTP_STATE_OK; /* a corrupt record grants nothing; the next record replaces it */
}

static enum tgotp_verdict grace_record(struct tgotp_etcd *e, bool corrupt, struct change *c)
{
	if (corrupt)
		e->value[0] = '\0';
	if (tgotp_grace_add(e->value, c->gkey, c->now, e->out, sizeof(e->out)) != 0)
		return TGOTP_STATE_ERROR;
	c->write = true;
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_grace_record(struct tgotp_etcd *e, const char *user,
					   const char *service, const char *rhost, time_t now)
{
	char gkey[TGOTP_GRACE_KEY_MAX], *key;
	struct change c = {.fn = grace_record, .ttl = GRACE_TTL, .gkey = gkey, .now = now};
	int r = tgotp_grace_key(user, service, rhost, gkey);
	enum tgotp_verdict v;

	if (r < 0)
		return r == -ENAMETOOLONG ? TGOTP_STATE_ERROR : TGOTP_STATE_OK;
	key = key_of(e, "grace/", user);
	v = change(e, key, &c);
	free(key);
	return v;
}

/* ---- for the administrator */

/* Reads prefix + part + name into e->value: a verdict. */
static enum tgotp_verdict read_record(struct tgotp_etcd *e, const char *part, const char *name)
{
	char *key = key_of(e, part, name);
	int r = key ? get(e, key) : -2;

	free(key);
	if (r == -1)
		return TGOTP_STATE_UNAVAILABLE;
	if (r != 0) {
		tgotp_log(e->log, LOG_ERR, "store: the %s record is unreadable", part);
		return TGOTP_STATE_ERROR;
	}
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_rate_list(struct tgotp_etcd *e, const char *user, long window,
					time_t now, time_t *t, int max, int *n)
{
	enum tgotp_verdict v = read_record(e, "rate/", user);
	struct stamps *s = &e->stamps;

	*n = 0;
	if (v != TGOTP_STATE_OK)
		return v;
	if (tgotp_stamps_parse(e->value, s, now, window) != 0) {
		tgotp_log(e->log, LOG_ERR, "store: the rate record is corrupt");
		return TGOTP_STATE_ERROR;
	}
	tgotp_stamps_list(s, t, max, n);
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_budget_used(struct tgotp_etcd *e, time_t now, long *count)
{
	char *key = budget_key(e, now);
	int r = key ? get(e, key) : -2;

	free(key);
	*count = 0;
	if (r == -1)
		return TGOTP_STATE_UNAVAILABLE;
	if (r != 0 || budget_count(e->value, count) != 0) {
		tgotp_log(e->log, LOG_ERR, "store: the budget record is corrupt or unusable");
		return TGOTP_STATE_ERROR;
	}
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_grace_list(struct tgotp_etcd *e, const char *user,
					 struct tgotp_grace_entry *g, int max, int *n)
{
	enum tgotp_verdict v = read_record(e, "grace/", user);

	*n = 0;
	if (v == TGOTP_STATE_OK && tgotp_grace_entries(e->value, user, g, max, n) < 0) {
		tgotp_log(e->log, LOG_ERR, "store: the grace record is corrupt");
		v = TGOTP_STATE_ERROR;
	}
	return v;
}

static enum tgotp_verdict delete_key(struct tgotp_etcd *e, const char *part, const char *name)
{
	char *key = key_of(e, part, name);
	cJSON *req = cJSON_CreateObject(), *ans;

	if (!key || !cJSON_AddStringToObject(req, "key", key)) {
		free(key);
		cJSON_Delete(req);
		return TGOTP_STATE_ERROR;
	}
	free(key);
	if (call(e, "/v3/kv/deleterange", req, &ans) < 0)
		return TGOTP_STATE_UNAVAILABLE;
	cJSON_Delete(ans);
	return TGOTP_STATE_OK;
}

enum tgotp_verdict tgotp_etcd_rate_clear(struct tgotp_etcd *e, const char *user)
{
	return delete_key(e, "rate/", user);
}

enum tgotp_verdict tgotp_etcd_grace_clear(struct tgotp_etcd *e, const char *user)
{
	return delete_key(e, "grace/", user);
}

/* Adds the names under prefix + part (keys only) to the array *v of *n. */
static enum tgotp_verdict names_under(struct tgotp_etcd *e, const char *part, char ***v, size_t *n)
{
	char *start = key_of(e, part, NULL), *raw = NULL, *end = NULL, **bigger;
	size_t plen = strlen(e->prefix) + strlen(part);
	cJSON *req = cJSON_CreateObject(), *ans = NULL;
	const cJSON *kv;
	long len;

	if (asprintf(&raw, "%s%s", e->prefix, part) >= 0 && plen > 0) {
		raw[plen - 1]++; /* the end of the range: the prefix's successor */
		end = b64_encode(raw, plen);
	}
	if (!start || !end || !cJSON_AddStringToObject(req, "key", start) ||
	    !cJSON_AddStringToObject(req, "range_end", end) ||
	    !cJSON_AddBoolToObject(req, "keys_only", true)) {
		free(start);
		free(end);
		free(raw);
		cJSON_Delete(req);
		return TGOTP_STATE_ERROR;
	}
	free(start);
	free(end);
	free(raw);
	if (call(e, "/v3/kv/range", req, &ans) < 0)
		return TGOTP_STATE_UNAVAILABLE;
	cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(ans, "kvs"))
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(kv, "key");

		if (!cJSON_IsString(k) ||
		    (len = b64_decode(k->valuestring, e->out, sizeof(e->out))) < 0 ||
		    (size_t)len <= plen || strlen(e->out) != (size_t)len)
			continue;
		if (!(bigger = realloc(*v, (*n + 2) * sizeof(**v))))
			break;
		*v = bigger;
		if (!((*v)[*n] = strdup(e->out + plen)))
			break;
		(*v)[++*n] = NULL;
	}
	cJSON_Delete(ans);
	return TGOTP_STATE_OK;
}

char **tgotp_etcd_users(struct tgotp_etcd *e, bool with_grace, enum tgotp_verdict *v)
{
	char **names = calloc(1, sizeof(*names));
	size_t n = 0;

	*v = names ? names_under(e, "rate/", &names, &n) : TGOTP_STATE_ERROR;
	if (*v == TGOTP_STATE_OK && with_grace)
		*v = names_under(e, "grace/", &names, &n);
	if (*v != TGOTP_STATE_OK) {
		tgotp_state_users_free(names);
		return NULL;
	}
	return names;
}
