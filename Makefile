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
# liburing: the nbd module parks reads that would wait for the disk.
URING_LIBS := $(shell $(PKG_CONFIG) --libs liburing 2>/dev/null || echo -luring)
CHECK_LIBS := $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SAN) $(SODIUM_CFLAGS)
LDLIBS = $(SODIUM_LIBS) $(URING_LIBS)

# One library per folder. Each folder sees only the headers it may use: a
# protocol module gets handler.h and conf.h (the module API) and lib/, never
# the core's internals, the secure layer or another module.
# Protocol modules are found, not listed: every handler/NAME/ folder but
# the core, the secure layer and the client is one (docs/ARCHITECTURE.md).
MODULES := $(sort $(filter-out core secure client,$(notdir $(patsubst %/,%,$(wildcard handler/*/)))))
ROOMS := common msgpipe secure core $(MODULES) client
DIR_common := lib
DIR_msgpipe := msgpipe
DIR_secure := handler/secure
DIR_core := handler/core
DIR_client := handler/client
INC_common := -Ilib
INC_msgpipe := -Ilib
INC_secure := -Ilib
INC_core := -Ilib -Ihandler -Ihandler/secure
INC_client := -Ilib -Ihandler/secure -Ihandler/cmd
$(foreach m,$(MODULES),$(eval DIR_$(m) := handler/$(m))$(eval INC_$(m) := -Ilib -Ihandler))
# Tests, fuzzers and tools may look inside every room.
INC_tests := -Ilib -Imsgpipe -Ihandler $(foreach r,core secure $(MODULES) client,-Ihandler/$(r))

MAINS := msgpipe/main.c handler/core/main.c handler/client/main.c
room_src = $(filter-out $(MAINS),$(wildcard $(DIR_$(1))/*.c))
room_lib = $(BUILD)/lib$(1).a
UNIT_SRC := $(wildcard tests/unit/test_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c tests/bench/*.c)
# LD_PRELOAD shims for the tests (tests/tools/preload/NAME.c -> NAME.so).
PRELOAD_SRC := $(wildcard tests/tools/preload/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
libs = $(foreach r,$(1),$(call room_lib,$(r)))

# What each program links, callers before callees.
LIBS_msgpipe := msgpipe common
LIBS_handler := core $(MODULES) secure common
LIBS_client := client cmd secure common
# Only a fallback for a unit test or fuzzer that names no rooms: every test
# should name its own (UNIT_LIBS_name, FUZZ_LIBS_name below), so that it
# links what it exercises and a stray call into another room fails to link
# instead of passing unnoticed.
LIBS_test := core $(MODULES) client secure msgpipe common
# The same for tools and benchmarks (TOOL_LIBS_name below).
LIBS_tool := secure common

PROGS := $(BUILD)/bin/msgpipe $(BUILD)/bin/handler $(BUILD)/bin/handler-client
UNITS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
TOOLS := $(foreach s,$(TOOL_SRC),$(BUILD)/tools/$(basename $(notdir $(s)))) \
	$(patsubst tests/tools/preload/%.c,$(BUILD)/tools/%.so,$(PRELOAD_SRC))
FUZZERS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: all tests deps check check-asan check-quick fuzzers fuzz fuzz-record bench run \
	mutate install uninstall clean
.SUFFIXES:
.DELETE_ON_ERROR:

all: $(PROGS)
tests: $(PROGS) $(UNITS) $(TOOLS)

room_of = $(firstword $(foreach r,$(ROOMS),$(if $(filter $(DIR_$(r))/%,$(1)),$(r))) tests)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(INC_$(call room_of,$<)) $(if $(filter tests/unit/%,$<),$(CHECK_CFLAGS)) -MMD -MP -c -o $@ $<

$(foreach r,$(ROOMS),$(eval $(call room_lib,$(r)): $(call obj,$(call room_src,$(r))) | $(BUILD)/empty.o))
$(call libs,$(ROOMS)):
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(filter %.o,$^) $(if $(filter %.o,$^),,$(BUILD)/empty.o)

$(BUILD)/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int empty_unit;' | $(CC) $(WARN) -x c -c -o $@ -

# The protocol table (core) names the modules, and the modules call the
# core's conf helpers: the group lets the linker go round that once.
link = $(CC) $(CFLAGS) $(SAN) -o $@ $(filter %.o,$^) -Wl,--start-group $(filter %.a,$^) -Wl,--end-group

$(BUILD)/bin/msgpipe: $(call obj,msgpipe/main.c) $(call libs,$(LIBS_msgpipe))
$(BUILD)/bin/handler: $(call obj,handler/core/main.c) $(call libs,$(LIBS_handler))
$(BUILD)/bin/handler-client: $(call obj,handler/client/main.c) $(call libs,$(LIBS_client))
$(PROGS):
	@mkdir -p $(dir $@)
	$(link) $(LDLIBS)

# What each unit test, fuzzer and tool links: its rooms, callers before
# callees, and its fixtures (tests/unit/support_*.c). Core's protocol table
# names every module, so whatever links core names $(MODULES) too.
UNIT_LIBS_test_json := cmd
UNIT_SUPPORT_test_json :=
UNIT_LIBS_test_keys := secure common
UNIT_SUPPORT_test_keys :=
UNIT_LIBS_test_lib := common
UNIT_SUPPORT_test_lib :=
UNIT_SUPPORT_test_loop_end := tests/unit/support_loop.c
UNIT_SUPPORT_test_loop_flow := tests/unit/support_loop.c
UNIT_SUPPORT_test_loop_secure := tests/unit/support_loop.c
UNIT_LIBS_test_msgpipe_acks := msgpipe
UNIT_SUPPORT_test_msgpipe_acks :=
UNIT_LIBS_test_msgpipe_config := msgpipe common
UNIT_SUPPORT_test_msgpipe_config :=
UNIT_LIBS_test_msgpipe_congestion := msgpipe
UNIT_SUPPORT_test_msgpipe_congestion :=
UNIT_LIBS_test_msgpipe_engine_peer := msgpipe common
UNIT_SUPPORT_test_msgpipe_engine_peer := tests/unit/support_msgpipe_engine.c
UNIT_LIBS_test_msgpipe_engine_transfer := msgpipe common
UNIT_SUPPORT_test_msgpipe_engine_transfer := tests/unit/support_msgpipe_engine.c
UNIT_LIBS_test_msgpipe_message := msgpipe common
UNIT_SUPPORT_test_msgpipe_message :=
UNIT_LIBS_test_msgpipe_queues := msgpipe
UNIT_SUPPORT_test_msgpipe_queues :=
UNIT_LIBS_test_msgpipe_receiver := msgpipe common
UNIT_SUPPORT_test_msgpipe_receiver :=
UNIT_LIBS_test_msgpipe_sender := msgpipe common
UNIT_LIBS_test_msgpipe_teardown := msgpipe common
UNIT_SUPPORT_test_msgpipe_teardown := tests/unit/support_msgpipe_engine.c
UNIT_SUPPORT_test_msgpipe_sender :=
UNIT_LIBS_test_reap := common
UNIT_SUPPORT_test_reap :=
UNIT_LIBS_test_secure_forgery := secure common
UNIT_SUPPORT_test_secure_forgery := tests/unit/support_secure.c
UNIT_SUPPORT_test_nbd_conf := tests/unit/support_conf.c
UNIT_LIBS_test_nbd_export := core $(MODULES) common
UNIT_SUPPORT_test_nbd_export := tests/unit/support_nbd.c
UNIT_LIBS_test_nbd_io := core $(MODULES) common
UNIT_SUPPORT_test_nbd_io := tests/unit/support_nbd.c
UNIT_LIBS_test_nbd_option := core $(MODULES) common
UNIT_SUPPORT_test_nbd_option := tests/unit/support_nbd.c
UNIT_LIBS_test_nbd_reply := core $(MODULES) common
UNIT_SUPPORT_test_nbd_reply := tests/unit/support_nbd.c
UNIT_LIBS_test_nbd_request := core $(MODULES) common
UNIT_SUPPORT_test_nbd_request := tests/unit/support_nbd.c
UNIT_LIBS_test_secure_handoff := secure common
UNIT_SUPPORT_test_secure_handoff := tests/unit/support_secure.c
UNIT_LIBS_test_secure_frames := secure common
UNIT_SUPPORT_test_secure_frames := tests/unit/support_secure.c
UNIT_LIBS_test_secure_handshake := secure common
UNIT_SUPPORT_test_secure_handshake := tests/unit/support_secure.c
UNIT_LIBS_test_sftp_confine := core $(MODULES) common
UNIT_SUPPORT_test_cmd_conf := tests/unit/support_conf.c
UNIT_SUPPORT_test_conf := tests/unit/support_conf.c
UNIT_SUPPORT_test_sftp_conf := tests/unit/support_conf.c
UNIT_SUPPORT_test_sftp_confine := tests/unit/support_sftp.c
UNIT_LIBS_test_sftp_ops := core $(MODULES) common
UNIT_SUPPORT_test_sftp_ops := tests/unit/support_sftp.c
UNIT_LIBS_test_sftp_packets := core $(MODULES) common
UNIT_SUPPORT_test_sftp_packets := tests/unit/support_sftp.c
UNIT_LIBS_test_sftp_attrs := core $(MODULES) common
UNIT_SUPPORT_test_sftp_attrs := tests/unit/support_sftp.c
UNIT_LIBS_test_sftp_copy := core $(MODULES) common
UNIT_SUPPORT_test_sftp_copy := tests/unit/support_sftp.c
UNIT_LIBS_test_sftp_devices := core $(MODULES) common
UNIT_SUPPORT_test_sftp_devices := tests/unit/support_sftp.c
UNIT_LIBS_test_sftp_policy := core $(MODULES) common
UNIT_SUPPORT_test_sftp_policy := tests/unit/support_sftp.c
UNIT_LIBS_test_sftp_session := core $(MODULES) common
UNIT_SUPPORT_test_sftp_session := tests/unit/support_sftp.c
FUZZ_LIBS_fuzz_cmdframe := core $(MODULES) secure common
FUZZ_LIBS_fuzz_conf := core $(MODULES) secure common
FUZZ_LIBS_fuzz_handshake := secure common
FUZZ_LIBS_fuzz_keys := secure common
FUZZ_LIBS_fuzz_message := msgpipe common
FUZZ_LIBS_fuzz_nbd := core $(MODULES) common
FUZZ_LIBS_fuzz_sftp := core $(MODULES) common
FUZZ_LIBS_fuzz_sshagent := secure common
TOOL_LIBS_lineping := common
TOOL_LIBS_lossylink := common
TOOL_LIBS_mpend := common
TOOL_LIBS_msgblast := common
TOOL_LIBS_msgcount := common
TOOL_LIBS_msgecho := common
TOOL_LIBS_msggen := common
TOOL_LIBS_msgping := common
TOOL_LIBS_noopenat2 := common
TOOL_LIBS_secure_ceiling := secure common
TOOL_LIBS_securetap := secure common

# A unit test links the fixtures and rooms it names, else none and LIBS_test.
unit_support = $(if $(filter undefined,$(origin UNIT_SUPPORT_$(1))),,$(UNIT_SUPPORT_$(1)))
unit_libs = $(if $(filter undefined,$(origin UNIT_LIBS_$(1))),$(LIBS_test),$(UNIT_LIBS_$(1)))
define unit_rule
$(BUILD)/unit/$(1): $(BUILD)/obj/tests/unit/$(1).o $(call obj,$(call unit_support,$(1))) $(call libs,$(call unit_libs,$(1)))
	@mkdir -p $$(dir $$@)
	$$(link) $$(CHECK_LIBS) $$(LDLIBS)
endef
$(foreach u,$(UNIT_SRC),$(eval $(call unit_rule,$(basename $(notdir $(u))))))

# A tool links the rooms it names, else LIBS_tool.
tool_libs = $(if $(filter undefined,$(origin TOOL_LIBS_$(1))),$(LIBS_tool),$(TOOL_LIBS_$(1)))
define tool_rule
$(BUILD)/tools/$(1): $(call obj,$(2)) $(call libs,$(call tool_libs,$(1)))
	@mkdir -p $$(dir $$@)
	$$(link) $$(LDLIBS)
endef
$(foreach s,$(TOOL_SRC),$(eval $(call tool_rule,$(basename $(notdir $(s))),$(s))))

# A preload shim is position-independent and never sanitized: it wraps
# malloc, which ASan owns (the scripts using it skip under ASan).
$(BUILD)/tools/%.so: tests/tools/preload/%.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -fPIC -shared -o $@ $< -ldl

# libFuzzer harnesses: a separate clang build with the fuzzer runtime.
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
fuzzers:
	$(MAKE) BUILD=build-fuzz CC=$(FUZZCC) SAN="$(FUZZ_SAN)" CFLAGS="-O1 -g" fuzz-bins
.PHONY: fuzz-bins
fuzz-bins: $(FUZZERS)
# A fuzzer links the rooms it names, else LIBS_test.
fuzz_libs = $(if $(filter undefined,$(origin FUZZ_LIBS_$(1))),$(LIBS_test),$(FUZZ_LIBS_$(1)))
define fuzz_rule
$(BUILD)/fuzz/$(1): $(BUILD)/obj/tests/fuzz/$(1).o $(call libs,$(call fuzz_libs,$(1)))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -fsanitize=fuzzer,address,undefined -o $$@ $$(filter %.o,$$^) \
		-Wl,--start-group $$(filter %.a,$$^) -Wl,--end-group $$(LDLIBS)
endef
$(foreach f,$(FUZZ_SRC),$(eval $(call fuzz_rule,$(basename $(notdir $(f))))))

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

# Each mutant in tests/mutants/ against the tests it names (minutes; not
# part of check). MUTANTS="a b" runs only those.
mutate:
	sh tests/mutants/run.sh $(MUTANTS)

fuzz: fuzzers
	sh tests/fuzz/run.sh build-fuzz $${FUZZ_SECONDS:-300}

# Seeds recorded from real clients' sessions (tests/fuzz/record.sh), then
# every seed run once under the fuzz build (ASan+UBSan) and the coverage
# of the corpus at FUZZ_OLD (default HEAD) against the corpus now.
fuzz-record: tests fuzzers
	BUILD=$(BUILD) sh tests/fuzz/record.sh
	for f in build-fuzz/fuzz/fuzz_*; do \
		$$f -runs=0 tests/fuzz/corpus/$${f##*/fuzz_}/rec_* >/dev/null 2>&1 || \
		{ echo "$$f: a seed fails"; exit 1; }; done
	sh tests/fuzz/cov.sh build-fuzz $${FUZZ_OLD:-HEAD}

bench: deps tests
	sh tests/bench/run.sh build

run: deps all
	sh tests/run-demo.sh build

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	for m in docs/*.1; do [ -f "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(MANDIR)/man1/; done; true
	for m in docs/*.5; do [ -f "$$m" ] && install -m 644 "$$m" $(DESTDIR)$(MANDIR)/man5/; done; true

uninstall:
	rm -f $(foreach p,$(PROGS),$(DESTDIR)$(BINDIR)/$(notdir $(p)))
	for m in docs/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	for m in docs/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$m); done

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
