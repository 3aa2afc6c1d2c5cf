/* Long-lived hosts: one process (an sshd that forks no child per login, a
 * PAM-using daemon) runs many pam_start/pam_authenticate/pam_end cycles
 * through real libpam against the mock Gateway. After a warm-up, the open
 * descriptors must be exactly those of before and the resident memory may
 * grow by less than RSS_GROWTH_MAX. Under valgrind the point is zero leaks
 * over many cycles, so fewer of them run there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <valgrind/valgrind.h>

#include "harness.h"

#define CYCLES		1000
#define CYCLES_VALGRIND 50
#define WARMUP		20
#define WARMUP_VALGRIND 5
/* The harness keeps every syslog line of the module (for the secret-hygiene
 * check of test_pam.c); it is reset this often so that what grows is the
 * module's memory, not the test's record of its log. */
#define HARNESS_RESET_EVERY 100
#define CONTROL_SAMPLES	    50

/* Why 2 MiB: allocator noise stays well below it (glibc trims the heap only
 * past 128 KiB free at its top; libcurl, OpenSSL and libpam keep small
 * caches; the module is dlopen()ed and dlclose()d every cycle), while any
 * per-login leak of 2 KiB or more crosses it over 1,000 cycles: an unfreed
 * curl handle, TLS context, parsed configuration or JSON tree is far larger.
 * Smaller leaks are valgrind's job (zero definite or indirect bytes). */
#define RSS_GROWTH_MAX (2L * 1024 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* 100 codes a day: the harness starts a new state directory every
 * HARNESS_RESET_EVERY logins. */
static const char soak_config[] = "rate_limit = 100\nrate_window = 86400\n";

/* Open descriptors, without the one opendir() itself holds. */
static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static void fd_list(void)
{
	char path[300], target[256];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	ssize_t n;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		fprintf(stderr, "  fd %s -> %s\n", e->d_name, target);
	}
	if (d)
		closedir(d);
}

/* Resident set size in bytes, from /proc/self/statm (pages). */
static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	long size = 0, resident = -1;

	if (f) {
		if (fscanf(f, "%ld %ld", &size, &resident) != 2)
			resident = -1;
		fclose(f);
	}
	return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Fresh harness state: a new directory and empty log buffers. */
static void harness_reset(void)
{
	h_cleanup();
	h_init();
	h_config(soak_config);
}

/* One successful login; records its pam_authenticate time in *seconds. */
static void login(double *seconds)
{
	struct h_login l = {.user = "alice", .rhost = "192.0.2.7", .answers = {ANSWER_CODE}};

	h_run(&l);
	assert_result(&l, PAM_SUCCESS, "PAM_SUCCESS");
	*seconds = l.seconds;
}

/* The conversation function of the harness fetches the code from the mock's
 * control port inside pam_authenticate: the time of that round trip is part
 * of every login's figure, so it is measured on its own. */
static double control_round_trip(void)
{
	double t[CONTROL_SAMPLES], t0;
	int i;

	for (i = 0; i < CONTROL_SAMPLES; i++) {
		t0 = now();
		h_mock_last();
		t[i] = now() - t0;
	}
	return median(t, CONTROL_SAMPLES);
}

static void soak(void **state)
{
	const bool vg = RUNNING_ON_VALGRIND;
	const int cycles = vg ? CYCLES_VALGRIND : CYCLES, warmup = vg ? WARMUP_VALGRIND : WARMUP;
	double *times = calloc((size_t)cycles, sizeof(double)), t0, elapsed, control;
	long rss_before, rss_after;
	int fds_before, fds_after, i;
	struct h_stats s;

	(void)state;
	assert_non_null(times);
	h_config(soak_config);
	for (i = 0; i < warmup; i++)
		login(&times[0]);
	h_mock_reset();
	harness_reset();
	fds_before = fd_count();
	rss_before = rss_bytes();
	t0 = now();
	for (i = 0; i < cycles; i++) {
		login(&times[i]);
		if ((i + 1) % HARNESS_RESET_EVERY == 0)
			harness_reset();
	}
	elapsed = now() - t0;
	harness_reset();
	fds_after = fd_count();
	rss_after = rss_bytes();
	h_mock_stats(&s);
	control = control_round_trip();

	printf("soak: %d cycles (after %d warm-up) in %.1f s%s%s\n", cycles, warmup, elapsed,
	       vg ? " under valgrind" : "", UNDER_ASAN ? " under ASan" : "");
	printf("soak: open descriptors %d before, %d after\n", fds_before, fds_after);
	printf("soak: RSS %.0f KiB before, %.0f KiB after (%+.0f KiB)\n", rss_before / 1024.0,
	       rss_after / 1024.0, (rss_after - rss_before) / 1024.0);
	printf("soak: median pam_authenticate %.2f ms (of which %.2f ms is the test's own "
	       "mock control round trip), mock saw %d sends and %d checks\n",
	       median(times, cycles) * 1e3, control * 1e3, s.send, s.check);
	free(times);

	if (fds_after != fds_before) {
		fprintf(stderr, "descriptors now open:\n");
		fd_list();
	}
	assert_int_equal(fds_after, fds_before);
	assert_int_equal(s.send, cycles);
	assert_int_equal(s.check, cycles);
	assert_true(rss_before > 0 && rss_after > 0);
	/* valgrind's and ASan's own allocators (ASan holds freed memory in a
	 * quarantine of up to 256 MiB) decide RSS there: leaks are what count. */
	if (!vg && !UNDER_ASAN)
		assert_true(rss_after - rss_before < RSS_GROWTH_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(soak),
	};

	if (geteuid() != 0) {
		printf("SKIP: the soak test needs root: the module accepts only root-owned "
		       "configuration and token files\n");
		return 77;
	}
	return cmocka_run_group_tests_name("soak", tests, h_group_setup, h_group_teardown);
}
