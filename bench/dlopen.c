/* What loading libraries costs a fresh process, for make bench:
 *   bench-dlopen [LIB...]
 * dlopens each LIB in turn (RTLD_NOW, as libpam loads a module) and prints
 * "LIB cpu_ms wall_ms" for each: the CPU time this process spent in that
 * dlopen (its relocations, its dependencies not loaded yet, their
 * constructors). With no LIB it only starts, for the baseline. */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

static double now_ms(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		double c = now_ms(CLOCK_PROCESS_CPUTIME_ID), w = now_ms(CLOCK_MONOTONIC);

		if (!dlopen(argv[i], RTLD_NOW | RTLD_GLOBAL)) {
			fprintf(stderr, "%s\n", dlerror());
			return 1;
		}
		printf("%s %.3f %.3f\n", argv[i], now_ms(CLOCK_PROCESS_CPUTIME_ID) - c,
		       now_ms(CLOCK_MONOTONIC) - w);
	}
	return 0;
}
