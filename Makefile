# pam_tgotp — Telegram Gateway second factor for Linux-PAM.
#   make             build ./pam_tgotp.so
#   make check       every test (unit, exports, PAM integration; plain, ASan+UBSan, valgrind)
#   make demo        a real login through PAM against the bundled mock Gateway
#   make install     DESTDIR=... into the distribution's PAM module directory
#   make man-check   lint the man pages; their key list against the module's
#   make bench       what a login costs, beside curl and Python (bench/results.md)
VERSION    := 0.2.0
CC         ?= cc
PKG_CONFIG ?= pkg-config
PKGS       := pam libcurl libcjson libconfuse ldap libcrypt
BUILD      ?= build
OPT        ?= -O2 -g
SAN        ?=

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS))
WARN       := -Wall -Wextra -Wformat=2 -Wshadow -Wcast-qual -Wwrite-strings -Wmissing-prototypes
ifeq ($(WERROR),1)
WARN       += -Werror
endif
HARDEN     := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC
ALL_CFLAGS := $(OPT) $(WARN) $(HARDEN) -fvisibility=hidden -D_GNU_SOURCE \
              -DTGOTP_VERSION=\"$(VERSION)\" $(PKG_CFLAGS) $(SAN) $(CFLAGS)
# -z nodelete: libcurl may leave a resolver thread running past pam_end
# (see gateway.c); the module and its libraries must stay mapped under it.
SO_LDFLAGS := -shared -Wl,--no-undefined -Wl,-z,relro,-z,now -Wl,-z,nodelete \
              -Wl,--version-script=src/pam_tgotp.map $(SAN) $(LDFLAGS)

# Where the distribution keeps PAM modules: Linux-PAM's pkg-config file
# knows on some systems; Debian-style multiarch otherwise.
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null)
PAMDIR     ?= $(or $(shell $(PKG_CONFIG) --variable=moduledir pam 2>/dev/null),\
                   $(if $(MULTIARCH),$(shell $(PKG_CONFIG) --variable=libdir pam)/security,/lib/security))
SYSCONFDIR ?= /etc
MANDIR     ?= /usr/share/man
MAN5       := man/pam_tgotp.conf.5
MAN8       := man/pam_tgotp.8 man/tgotp.8
SBINDIR    ?= /usr/sbin

SRCS   := $(wildcard src/*.c)
HDRS   := $(wildcard src/*.h)
OBJS   := $(SRCS:src/%.c=$(BUILD)/src/%.o)
LIB    := $(BUILD)/libtgotp.a
MODULE := $(BUILD)/pam_tgotp.so
# The administrator's command, on the same library as the module.
CLI_SRCS := $(wildcard tgotp/*.c)
CLI      := $(BUILD)/tgotp

# Unit and integration tests build into directories of their own, as their
# sources sit: tests/unit/test_X.c -> $(BUILD)/tests/unit/test_X.
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/%.c=$(BUILD)/tests/%)
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_BINS := $(INTEG_SRCS:tests/%.c=$(BUILD)/tests/%)
HARNESS    := tests/integration/harness.c tests/integration/harness.h tests/lock_holder.h
LOGIN      := $(BUILD)/tools/tgotp-login
TEST_BINS  := $(UNIT_BINS) $(INTEG_BINS) $(LOGIN) $(BUILD)/tests/print_config_keys
TEST_LIBS  := $(LIB) $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs cmocka) -ldl

export TGOTP_KEEP_GOING

.PHONY: all deps dist deb rpm check check-plain check-asan check-valgrind tests demo install clean format \
        format-check man-check

all: pam_tgotp.so $(CLI)

pam_tgotp.so: $(MODULE)
	cp $< $@

$(BUILD)/src/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/pam_tgotp.o: pam_tgotp.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(OBJS)
	rm -f $@
	ar rcs $@ $^

$(MODULE): $(BUILD)/pam_tgotp.o $(LIB) src/pam_tgotp.map
	$(CC) $(SO_LDFLAGS) -o $@ $(BUILD)/pam_tgotp.o $(LIB) $(PKG_LIBS)

$(CLI): $(CLI_SRCS) tgotp/tgotp.h $(HDRS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIE -pie -Wl,-z,relro,-z,now -o $@ $(CLI_SRCS) $(LIB) $(PKG_LIBS) \
	      $(SAN) $(LDFLAGS)

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h tests/lock_holder.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(TEST_LIBS)

# The built module alone, dlopen'ed: no harness, no library.
$(BUILD)/tests/integration/test_exports: tests/integration/test_exports.c $(MODULE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -ldl

# Integration tests: real libpam and the built module; -Wno-override-init
# for their designated-initialiser defaults.
$(BUILD)/tests/integration/%: tests/integration/%.c $(HARNESS) $(LIB) $(MODULE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-override-init -Isrc -o $@ $< tests/integration/harness.c \
	      $(TEST_LIBS) -lpam -rdynamic

# The keys the parser accepts, for tests/man/test_manpages.sh.
$(BUILD)/tests/print_config_keys: tests/man/print_config_keys.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB) $(PKG_LIBS)

# The demo's login program (scripts/demo.sh; tests/system/test_login.sh too).
$(LOGIN): scripts/tgotp-login.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(PKG_LIBS) -lpam_misc -rdynamic

tests: $(MODULE) $(TEST_BINS) $(CLI)

# One build per flavour, each in its own directory, all run by one script;
# then every fuzz target for FUZZ_SECONDS (30 by default, which keeps CI
# short with six targets two at a time; make fuzz runs each for 10 minutes).
check: deps
	$(MAKE) check-plain TGOTP_KEEP_GOING=1
	$(MAKE) check-asan TGOTP_KEEP_GOING=1
	$(MAKE) check-valgrind TGOTP_KEEP_GOING=1
	$(MAKE) fuzz-smoke TGOTP_KEEP_GOING=1
	@tests/summary.sh $(BUILD)/results-plain $(BUILD)-asan/results-asan \
	    $(BUILD)/results-valgrind $(FUZZ_BUILD)/results-fuzz

check-plain: tests
	tests/run-tests.sh plain $(BUILD)

check-asan:
	$(MAKE) tests BUILD=$(BUILD)-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
	tests/run-tests.sh asan $(BUILD)-asan

check-valgrind: tests
	tests/run-tests.sh valgrind $(BUILD)

# Also run by tests/run-tests.sh (plain), so by make check.
man-check: $(BUILD)/tests/print_config_keys
	tests/man/test_manpages.sh $(BUILD)

# What the demo needs first (scripts/install-deps.sh demo: no test tools),
# then a fresh make: the pkg-config flags are read at start-up.
demo:
	scripts/install-deps.sh demo
	$(MAKE) all $(LOGIN)
	scripts/demo.sh

deps:
	scripts/install-deps.sh test

install: all
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(SYSCONFDIR)/security
	install -m 0644 pam_tgotp.so $(DESTDIR)$(PAMDIR)/pam_tgotp.so
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(CLI) $(DESTDIR)$(SBINDIR)/tgotp
	test -e $(DESTDIR)$(SYSCONFDIR)/security/pam_tgotp.conf || \
	    install -m 0600 conf/pam_tgotp.conf $(DESTDIR)$(SYSCONFDIR)/security/pam_tgotp.conf

# Every C file of the tree (Debian 12's clang-format 14, as
# scripts/install-deps.sh installs it).
FORMAT_FILES := $(wildcard pam_tgotp.c src/*.[ch] tgotp/*.[ch] scripts/*.[ch] bench/*.[ch] \
                  tests/*.[ch] tests/*/*.[ch])

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(FUZZ_BUILD) pam_tgotp.so

