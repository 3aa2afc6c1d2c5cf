/* The syslog functions below replace glibc's: fortification would turn
 * their definitions into macro expansions. */
#undef _FORTIFY_SOURCE
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

static char dir[256];
static char module[1024];
static char certs[1024];
static int port_gateway, port_badca, port_wronghost, port_expired, port_stall, port_control;
static char *log_now, *log_all;
static size_t log_now_len, log_all_len;
static char last_body[8192];

static void die(const char *what)
{
	fprintf(stderr, "harness: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- syslog capture: libpam's pam_syslog lands here, not in /dev/log. */

static void append_log(char **buf, size_t *len, const char *line)
{
	size_t n = strlen(line);
	char *p = realloc(*buf, *len + n + 2);

	if (!p)
		die("realloc");
	memcpy(p + *len, line, n);
	p[*len + n] = '\n';
	p[*len + n + 1] = '\0';
	*buf = p;
	*len += n + 1;
}

static void capture(int pri, const char *fmt, va_list ap)
{
	char line[4096];

	(void)pri;
	vsnprintf(line, sizeof(line), fmt, ap);
	append_log(&log_now, &log_now_len, line);
	append_log(&log_all, &log_all_len, line);
	if (getenv("TGOTP_TEST_VERBOSE"))
		fprintf(stderr, "  syslog: %s\n", line);
}

#define VISIBLE __attribute__((visibility("default")))
VISIBLE void vsyslog(int pri, const char *fmt, va_list ap);
VISIBLE void syslog(int pri, const char *fmt, ...);
VISIBLE void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);
VISIBLE void __syslog_chk(int pri, int flag, const char *fmt, ...);

void vsyslog(int pri, const char *fmt, va_list ap)
{
	capture(pri, fmt, ap);
}

void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	capture(pri, fmt, ap);
}

void syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	capture(pri, fmt, ap);
	va_end(ap);
}

void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	capture(pri, fmt, ap);
	va_end(ap);
}

const char *h_log(void)
{
	return log_now ? log_now : "";
}

const char *h_log_all(void)
{
	return log_all ? log_all : "";
}

bool h_log_has(const char *needle)
{
	return strstr(h_log(), needle) != NULL;
}

bool h_messages_has(const struct h_login *l, const char *needle)
{
	return strstr(l->messages, needle) != NULL;
}

/* ---- files */

/* Written beside, then renamed into place (over a symlink too): logins in
 * parallel processes read pam.d/tgotp-test while another h_run writes it,
 * and must never find it missing or half written. */
static void write_file(const char *name, const char *text, unsigned mode)
{
	char path[512], tmp[540];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(tmp);
	if (fchmod(fd, mode) < 0)
		die("fchmod");
	close(fd);
	if (rename(tmp, path) < 0)
		die(path);
}

const char *h_dir(void)
{
	return dir;
}

void h_state_reset(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/state'", dir);
	if (system(cmd) != 0)
		die("rm state");
}

static int port_by_name(const char *name)
{
	if (strcmp(name, "badca") == 0)
		return port_badca;
	if (strcmp(name, "wronghost") == 0)
		return port_wronghost;
	if (strcmp(name, "expired") == 0)
		return port_expired;
	if (strcmp(name, "stall") == 0)
		return port_stall;
	if (strcmp(name, "closed") == 0)
		return 1; /* tcpmux: nothing listens there on a test machine */
	return port_gateway;
}

void h_config_port(const char *port_name, const char *extra)
{
	char text[8192];

	snprintf(text, sizeof(text),
		 "api_url = \"https://127.0.0.1:%d\"\n"
		 "token_file = \"%s/token\"\n"
		 "ca_file = \"%s/ca.pem\"\n"
		 "users_file = \"%s/users\"\n"
		 "state_dir = \"%s/state\"\n"
		 "timeout = 3\n"
		 "user alice { phone = \"+44 20 7946 0958\" }\n"
		 "user carol { phone = \"+999 555 0100 12\" }\n"
		 "%s\n",
		 port_by_name(port_name), dir, certs, dir, dir, extra ? extra : "");
	write_file("pam_tgotp.conf", text, 0600);
}

void h_config(const char *extra)
{
	h_config_port("gateway", extra);
}

