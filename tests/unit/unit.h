/* Helpers shared by the unit tests: a log callback that keeps the lines,
 * and checks on text that must be safe to show or log. Header-only: each
 * unit test is one program. Include after <cmocka.h>. */
#ifndef TGOTP_UNIT_H
#define TGOTP_UNIT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../src/log.h"

#define UNUSED	       __attribute__((unused))
#define UNIT_LOG_LINES 32

static char lines[UNIT_LOG_LINES][1024];
static int nlines;
static int nerr; /* lines at LOG_WARNING or worse */

static void unit_capture(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	if (prio <= LOG_WARNING)
		nerr++;
	if (nlines < UNIT_LOG_LINES)
		snprintf(lines[nlines++], sizeof(lines[0]), "%s", msg);
}

/* The contents of the file at path (at most 64 KiB), in a static buffer:
 * what a function under test wrote. */
UNUSED static char *unit_read_file(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Debug lines included: they must be as clean as the others. */
UNUSED static const struct tgotp_log test_log = {unit_capture, NULL, true};

UNUSED static bool log_contains(const char *needle)
{
	int i;

	for (i = 0; i < nlines; i++)
		if (strstr(lines[i], needle))
			return true;
	return false;
}

/* One captured line holding all of a, b and c. */
UNUSED static bool logged3(const char *a, const char *b, const char *c)
{
	int i;

	for (i = 0; i < nlines; i++)
		if (strstr(lines[i], a) && strstr(lines[i], b) && strstr(lines[i], c))
			return true;
	return false;
}

UNUSED static void dump_log(void)
{
	int i;

	for (i = 0; i < nlines; i++)
		print_message("  log: %s\n", lines[i]);
}

UNUSED static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
UNUSED static bool valid_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned c = *s;
		size_t n, i;
		unsigned cp;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return false;
		for (i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		s += n + 1;
	}
	return true;
}

#endif
