# SPDX-License-Identifier: GPL-2.0-or-later
#
# dm-vault top-level Makefile.  `make help` lists the targets.
#
#   KVER=<kernel>   restrict module builds and guest runs to one kernel
#   KDIR=<dir>      build the module for KVER against this kernel tree instead of
#                   /lib/modules/KVER/build (make check-debug uses it)
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
	qemu-system-x86 busybox-static initramfs-tools dracut-core systemd \
	cryptsetup-bin dmsetup libdevmapper-dev libssl-dev libargon2-dev \
	libjson-c-dev libblkid-dev valgrind clang libclang-rt-14-dev python3 \
	fio e2fsprogs util-linux bsdextrautils coreutils procps iproute2 aeskeyfind strace \
	swtpm swtpm-tools tpm2-tools libtss2-dev libqrencode-dev plymouth lvm2
# make deb and its test (userspace/tests/deb.sh): the Debian packaging tools.
DEPS_PKGS += debhelper dh-dkms dkms lintian dpkg-dev bash-completion
# Module signing (userspace/tests/module-signing.sh): openssl makes the
# test MOK and checks the signature; mokutil for Documentation/secure-boot.rst.
DEPS_PKGS += openssl mokutil
# Re-encryption metadata (userspace/tests/reencrypt-meta.sh): AES-XTS in
# Python reads the data back with the new volume key.
DEPS_PKGS += python3-cryptography
# make check-extended's DKMS scenario (tests/extended/10-dkms-upgrade.sh)
# builds its Debian 12 root with mmdebstrap.
DEPS_PKGS += mmdebstrap
# Issue 15's unlock factors, each tested against the real thing: SoftHSM2
# behind p11-kit (PKCS#11 tokens; opensc's pkcs11-tool and gnutls' certtool
# make keys and certificates), systemd-cryptenroll/-cryptsetup (systemd) for
# interop, clevis with its tang and tpm2 pins and Debian's tang server (network
# unlock in a guest network namespace), dropbear/ssh for remote unlock.
DEPS_PKGS += softhsm2 opensc p11-kit libp11-kit-dev gnutls-bin \
	clevis clevis-luks clevis-tpm2 jose tang curl socat \
	dropbear-bin openssh-client
# dracut's network modules, for a tang-bound volume at boot under dracut.
DEPS_PKGS += dracut-network
# Smartcard readers at boot: pcscd and the CCID driver go into the initramfs
# for a pkcs11-uri= entry (tests/boot/62-pkcs11.sh, 63-dracut-pkcs11.sh).
DEPS_PKGS += pcscd libccid
# Remote unlock's boot case (tests/boot/90-ssh-unlock.sh) builds its image
# with Debian's dropbear-initramfs, as an administrator would.  Installed, it
# reaches into every mkinitramfs image of the machine (BUSYBOX=y, UMASK=0077,
# networking at boot): tests/boot/lib.sh keeps it out of the other cases'.
DEPS_PKGS += dropbear-initramfs
# Messages in other languages (issue 17, po/README): xgettext and msgfmt
# (gettext), gettext.sh and envsubst for the boot scripts (gettext-base),
# the locale sources localedef builds vi_VN.UTF-8 from in a scratch
# directory (locales; userspace/tests/i18n.sh), groff for the man pages.
DEPS_PKGS += gettext gettext-base locales groff-base
# The kernel series those packages install (linux-image-amd64 is 6.1 on
# Debian 12): make check fails unless a guest ran on a kernel of each
# (tests/vm/kernels.sh).
KERNEL_SERIES := 6.1 6.12

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
	@echo "make check-extended  slow scenarios: extra boot variants, tests/extended/"
	@echo "make check-debug the guest tests on a KASAN/lockdep/kmemleak/UBSAN kernel (built once)"
	@echo "make demo        deps if missing, build, encrypt and decrypt a ramdisk in a guest"
	@echo "make sparse      module with C=2 for each kernel; fails on any warning"
	@echo "make style       checkpatch.pl --strict on module/ and the UAPI header"
	@echo "make deps        apt-get install whatever is missing"
	@echo "make install     install vaultctl, dm-vault.ko, boot integration, docs (DESTDIR=, PREFIX=)"
	@echo "make uninstall   remove what make install installed"
	@echo "make pot         po/vaultctl.pot from the sources (after changing a message)"
	@echo "make mo          build/locale/LANG/LC_MESSAGES/vaultctl.mo from po/LANG.po"
	@echo "make deb         build/deb/dm-vault-dkms_*.deb and vaultctl_*.deb (dpkg-buildpackage)"
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
	(cd $(REPO) && find Kbuild VERSION module tests/async-cipher -type f \( -name '*.c' -o -name '*.h' \
		-o -name Kbuild -o -name Makefile -o -name VERSION \)) > "$$src/.files.new"; \
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
	$(Q)[ -z "$(KDIR)" ] || [ -n "$(KVER)" ] || { echo "module: KDIR= needs KVER=" >&2; exit 1; }
	$(Q)for k in $(KVERS); do \
		src=$(BUILD)/$$k/src; \
		kdir=$(or $(KDIR),/lib/modules/$$k/build); \
		[ -e "$$kdir/Makefile" ] || { echo "module: no headers for $$k ($$kdir)" >&2; exit 1; }; \
		$(sync_sources); \
		echo "  MODULE  $$k"; \
		ko=$(BUILD)/$$k/dm-vault.ko; \
		$(MAKE) --no-print-directory -C $$kdir M=$$src W=1 \
			$(if $(V),V=$(V)) modules || { rm -f $$ko; echo "module: build FAILED for $$k" >&2; exit 1; }; \
		if ! cmp -s $$src/module/dm-vault.ko $$ko; then \
			cp $$src/module/dm-vault.ko $$ko.tmp && mv -f $$ko.tmp $$ko || exit 1; \
		fi; \
		echo "  OK      build/$$k/dm-vault.ko"; \
		$(MAKE) --no-print-directory -C $$kdir \
			M=$$src/tests/async-cipher W=1 $(if $(V),V=$(V)) modules || \
			{ echo "module: test module build FAILED for $$k" >&2; exit 1; }; \
		t=$(BUILD)/$$k/vault-test-async.ko; \
		cmp -s $$src/tests/async-cipher/vault-test-async.ko $$t || \
			{ cp $$src/tests/async-cipher/vault-test-async.ko $$t.tmp && mv -f $$t.tmp $$t; } || exit 1; \
	done