void h_config_raw(const char *text, unsigned mode)
{
	write_file("pam_tgotp.conf", text, mode);
}

void h_users_file(const char *text)
{
	write_file("users", text, 0600);
}

void h_token(const char *text, unsigned mode)
{
	write_file("token", text, mode);
}

/* ---- mock control over plain HTTP on loopback */

struct buf {
	char *p;
	size_t n, cap;
};

static size_t on_body(char *d, size_t s, size_t n, void *u)
{
	struct buf *b = u;
	size_t len = s * n;

	if (b->n + len >= b->cap)
		len = b->cap - b->n - 1;
	memcpy(b->p + b->n, d, len);
	b->n += len;
	b->p[b->n] = '\0';
	return s * n;
}

/* GET when json is NULL, else POST json. Returns the HTTP status. */
static long control(const char *path, const char *json, char *out, size_t outlen)
{
	struct buf b = {out, 0, outlen};
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char url[256];
	long status = 0;
	CURL *c = curl_easy_init();

	out[0] = '\0';
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port_control, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (json)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	if (curl_easy_perform(c) != CURLE_OK) {
		fprintf(stderr, "harness: mock control %s unreachable\n", path);
		exit(2);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return status;
}

static void control_post(const char *path, const char *json)
{
	char out[1024];
	long st = control(path, json, out, sizeof(out));

	if (st != 200) {
		fprintf(stderr, "harness: mock %s %s -> %ld %s\n", path, json, st, out);
		exit(2);
	}
}

void h_mock_reset(void)
{
	control_post("/reset", "{}");
}

void h_mock_fault(const char *json)
{
	control_post("/fault", json);
}

void h_mock_config(const char *json)
{
	control_post("/config", json);
}

void h_mock_expire(void)
{
	control_post("/expire", "{}");
}

static int json_int(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valueint : cJSON_IsTrue(v) ? 1 : 0;
}

void h_mock_stats(struct h_stats *s)
{
	static char out[65536];
	cJSON *j, *m;

	memset(s, 0, sizeof(*s));
	control("/stats", NULL, out, sizeof(out));
	j = cJSON_Parse(out);
	if (!j)
		die("stats are not JSON");
	m = cJSON_GetObjectItemCaseSensitive(j, "methods");
	s->connections = json_int(j, "connections");
	s->requests = json_int(j, "requests");
	s->stolen = json_int(j, "stolen");
	s->check_send_ability = json_int(m, "checksendability");
	s->send = json_int(m, "sendverificationmessage");
	s->check = json_int(m, "checkverificationstatus");
	s->revoke = json_int(m, "revokeverificationmessage");
	cJSON_Delete(j);
}

const char *h_mock_last(void)
{
	if (control("/last", NULL, last_body, sizeof(last_body)) != 200)
		last_body[0] = '\0';
	return last_body;
}

const char *h_mock_last_param(const char *key)
{
	static char value[1024];
	cJSON *j = cJSON_Parse(h_mock_last());
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "params");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);

	if (cJSON_IsString(v))
		snprintf(value, sizeof(value), "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(value, sizeof(value), "%g", v->valuedouble);
	else
		value[0] = '\0';
	cJSON_Delete(j);
	return value;
}

/* Whether the token is in any name or string of j, at any depth. */
static bool json_has_text(const cJSON *j, const char *token)
{
	const cJSON *e;

	if (cJSON_IsString(j))
		return strstr(j->valuestring, token) != NULL;
	cJSON_ArrayForEach(e, j)
	{
		if ((e->string && strstr(e->string, token)) || json_has_text(e, token))
			return true;
	}
	return false;
}

