/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening files the way an attacker would like least (O_NOFOLLOW, fstat,
 * owner and mode checks, a size cap), reading one-line secrets, wiping. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "text.h"

#define SECRET_MAX 4096

void tgotp_freezero(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

void tgotp_strfreezero(char *s)
{
	if (s)
		tgotp_freezero(s, strlen(s));
}

const char *tgotp_file_unsafe(const struct stat *st, enum tgotp_file_kind kind)
{
	if (!S_ISREG(st->st_mode))
		return "not a regular file";
	if (st->st_uid != 0)
		return "not owned by root";
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return "writable by group or others";
	if (kind == TGOTP_FILE_SECRET && (st->st_mode & (S_IRWXG | S_IRWXO)))
		return "readable by group or others (must be 0600 or 0400)";
	if (kind == TGOTP_FILE_SECRET && (st->st_mode & S_IXUSR))
		return "executable (must be 0600 or 0400)";
	return NULL;
}

static int read_all(int fd, char *buf, size_t want)
{
	size_t got = 0;
	ssize_t n;

	while (got < want) {
		n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank under us */
		got += (size_t)n;
	}
	return 0;
}

int tgotp_read_file(const char *path, enum tgotp_file_kind kind, size_t max, char **buf,
		    size_t *len, const struct tgotp_log *log)
{
	struct stat st;
	const char *why;
	char *data = NULL;
	size_t size = 0;
	int fd, ret;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			tgotp_log(log, LOG_DEBUG, "%s: does not exist", path);
		else
			tgotp_log(log, LOG_ERR, "%s: cannot open: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		tgotp_log(log, LOG_ERR, "%s: cannot stat: %s", path, strerror(-ret));
		goto out;
	}
	why = tgotp_file_unsafe(&st, kind);
	if (why) {
		tgotp_log(log, LOG_ERR, "%s: refusing to use it: %s", path, why);
		ret = -EPERM;
		goto out;
	}
	if (kind == TGOTP_FILE_PERSONAL && (st.st_mode & S_IROTH))
		tgotp_log(log, LOG_WARNING,
			  "%s: readable by every local user (mode %04o): it holds phone numbers, "
			  "personal data; chmod 0600 or 0640",
			  path, (unsigned)(st.st_mode & 07777));
	if ((size_t)st.st_size > max) {
		tgotp_log(log, LOG_ERR, "%s: larger than %zu bytes", path, max);
		ret = -EFBIG;
		goto out;
	}
	size = (size_t)st.st_size;
	data = malloc(size + 1);
	if (!data) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_all(fd, data, size);
	if (ret < 0) {
		tgotp_log(log, LOG_ERR, "%s: cannot read: %s", path, strerror(-ret));
		goto out;
	}
	data[size] = '\0';
	*buf = data;
	*len = size;
	data = NULL;
out:
	tgotp_freezero(data, size + 1);
	close(fd);
	return ret;
}

/* Whether the n bytes of line may be used as kind.
 * SECURITY: the token goes into an HTTP header; a control character there
 * would let the file inject headers. A password may hold spaces and UTF-8,
 * never control bytes. */
static bool line_ok(const char *line, size_t n, enum tgotp_secret_kind kind)
{
	return tgotp_text_printable(
	    line, n, kind == TGOTP_SECRET_TOKEN ? TGOTP_TEXT_TOKEN : TGOTP_TEXT_LINE);
}

char *tgotp_read_secret_line(const char *path, enum tgotp_secret_kind kind,
			     const struct tgotp_log *log)
{
	char *buf = NULL, *line = NULL;
	size_t len = 0, n;

	if (tgotp_read_file(path, TGOTP_FILE_SECRET, SECRET_MAX, &buf, &len, log) == -ENOENT)
		tgotp_log(log, LOG_ERR, "%s: does not exist", path);
	if (!buf)
		goto out;
	for (n = 0; n < len && buf[n] != '\r' && buf[n] != '\n'; n++)
		if (buf[n] == '\0') {
			/* the secret would silently end there */
			tgotp_log(log, LOG_ERR, "%s: first line holds a NUL byte", path);
			goto out;
		}
	while (kind == TGOTP_SECRET_TOKEN && n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	if (n == 0) {
		tgotp_log(log, LOG_ERR, "%s: first line is empty", path);
		goto out;
	}
	if (!line_ok(buf, n, kind)) {
		tgotp_log(log, LOG_ERR, "%s: first line holds unexpected characters", path);
		goto out;
	}
	line = strndup(buf, n);
out:
	tgotp_freezero(buf, len + 1);
	return line;
}