userspace:
	$(Q)[ -f $(REPO)/userspace/Makefile ] || { echo "userspace: userspace/Makefile is missing" >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory -C $(REPO)/userspace BUILD=$(BUILD) LOCALEDIR=$(LOCALEDIR)
	$(Q)$(MAKE) --no-print-directory -f $(REPO)/tests/control/control.mk \
		VAULT_BUILD_DIR=$(BUILD) control-tests
	$(Q)$(MAKE) --no-print-directory -f $(REPO)/tests/fuzz/fuzz.mk \
		VAULT_BUILD_DIR=$(BUILD) vault-fuzz

# make pot: po/vaultctl.pot from the sources (after a message changes);
# make mo: the catalogues alone (po/README: adding a language).
.PHONY: pot mo
pot mo:
	$(Q)$(MAKE) --no-print-directory -C $(REPO)/userspace BUILD=$(BUILD) $@

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

# The scenarios too slow for make check's 45 minutes: the boot cases marked
# "# check-extended:" on every kernel, then tests/extended/NN-*.sh
# (EXTENDED_TESTS=glob selects; Documentation/testing.rst).
.PHONY: check-extended
check-extended: deps
	$(Q)KVER="$(KVER)" EXTENDED_TESTS="$(EXTENDED_TESTS)" $(REPO)/tests/vm/check-all --extended

# The guest suite on a KASAN/lockdep/kmemleak/UBSAN kernel built once per
# machine from linux-source-6.12 (tests/debug/, Documentation/testing.rst).
.PHONY: check-debug
check-debug: deps
	$(Q)TESTS="$(TESTS)" $(REPO)/tests/debug/check-debug

demo: deps
	$(Q)KVER="$(KVER)" $(REPO)/tests/demo.sh

clean:
	$(Q)[ ! -f $(REPO)/userspace/Makefile ] || $(MAKE) --no-print-directory -C $(REPO)/userspace BUILD=$(BUILD) clean
	rm -rf $(BUILD)

# --- install --------------------------------------------------------------

# make install [DESTDIR=/staging] [PREFIX=/usr]: vaultctl, dm-vault.ko for
# each kernel in KVERS (into /lib/modules/KVER/updates, then depmod unless
# DESTDIR is set), the boot integration (initramfs-tools hook and script,
# dracut module, systemd generator and vault-unlock), the man page and docs.
# initramfs-tools and dracut only look in their own directories, so those
# do not follow PREFIX.  Scripts name vaultctl and vault-unlock by their
# installed paths (rewritten here when PREFIX is not /usr).
PREFIX		?= /usr
SBINDIR		?= $(PREFIX)/sbin
PKGLIBDIR	?= $(PREFIX)/lib/dm-vault
GENERATORDIR	?= $(PREFIX)/lib/systemd/system-generators
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/dm-vault
INITRAMFSDIR	?= /usr/share/initramfs-tools
DRACUTDIR	?= /usr/lib/dracut/modules.d/90vault
COMPLETIONDIR	?= /usr/share/bash-completion/completions
# Message catalogues (po/*.po, built into build/locale by make vaultctl);
# vaultctl is built with this path (userspace/Makefile's LOCALEDIR).
LOCALEDIR	?= $(PREFIX)/share/locale
# INSTALL_MODULE=0: everything but dm-vault.ko (debian/rules: DKMS builds it).
INSTALL_MODULE	?= 1
MODDIR		?= /lib/modules
BOOTSRC		:= $(REPO)/userspace/boot
INSTALL		?= install
# Installs a script with the installed paths of vaultctl and vault-unlock.
install_script = sed -e 's|/usr/sbin/vaultctl|$(SBINDIR)/vaultctl|g' \
	-e 's|/usr/lib/dm-vault|$(PKGLIBDIR)|g' $(1) > $(2).tmp && \
	chmod $(3) $(2).tmp && mv -f $(2).tmp $(2)

.PHONY: install uninstall
install: $(if $(filter 0,$(INSTALL_MODULE)),vaultctl,all)
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(PKGLIBDIR) \
		$(DESTDIR)$(GENERATORDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(INITRAMFSDIR)/hooks $(DESTDIR)$(INITRAMFSDIR)/scripts/local-top \
		$(DESTDIR)$(DRACUTDIR)
	$(Q)echo "  INSTALL $(DESTDIR)$(SBINDIR)/vaultctl"
	$(Q)$(INSTALL) -m 755 $(BUILD)/vaultctl $(DESTDIR)$(SBINDIR)/vaultctl
	$(Q)for k in $(if $(filter 0,$(INSTALL_MODULE)),,$(KVERS)); do \
		ko=$(BUILD)/$$k/dm-vault.ko; \
		[ -f $$ko ] || { echo "install: $$ko missing (make module)" >&2; exit 1; }; \
		echo "  INSTALL $(DESTDIR)$(MODDIR)/$$k/updates/dm-vault.ko"; \
		$(INSTALL) -d $(DESTDIR)$(MODDIR)/$$k/updates || exit 1; \
		$(INSTALL) -m 644 $$ko $(DESTDIR)$(MODDIR)/$$k/updates/dm-vault.ko || exit 1; \
		if [ -z "$(DESTDIR)" ]; then depmod -a $$k || exit 1; fi; \
	done
	$(Q)echo "  INSTALL boot integration (initramfs-tools, dracut, systemd)"
	$(Q)$(call install_script,$(BOOTSRC)/initramfs-tools/hooks/vault,$(DESTDIR)$(INITRAMFSDIR)/hooks/vault,755)
	$(Q)$(call install_script,$(BOOTSRC)/initramfs-tools/scripts/local-top/vault,$(DESTDIR)$(INITRAMFSDIR)/scripts/local-top/vault,755)
	$(Q)$(INSTALL) -m 644 $(BOOTSRC)/vault-gettext.sh $(DESTDIR)$(INITRAMFSDIR)/scripts/vault-gettext
	$(Q)$(INSTALL) -m 644 $(BOOTSRC)/vault-gettext.sh $(DESTDIR)$(PKGLIBDIR)/vault-gettext.sh
	$(Q)for f in module-setup.sh vault-settled.sh vault-netdev-root.sh vault-dracut-open; do \
		$(call install_script,$(BOOTSRC)/dracut/90vault/$$f,$(DESTDIR)$(DRACUTDIR)/$$f,755) || exit 1; \
	done
	$(Q)$(call install_script,$(BOOTSRC)/systemd/vault-generator,$(DESTDIR)$(GENERATORDIR)/vault-generator,755)
	$(Q)$(call install_script,$(BOOTSRC)/systemd/vault-unlock,$(DESTDIR)$(PKGLIBDIR)/vault-unlock,755)
	$(Q)$(INSTALL) -m 755 $(BOOTSRC)/root-on-vault $(DESTDIR)$(PKGLIBDIR)/root-on-vault
	$(Q)for mo in $(wildcard $(BUILD)/locale/*/LC_MESSAGES/vaultctl.mo); do \
		d=$(DESTDIR)$(LOCALEDIR)/$${mo#$(BUILD)/locale/}; \
		echo "  INSTALL $$d"; \
		$(INSTALL) -d $${d%/*} && $(INSTALL) -m 644 $$mo $$d || exit 1; \
	done
	$(Q)$(INSTALL) -d $(DESTDIR)$(COMPLETIONDIR)
	$(Q)$(INSTALL) -m 644 $(REPO)/userspace/completion/vaultctl.bash $(DESTDIR)$(COMPLETIONDIR)/vaultctl
	$(Q)echo "  INSTALL man page and documentation"
	$(Q)$(INSTALL) -m 644 $(REPO)/Documentation/vaultctl.8 $(DESTDIR)$(MANDIR)/man8/vaultctl.8
	$(Q)for m in $(wildcard $(REPO)/Documentation/*/vaultctl.8); do \
		l=$${m%/vaultctl.8}; l=$${l##*/}; \
		$(INSTALL) -d $(DESTDIR)$(MANDIR)/$$l/man8 && \
		$(INSTALL) -m 644 $$m $(DESTDIR)$(MANDIR)/$$l/man8/vaultctl.8 || exit 1; \
	done
	$(Q)$(INSTALL) -m 644 $(REPO)/README.md $(wildcard $(REPO)/Documentation/*.rst) $(DESTDIR)$(DOCDIR)/
	$(Q)for d in $(wildcard $(REPO)/Documentation/*/); do \
		set -- $$d*.rst; [ -f "$$1" ] || continue; \
		l=$${d%/}; l=$${l##*/}; \
		$(INSTALL) -d $(DESTDIR)$(DOCDIR)/$$l && $(INSTALL) -m 644 "$$@" $(DESTDIR)$(DOCDIR)/$$l/ || exit 1; \
	done
	$(Q)if [ -z "$(DESTDIR)" ]; then \
		echo "install: done; after editing /etc/vaulttab run update-initramfs -u (or dracut -f)"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(PKGLIBDIR)/root-on-vault $(DESTDIR)$(COMPLETIONDIR)/vaultctl \
		$(DESTDIR)$(PKGLIBDIR)/vault-gettext.sh $(DESTDIR)$(INITRAMFSDIR)/scripts/vault-gettext
	rm -f $(DESTDIR)$(LOCALEDIR)/*/LC_MESSAGES/vaultctl.mo $(DESTDIR)$(MANDIR)/*/man8/vaultctl.8
	rm -f $(DESTDIR)$(SBINDIR)/vaultctl $(DESTDIR)$(PKGLIBDIR)/vault-unlock \
		$(DESTDIR)$(GENERATORDIR)/vault-generator $(DESTDIR)$(MANDIR)/man8/vaultctl.8 \
		$(DESTDIR)$(INITRAMFSDIR)/hooks/vault $(DESTDIR)$(INITRAMFSDIR)/scripts/local-top/vault
	rm -rf $(DESTDIR)$(DRACUTDIR) $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(PKGLIBDIR)
	$(Q)for k in $(KVERS); do \
		rm -f $(DESTDIR)$(MODDIR)/$$k/updates/dm-vault.ko; \
		if [ -z "$(DESTDIR)" ]; then depmod -a $$k; fi; \
	done

# make bench: dm-vault against dm-crypt (bench/bench.mk adds its packages).
-include $(REPO)/bench/bench.mk

# vaultctl alone (make install INSTALL_MODULE=0 needs no kernel headers).
.PHONY: vaultctl
vaultctl:
	$(Q)$(MAKE) --no-print-directory -C $(REPO)/userspace BUILD=$(BUILD) LOCALEDIR=$(LOCALEDIR)

# --- Debian packages ------------------------------------------------------

# make deb: dpkg-buildpackage -us -uc -b on a copy of the tree (the tracked
# files plus uncommitted changes, never build/ or .git) in a scratch
# directory under build/, so the source tree stays clean and two runs do
# not collide; the .debs, .buildinfo and .changes land in build/deb/.
DEB_OUT	?= $(BUILD)/deb
.PHONY: deb
deb:
	$(Q)$(REPO)/debian/build-debs "$(REPO)" "$(DEB_OUT)"
