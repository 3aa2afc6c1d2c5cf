/* The built module loads with RTLD_NOW (no undefined symbol) and exports
 * nothing but the pam_sm_* entry points. */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures, passes;

static void check(int ok, const char *what)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	if (ok)
		passes++;
	else
		failures++;
}

/* Counts the defined global symbols of the .dynsym table; prints each one
 * that is not a pam_sm_* entry point. Returns how many of those there are. */
static int foreign_exports(const unsigned char *img, size_t size)
{
	const Elf64_Ehdr *eh = (const void *)img;
	const Elf64_Shdr *sh;
	int i, bad = 0;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_shoff + eh->e_shnum * sizeof(*sh) > size)
		return -1;
	sh = (const void *)(img + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym = (const void *)(img + sh[i].sh_offset);
		const char *strtab = (const char *)(img + sh[sh[i].sh_link].sh_offset);
		size_t n, k;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		n = sh[i].sh_size / sizeof(*sym);
		for (k = 1; k < n; k++) {
			int bind = ELF64_ST_BIND(sym[k].st_info);
			const char *name = strtab + sym[k].st_name;
			if (sym[k].st_shndx == SHN_UNDEF ||
			    (bind != STB_GLOBAL && bind != STB_WEAK))
				continue;
			if (strcmp(name, "pam_sm_authenticate") && strcmp(name, "pam_sm_setcred")) {
				printf("  unexpected export: %s\n", name);
				bad++;
			}
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "./pam_tgotp.so";
	struct stat st;
	void *h, *img;
	int fd;

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		printf("  dlopen: %s\n", dlerror());
	check(h != NULL, "module loads with RTLD_NOW");
	if (!h)
		goto out;
	check(dlsym(h, "pam_sm_authenticate") != NULL, "pam_sm_authenticate is exported");
	check(dlsym(h, "pam_sm_setcred") != NULL, "pam_sm_setcred is exported");
	check(dlsym(h, "tgotp_config_parse") == NULL, "library internals are not exported");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		check(0, "module can be read");
		goto out;
	}
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	check(img != MAP_FAILED && foreign_exports(img, (size_t)st.st_size) == 0,
	      "nothing but pam_sm_* in .dynsym");
	if (img != MAP_FAILED)
		munmap(img, (size_t)st.st_size);
	close(fd);
	dlclose(h);
	/* libcurl may leave a resolver thread running past pam_end (gateway.c,
	 * CURLOPT_QUICK_EXIT): the module, and so libcurl, must stay mapped. */
	check(dlopen(path, RTLD_NOW | RTLD_NOLOAD) != NULL &&
		  dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD) != NULL,
	      "the module and libcurl stay loaded after dlclose (-z nodelete)");
out:
	printf("%d passed, %d failed\n", passes, failures);
	return failures ? 1 : 0;
}
