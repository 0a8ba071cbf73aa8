# Build, test and install handler, handler-client and msgpipe.
# Sources are found by wildcard: a new .c file in a directory joins the build
# without touching this file (see "Layout" in README.md).

CC ?= cc
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD ?= build
CFLAGS ?= -O2 -g
SAN ?=
FUZZCC ?= clang

SODIUM_CFLAGS := $(shell $(PKG_CONFIG) --cflags libsodium 2>/dev/null)
SODIUM_LIBS := $(shell $(PKG_CONFIG) --libs libsodium 2>/dev/null || echo -lsodium)
CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla
INC := -Ilib -Imsgpipe -Ihandler
ALL_CFLAGS = $(WARN) $(INC) $(CFLAGS) $(SAN) $(SODIUM_CFLAGS)
LDLIBS = $(SODIUM_LIBS)

LIB_SRC := $(wildcard lib/*.c)
MSG_MAIN := msgpipe/main.c
MSG_SRC := $(filter-out $(MSG_MAIN),$(wildcard msgpipe/*.c))
HND_MAINS := handler/main.c handler/client_main.c
HND_SRC := $(filter-out $(HND_MAINS),$(wildcard handler/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
# Shared fixtures (tests/unit/support_*.c) are linked into every unit test.
UNIT_SUPPORT := $(wildcard tests/unit/support_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c tests/bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON := $(BUILD)/libcommon.a
LIBMSG := $(BUILD)/libmsgpipe.a
LIBHND := $(BUILD)/libhandler.a
LIBS_ALL := $(LIBHND) $(LIBMSG) $(LIBCOMMON)

PROGS := $(BUILD)/bin/msgpipe $(BUILD)/bin/handler $(BUILD)/bin/handler-client
UNITS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
TOOLS := $(foreach s,$(TOOL_SRC),$(BUILD)/tools/$(basename $(notdir $(s))))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: all tests deps check check-asan check-quick fuzzers fuzz bench run \
	install uninstall clean
.SUFFIXES:
.DELETE_ON_ERROR:

all: $(PROGS)
tests: $(PROGS) $(UNITS) $(TOOLS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(if $(filter tests/unit/%,$<),$(CHECK_CFLAGS)) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(call obj,$(LIB_SRC))
$(LIBMSG): $(call obj,$(MSG_SRC))
$(LIBHND): $(call obj,$(HND_SRC))
$(LIBCOMMON) $(LIBMSG) $(LIBHND):
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^ $(if $^,,$(BUILD)/empty.o)

$(BUILD)/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int empty_unit;' | $(CC) $(WARN) -x c -c -o $@ -
$(LIBMSG) $(LIBHND): | $(BUILD)/empty.o

$(BUILD)/bin/msgpipe: $(call obj,$(MSG_MAIN)) $(LIBMSG) $(LIBCOMMON)
$(BUILD)/bin/handler: $(call obj,handler/main.c) $(LIBS_ALL)
$(BUILD)/bin/handler-client: $(call obj,handler/client_main.c) $(LIBS_ALL)
$(PROGS):
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/unit/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(UNIT_SUPPORT)) $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(CHECK_LIBS) $(LDLIBS)

define tool_rule
$(BUILD)/tools/$(basename $(notdir $(1))): $(call obj,$(1)) $(LIBS_ALL)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $$(SAN) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(TOOL_SRC),$(eval $(call tool_rule,$(s))))

# libFuzzer harnesses: a separate clang build with the fuzzer runtime.
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
fuzzers:
	$(MAKE) BUILD=build-fuzz CC=$(FUZZCC) SAN="$(FUZZ_SAN)" CFLAGS="-O1 -g" fuzz-bins
.PHONY: fuzz-bins
fuzz-bins: $(FUZZERS)
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

deps:
	@sh tests/deps.sh

# The whole suite, then again under ASan+UBSan; one summary line at the end.
check: deps
	$(MAKE) tests
	$(MAKE) fuzzers
	$(MAKE) BUILD=build-asan CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" tests
	sh tests/check.sh build build-asan

# Only the normal build, no sanitizer pass (for quick iterations).
check-quick: tests fuzzers
	sh tests/check.sh build

check-asan: deps
	$(MAKE) BUILD=build-asan CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" tests
	sh tests/check.sh build-asan

fuzz: fuzzers
	sh tests/fuzz/run.sh build-fuzz $${FUZZ_SECONDS:-300}

bench: deps tests
	sh tests/bench/run.sh build

run: deps all
	sh tests/run-demo.sh build

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	for m in docs/*.1; do [ -f "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(MANDIR)/man1/; done; true

uninstall:
	rm -f $(foreach p,$(PROGS),$(DESTDIR)$(BINDIR)/$(notdir $(p)))
	for m in docs/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