int h_assert_token_in_header_only(const char *token, const char *file, int line)
{
	static char out[262144];
	const cJSON *r;
	cJSON *j;
	int n = 0, bad = 0;

	control("/requests", NULL, out, sizeof(out));
	j = cJSON_Parse(out);
	if (!cJSON_IsArray(j)) {
		fprintf(stderr, "%s:%d: the mock's /requests is no JSON array (over %zu bytes?)\n",
			file, line, sizeof(out) - 1);
		cJSON_Delete(j);
		fail();
	}
	/* The record has every header but Authorization, the query and body
	 * parameters, the path: the token must be in none of them. */
	cJSON_ArrayForEach(r, j)
	{
		const cJSON *auth = cJSON_GetObjectItemCaseSensitive(r, "auth");
		const cJSON *params = cJSON_GetObjectItemCaseSensitive(r, "params");

		n++;
		if (cJSON_IsString(auth) && strcmp(auth->valuestring, "bearer") == 0 &&
		    !cJSON_GetObjectItemCaseSensitive(params, "access_token") &&
		    !json_has_text(r, token))
			continue;
		char *text = cJSON_PrintUnformatted(r);
		fprintf(stderr, "%s:%d: token not (only) in the Authorization header: %s\n", file,
			line, text ? text : "?");
		free(text);
		bad++;
	}
	cJSON_Delete(j);
	if (bad)
		fail();
	return n;
}

/* The code of the last message, or "" when none was sent. */
static void last_code(char *code, size_t len)
{
	cJSON *j = cJSON_Parse(h_mock_last());
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "code");

	snprintf(code, len, "%s", cJSON_IsString(c) ? c->valuestring : "");
	cJSON_Delete(j);
}

/* ---- set-up */

static int read_port(const cJSON *j, const char *key)
{
	int p = json_int(j, key);

	if (p <= 0) {
		fprintf(stderr, "harness: ports file has no %s port\n", key);
		exit(2);
	}
	return p;
}

void h_init(void)
{
	const char *ports = getenv("TGOTP_MOCK_PORTS"), *m = getenv("TGOTP_MODULE");
	const char *c = getenv("TGOTP_CERTS");
	char text[4096];
	cJSON *j;
	FILE *f;
	size_t n;

	if (!ports || !m || !c) {
		fprintf(stderr, "harness: run through tests/run-tests.sh (TGOTP_MOCK_PORTS, "
				"TGOTP_MODULE, TGOTP_CERTS)\n");
		exit(2);
	}
	snprintf(module, sizeof(module), "%s", m);
	snprintf(certs, sizeof(certs), "%s", c);
	f = fopen(ports, "r");
	if (!f)
		die(ports);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	j = cJSON_Parse(text);
	port_gateway = read_port(j, "gateway");
	port_badca = read_port(j, "badca");
	port_wronghost = read_port(j, "wronghost");
	port_expired = read_port(j, "expired");
	port_stall = read_port(j, "stall");
	port_control = read_port(j, "control");
	cJSON_Delete(j);
	snprintf(dir, sizeof(dir), "/tmp/tgotp-test.XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(text, sizeof(text), "%s/pam.d", dir);
	if (mkdir(text, 0755) < 0)
		die("mkdir pam.d");
	h_token("test-token\n", 0600);
	h_users_file("# no users\n");
	h_config(NULL);
	write_file("pam.d/other", "auth required pam_deny.so\n", 0644);
}

int h_group_setup(void **state)
{
	(void)state;
	h_init();
	return 0;
}

int h_group_teardown(void **state)
{
	(void)state;
	h_cleanup();
	return 0;
}

int h_setup(void **state)
{
	(void)state;
	h_mock_reset();
	h_state_reset();
	h_token("test-token\n", 0600);
	h_users_file("# no users\n");
	h_config(NULL);
	return 0;
}

void h_cleanup(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		fprintf(stderr, "harness: could not remove %s\n", dir);
	free(log_now);
	free(log_all);
	log_now = log_all = NULL;
	log_now_len = log_all_len = 0;
}

/* ---- one PAM transaction */

struct conv_state {
	struct h_login *l;
	int next;
};

static void add_message(struct h_login *l, const char *msg)
{
	size_t n = strlen(l->messages);

	snprintf(l->messages + n, sizeof(l->messages) - n, "%s\n", msg ? msg : "(null)");
}

/* The answer to the next prompt; NULL for a conversation error. */
static char *answer_for(struct conv_state *cs)
{
	const char *a = cs->next < H_MAX_ANSWERS ? cs->l->answers[cs->next] : NULL;
	char code[64], out[80];
	size_t n;

	cs->next++;
	if (!a || strcmp(a, ANSWER_CONV_ERROR) == 0)
		return NULL;
	if (strcmp(a, ANSWER_EXPIRED_CODE) == 0)
		h_mock_expire();
	else if (strcmp(a, ANSWER_CODE) && strcmp(a, ANSWER_WRONG) && strcmp(a, ANSWER_SPACED) &&
		 strcmp(a, ANSWER_NUL_INSIDE))
		return strdup(a);
	last_code(code, sizeof(code));
	n = strlen(code);
	if (n == 0)
		return strdup("000000");
	if (strcmp(a, ANSWER_NUL_INSIDE) == 0 && n > 3) {
		char *r = malloc(n + 2);

		if (r) {
			memcpy(r, code, 3);
			r[3] = '\0';
			memcpy(r + 4, code + 3, n - 3 + 1);
		}
		return r;
	}
	if (strcmp(a, ANSWER_WRONG) == 0)
		code[n - 1] = code[n - 1] == '9' ? '0' : (char)(code[n - 1] + 1);
	if (strcmp(a, ANSWER_SPACED) == 0) {
		snprintf(out, sizeof(out), "  %.3s %s \n", code, code + 3);
		return strdup(out);
	}
	return strdup(code);
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct conv_state *cs = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	int i;

	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			cs->l->prompts++;
			snprintf(cs->l->prompt_texts + strlen(cs->l->prompt_texts),
				 sizeof(cs->l->prompt_texts) - strlen(cs->l->prompt_texts), "%s\n",
				 msg[i]->msg ? msg[i]->msg : "(null)");
			r[i].resp = answer_for(cs);
			if (!r[i].resp) {
				while (i-- > 0)
					free(r[i].resp);
				free(r);
				return PAM_CONV_ERR;
			}
			break;
		default:
			add_message(cs->l, msg[i]->msg);
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

void h_service(const struct h_login *l)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s\nauth required %s debug config=%s/pam_tgotp.conf %s\n",
		 l->stack_before ? l->stack_before : "", module, dir,
		 l->module_args ? l->module_args : "");
	write_file("pam.d/tgotp-test", text, 0644);
}

