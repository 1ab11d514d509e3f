# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build fragment for the C tests of /dev/vault-control.
#
# Include it from the top-level Makefile (include tests/control/control.mk)
# or run it alone: make -f tests/control/control.mk (from the repository
# root) or make -C tests/control.  Produces $(VAULT_BUILD_DIR)/tests/control_test
# $(VAULT_BUILD_DIR)/tests/dm_cycles (used by tests/guest/90-cycles-rmmod.sh)
# $(VAULT_BUILD_DIR)/tests/hammer (used by tests/guest/92-control-hammer.sh)
# and $(VAULT_BUILD_DIR)/tests/msg_race (used by tests/guest/71-key-messages.sh).
#
# kselftest_harness.h and kselftest.h are not kept in the repository: they
# are extracted once from Debian's linux-source package into a cache under
# build/ (KSFT_TARBALL may point at another kernel source tarball).

VAULT_CONTROL_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
VAULT_REPO_DIR ?= $(abspath $(VAULT_CONTROL_DIR)/../..)
VAULT_BUILD_DIR ?= $(VAULT_REPO_DIR)/build

KSFT_TARBALL ?= $(firstword $(wildcard /usr/src/linux-source-*.tar.xz))
KSFT_CACHE := $(VAULT_BUILD_DIR)/kselftest
KSFT_HEADERS := $(KSFT_CACHE)/kselftest_harness.h $(KSFT_CACHE)/kselftest.h

CONTROL_TEST := $(VAULT_BUILD_DIR)/tests/control_test
DM_CYCLES := $(VAULT_BUILD_DIR)/tests/dm_cycles
HAMMER := $(VAULT_BUILD_DIR)/tests/hammer
MSG_RACE := $(VAULT_BUILD_DIR)/tests/msg_race
CONTROL_CFLAGS ?= -O2 -g -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 \
	-Wno-unused-parameter
# kselftest_harness.h trips -Wsign-compare (EXPECT_EQ(int, size_t)) and
# -Wclobbered (its setjmp around fork)
CONTROL_CFLAGS += -Wno-sign-compare -Wno-clobbered
CONTROL_CPPFLAGS := -I$(VAULT_REPO_DIR)/module/uapi -I$(VAULT_CONTROL_DIR) \
	-I$(KSFT_CACHE)

.PHONY: control-tests control-layout32 control-tests-clean

control-tests: $(CONTROL_TEST) $(DM_CYCLES) $(HAMMER) $(MSG_RACE) control-layout32

$(KSFT_HEADERS) &:
	@test -n "$(KSFT_TARBALL)" || { \
		echo "control.mk: no /usr/src/linux-source-*.tar.xz (apt-get install linux-source-6.12)" >&2; \
		exit 1; }
	mkdir -p $(KSFT_CACHE)
	tar -xJf $(KSFT_TARBALL) -C $(KSFT_CACHE) --wildcards \
		--strip-components=4 \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	touch $(KSFT_HEADERS)

$(CONTROL_TEST): $(VAULT_CONTROL_DIR)/control_test.c \
		$(VAULT_CONTROL_DIR)/layout_check.h \
		$(VAULT_REPO_DIR)/module/uapi/linux/dm-vault.h $(KSFT_HEADERS)
	mkdir -p $(dir $@)
	$(CC) $(CONTROL_CFLAGS) $(CONTROL_CPPFLAGS) -o $@ $<

$(DM_CYCLES): $(VAULT_CONTROL_DIR)/dm_cycles.c
	mkdir -p $(dir $@)
	$(CC) $(CONTROL_CFLAGS) -o $@ $<

$(HAMMER): $(VAULT_CONTROL_DIR)/hammer.c \
		$(VAULT_REPO_DIR)/module/uapi/linux/dm-vault.h
	mkdir -p $(dir $@)
	$(CC) $(CONTROL_CFLAGS) -I$(VAULT_REPO_DIR)/module/uapi -pthread -o $@ $<

$(MSG_RACE): $(VAULT_CONTROL_DIR)/msg_race.c
	mkdir -p $(dir $@)
	$(CC) $(CONTROL_CFLAGS) -pthread -o $@ $<

# The same static checks with the i386 ABI, without a 32-bit libc: only
# kernel UAPI headers are needed.  Skipped (with a note) when the compiler
# cannot target i386.
control-layout32: $(VAULT_CONTROL_DIR)/layout_check.h \
		$(VAULT_REPO_DIR)/module/uapi/linux/dm-vault.h
	@if echo 'int x;' | $(CC) -m32 -ffreestanding -fsyntax-only -x c - 2>/dev/null; then \
		echo '#include "layout_check.h"' | $(CC) -m32 -ffreestanding \
			-fsyntax-only -x c $(CONTROL_CPPFLAGS) \
			-I/usr/include/$$($(CC) -print-multiarch) -I/usr/include - \
			&& echo "  LAYOUT32 ok"; \
	else \
		echo "  LAYOUT32 skipped: $(CC) cannot target i386"; \
	fi

control-tests-clean:
	rm -f $(CONTROL_TEST) $(DM_CYCLES) $(HAMMER) $(MSG_RACE)