# ---- libFuzzer targets (tests/fuzz/fuzz_*.c), one per parser. Each binary
# compiles src/*.c itself with clang, coverage and ASan+UBSan: the gcc-built
# library in $(BUILD) has no instrumentation. make fuzz-smoke runs every
# target for FUZZ_SECONDS, FUZZ_JOBS at a time (2: the CI machine has two
# cores and libFuzzer uses one per process); make fuzz runs them for 10 min.
# clang (not gcc) warns about the va_list format in config.c's libconfuse error
# callback.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_JOBS    ?= 2
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all $(WARN) -Wno-format-nonliteral -D_GNU_SOURCE \
                -DTGOTP_VERSION=\"fuzz\" $(PKG_CFLAGS)
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-clean

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(SRCS) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz-smoke: fuzz-build
	tests/fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS)

fuzz:
	$(MAKE) fuzz-smoke FUZZ_SECONDS=600

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

# ---- make bench (bench/README.md): what a login costs, side by side with a
# curl script and Python requests; writes bench/results.md. BENCH_QUICK=1:
# small counts, the smoke run that make check does too (tests/run-tests.sh).
BENCH_BINS := $(BUILD)/bench/bench-login $(BUILD)/bench/bench-measure $(BUILD)/bench/bench-dlopen

.PHONY: bench

tests: $(BENCH_BINS)

$(BUILD)/bench/bench-login: bench/login.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(shell $(PKG_CONFIG) --libs pam) -rdynamic

$(BUILD)/bench/bench-%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -ldl

bench: $(MODULE) $(BENCH_BINS)
	python3 bench/bench.py $(BUILD) $(if $(BENCH_QUICK),--quick)

# ---- packages (built from a clean copy of the tree; results in $(BUILD)/pkg)
# PKG_TREE: what to pack, HEAD by default (committed files only); any tree-ish,
# e.g. the working tree's as tests/package/test_package.sh makes it.
PKG_TREE ?= HEAD
dist:
	@mkdir -p $(BUILD)/pkg
	git archive --format=tar.gz --prefix=pam_tgotp-$(VERSION)/ \
	    -o $(BUILD)/pkg/pam_tgotp-$(VERSION).tar.gz $(PKG_TREE)

# The package's own make runs without this one's command line (MAKEFLAGS)
# and variables: "make deb BUILD=DIR" would have its "make clean" remove DIR.
PKG_ENV := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u OPT -u SAN
deb:
	rm -rf $(BUILD)/pkg/deb && mkdir -p $(BUILD)/pkg/deb
	git archive --format=tar $(PKG_TREE) | tar -x -C $(BUILD)/pkg/deb
	cd $(BUILD)/pkg/deb && $(PKG_ENV) dpkg-buildpackage -us -uc -b
	ls $(BUILD)/pkg/*.deb

# brp-compress by bash: Debian's /bin/sh (dash) lacks its "read -d" and would
# leave the man pages uncompressed (Fedora's /bin/sh is bash already).
rpm: dist
	$(PKG_ENV) rpmbuild -tb --nodeps --define "_topdir $(abspath $(BUILD))/pkg/rpmbuild" \
	    --define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}' \
	    $(BUILD)/pkg/pam_tgotp-$(VERSION).tar.gz