static void module_result(struct h_login *l);

void h_run(struct h_login *l)
{
	h_service(l);
	h_run_as_written(l);
}

void h_run_as_written(struct h_login *l)
{
	struct conv_state cs = {l, 0};
	struct pam_conv pc = {conv, &cs};
	struct timespec t0, t1;
	pam_handle_t *pamh = NULL;
	char confdir[300];
	int rc;

	free(log_now);
	log_now = NULL;
	log_now_len = 0;
	l->messages[0] = '\0';
	l->prompt_texts[0] = '\0';
	l->prompts = 0;
	snprintf(confdir, sizeof(confdir), "%s/pam.d", dir);
	rc = pam_start_confdir("tgotp-test", l->user, &pc, confdir, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "harness: pam_start_confdir: %d\n", rc);
		exit(2);
	}
	if (l->rhost)
		pam_set_item(pamh, PAM_RHOST, l->rhost);
	if (l->ruser)
		pam_set_item(pamh, PAM_RUSER, l->ruser);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	l->rc = pam_authenticate(pamh, l->flags);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	l->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	pam_end(pamh, l->rc);
	module_result(l);
}

/* The module's result, from the "result=" field of its log line. */
static void module_result(struct h_login *l)
{
	const char *p = strstr(h_log(), " result=");

	l->result[0] = '\0';
	if (p)
		sscanf(p, " result=%31[A-Z_]", l->result);
}

void h_assert_result(const struct h_login *l, int rc, const char *name, const char *file, int line)
{
	if (l->rc == rc && strcmp(l->result, name) == 0)
		return;
	fprintf(stderr, "%s:%d: stack result %d (want %d), module result %s (want %s); log:\n%s",
		file, line, l->rc, rc, l->result, name, h_log());
	fail();
}

void h_assert_outcome(const char *outcome, const char *file, int line)
{
	char needle[128];

	snprintf(needle, sizeof(needle), "outcome=%s ", outcome);
	if (h_log_has(needle))
		return;
	fprintf(stderr, "%s:%d: no log line with %s; log:\n%s", file, line, needle, h_log());
	fail();
}

double h_time_scale(void)
{
	const char *e = getenv("TGOTP_TIME_SCALE");
	double v = e ? strtod(e, NULL) : 1.0;

	return v >= 1.0 && v <= 20.0 ? v : 1.0;
}
