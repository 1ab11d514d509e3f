# SPDX-License-Identifier: GPL-2.0-or-later
#
# dm-vault top-level Makefile.  `make help` lists the targets.
#
#   KVER=<kernel>   restrict module builds and guest runs to one kernel
#   TESTS=<glob>    restrict the guest tests (e.g. TESTS='1*,*ext4*')
#   V=1             show the commands

REPO	:= $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
BUILD	:= $(REPO)/build
# Upstream files (checkpatch.pl, .clang-format, kselftest headers) are taken
# from Debian's linux-source-6.12 at build time and cached here.
UPSTREAM_TARBALL ?= /usr/src/linux-source-6.12.tar.xz
UPSTREAM_CACHE	 ?= /var/cache/dm-vault/linux-source-6.12

# Every kernel with headers installed, unless KVER= names one.
KVERS	:= $(if $(KVER),$(KVER),$(shell for d in /lib/modules/*/; do \
		[ -e "$${d}build/Makefile" ] && basename "$$d"; done 2>/dev/null))

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Everything a fresh Debian 12 machine needs to build, test and demo.
DEPS_PKGS := build-essential bc flex bison libelf-dev kmod xz-utils cpio \
	pkg-config perl sparse \
	linux-image-amd64 linux-headers-amd64 \
	linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12 \
	qemu-system-x86 busybox-static \
	cryptsetup-bin dmsetup libdevmapper-dev libssl-dev libargon2-dev \
	libjson-c-dev libblkid-dev valgrind clang libclang-rt-14-dev python3 \
	fio e2fsprogs util-linux bsdextrautils coreutils procps iproute2

MODULE_SRCS := $(wildcard $(REPO)/module/*.c $(REPO)/module/*.h)
UAPI_HDR    := $(REPO)/module/uapi/linux/dm-vault.h

.PHONY: all module userspace sparse style check demo deps deps-if-missing \
	upstream clean help

all: module userspace

help:
	@echo "make [all]       build dm-vault.ko for every installed kernel, and vaultctl"
	@echo "make module      build/<KVER>/dm-vault.ko for each kernel (KVER= for one), W=1"
	@echo "make userspace   build/vaultctl"
	@echo "make check       deps if missing, build, host tests, one QEMU guest per kernel"
	@echo "make demo        deps if missing, build, encrypt and decrypt a ramdisk in a guest"
	@echo "make sparse      module with C=2 for each kernel; fails on any warning"
	@echo "make style       checkpatch.pl --strict on module/ and the UAPI header"
	@echo "make deps        apt-get install whatever is missing"
	@echo "make clean       remove build/"
	@echo "kernels: $(or $(KVERS),none with headers installed)"

# --- dependencies ---------------------------------------------------------

# Installs only what is missing; a no-op (one dpkg-query) when all is there.
deps:
	$(Q)missing=; \
	have=" $$(dpkg-query -W -f='$${db:Status-Abbrev}$${Package}\n' \
		$(DEPS_PKGS) 2>/dev/null | sed -n 's/^ii *//p' | tr '\n' ' ') "; \
	for p in $(DEPS_PKGS); do \
		case "$$have" in *" $$p "*) ;; *) missing="$$missing $$p" ;; esac; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "deps: all $(words $(DEPS_PKGS)) packages installed"; exit 0; \
	fi; \
	echo "deps: installing:$$missing"; \
	sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo apt-get update -q && \
	$$sudo apt-get install -y -q --no-install-recommends $$missing

deps-if-missing: deps

# --- building -------------------------------------------------------------

# Copy Kbuild and module/ into build/<KVER>/src (only files whose content
# changed, so kbuild rebuilds only what it must), build there with M=, and
# put the result at build/<KVER>/dm-vault.ko (replaced atomically, and only
# when it changed: a running guest may be loading it).
define sync_sources
	mkdir -p "$$src"; \
	(cd $(REPO) && find Kbuild module tests/async-cipher -type f \( -name '*.c' -o -name '*.h' \
		-o -name Kbuild -o -name Makefile \)) > "$$src/.files.new"; \
	while read -r f; do \
		cmp -s "$(REPO)/$$f" "$$src/$$f" && continue; \
		mkdir -p "$$src/$$(dirname "$$f")"; \
		cp -p "$(REPO)/$$f" "$$src/$$f" || exit 1; \
	done < "$$src/.files.new"; \
	if [ -f "$$src/.files" ]; then \
		sort "$$src/.files" > "$$src/.files.a"; \
		sort "$$src/.files.new" > "$$src/.files.b"; \
		comm -23 "$$src/.files.a" "$$src/.files.b" | \
			while read -r f; do rm -f "$$src/$$f"; done; \
	fi; \
	mv "$$src/.files.new" "$$src/.files"
endef

module:
	$(Q)[ -n "$(KVERS)" ] || { echo "module: no kernel headers in /lib/modules/*/build (make deps)" >&2; exit 1; }
	$(Q)[ -f $(REPO)/module/Kbuild ] || { echo "module: module/Kbuild is missing" >&2; exit 1; }
	$(Q)for k in $(KVERS); do \
		src=$(BUILD)/$$k/src; \
		[ -e "/lib/modules/$$k/build/Makefile" ] || { echo "module: no headers for $$k" >&2; exit 1; }; \
		$(sync_sources); \
		echo "  MODULE  $$k"; \
		ko=$(BUILD)/$$k/dm-vault.ko; \
		$(MAKE) --no-print-directory -C /lib/modules/$$k/build M=$$src W=1 \
			$(if $(V),V=$(V)) modules || { rm -f $$ko; echo "module: build FAILED for $$k" >&2; exit 1; }; \
		if ! cmp -s $$src/module/dm-vault.ko $$ko; then \
			cp $$src/module/dm-vault.ko $$ko.tmp && mv -f $$ko.tmp $$ko || exit 1; \
		fi; \
		echo "  OK      build/$$k/dm-vault.ko"; \
		$(MAKE) --no-print-directory -C /lib/modules/$$k/build \
			M=$$src/tests/async-cipher W=1 $(if $(V),V=$(V)) modules || \
			{ echo "module: test module build FAILED for $$k" >&2; exit 1; }; \
		t=$(BUILD)/$$k/vault-test-async.ko; \
		cmp -s $$src/tests/async-cipher/vault-test-async.ko $$t || \
			{ cp $$src/tests/async-cipher/vault-test-async.ko $$t.tmp && mv -f $$t.tmp $$t; } || exit 1; \
	done

userspace:
	$(Q)[ -f $(REPO)/userspace/Makefile ] || { echo "userspace: userspace/Makefile is missing" >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory -C $(REPO)/userspace BUILD=$(BUILD)
	$(Q)$(MAKE) --no-print-directory -f $(REPO)/tests/control/control.mk \
		VAULT_BUILD_DIR=$(BUILD) control-tests

# Sparse (C=2 checks every file) plus W=1; any warning or error in our
# sources fails.  Logs: build/logs/sparse-<KVER>.log.
sparse:
	$(Q)[ -n "$(KVERS)" ] || { echo "sparse: no kernel headers installed" >&2; exit 1; }
	$(Q)mkdir -p $(BUILD)/logs; fail=0; \
	for k in $(KVERS); do \
		src=$(BUILD)/$$k/sparse; \
		$(sync_sources); \
		log=$(BUILD)/logs/sparse-$$k.log; \
		echo "  SPARSE  $$k"; \
		$(MAKE) --no-print-directory -C /lib/modules/$$k/build M=$$src W=1 C=2 \
			modules > $$log 2>&1 || { cat $$log; echo "sparse: build FAILED for $$k" >&2; fail=1; continue; }; \
		if grep -E '(warning|error):' $$log; then \
			echo "sparse: warnings for $$k (see $$log)" >&2; fail=1; \
		fi; \
	done; \
	[ $$fail = 0 ] && echo "sparse: clean"; exit $$fail

# --- style ----------------------------------------------------------------

UPSTREAM_FILES := scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch .clang-format \
	tools/testing/selftests/kselftest.h \
	tools/testing/selftests/kselftest_harness.h

upstream: $(UPSTREAM_CACHE)/.stamp

$(UPSTREAM_CACHE)/.stamp: $(UPSTREAM_TARBALL)
	$(Q)[ -r $< ] || { echo "style: $< missing (make deps)" >&2; exit 1; }
	$(Q)echo "  EXTRACT $(notdir $<) -> $(UPSTREAM_CACHE)"
	$(Q)rm -rf $(UPSTREAM_CACHE).tmp && mkdir -p $(UPSTREAM_CACHE).tmp
	$(Q)top=$$(basename $< .tar.xz); \
	tar -xJf $< -C $(UPSTREAM_CACHE).tmp --strip-components=1 \
		$(addprefix $$top/,$(UPSTREAM_FILES))
	$(Q)rm -rf $(UPSTREAM_CACHE) && mv $(UPSTREAM_CACHE).tmp $(UPSTREAM_CACHE)
	$(Q)touch $@

# BIT() does not exist for userspace, so the UAPI header is spared that check.
CHECKPATCH = perl $(UPSTREAM_CACHE)/scripts/checkpatch.pl --no-tree --strict \
	--show-types --color=never --quiet -f

style: upstream
	$(Q)echo "  CHECKPATCH module/*.[ch] module/uapi/linux/$(notdir $(UAPI_HDR))"
	$(Q)fail=0; \
	$(CHECKPATCH) $(MODULE_SRCS) || fail=1; \
	$(CHECKPATCH) --ignore BIT_MACRO $(UAPI_HDR) || fail=1; \
	[ $$fail = 0 ] && echo "style: clean"; exit $$fail

# --- tests ----------------------------------------------------------------

check: deps
	$(Q)KVER="$(KVER)" TESTS="$(TESTS)" $(REPO)/tests/vm/check-all

demo: deps
	$(Q)KVER="$(KVER)" $(REPO)/tests/demo.sh

clean:
	$(Q)[ ! -f $(REPO)/userspace/Makefile ] || $(MAKE) --no-print-directory -C $(REPO)/userspace BUILD=$(BUILD) clean
	rm -rf $(BUILD)

# make bench: dm-vault against dm-crypt (bench/bench.mk adds its packages).
-include $(REPO)/bench/bench.mk
