# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build fragment for the kernel-interface fuzzer (tests/fuzz/vault-fuzz.c),
# run by tests/guest/95-fuzz-interfaces.sh.  Called from the top-level
# Makefile's userspace target; alone: make -f tests/fuzz/fuzz.mk.
# Produces $(VAULT_BUILD_DIR)/vault-fuzz with vaultctl's warning flags.

VAULT_FUZZ_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
VAULT_REPO_DIR ?= $(abspath $(VAULT_FUZZ_DIR)/../..)
VAULT_BUILD_DIR ?= $(VAULT_REPO_DIR)/build

VAULT_FUZZ := $(VAULT_BUILD_DIR)/vault-fuzz
FUZZ_CFLAGS ?= -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
FUZZ_LDFLAGS ?= -pie -Wl,-z,relro -Wl,-z,now

.PHONY: vault-fuzz
vault-fuzz: $(VAULT_FUZZ)

$(VAULT_FUZZ): $(VAULT_FUZZ_DIR)/vault-fuzz.c $(VAULT_REPO_DIR)/module/uapi/linux/dm-vault.h
	mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) -I$(VAULT_REPO_DIR)/module/uapi $(FUZZ_LDFLAGS) -o $@ $< -lpthread
