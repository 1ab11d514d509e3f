#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# dracut module "vault": unlocks dm-vault volumes from /etc/vaulttab before
# the root file system is mounted.  It takes the entries the root sits on
# and every entry marked `initramfs`, writes them to the initramfs'
# /etc/vaulttab (key files copied to /etc/vault/keys/NAME.key, mode 0400, the
# entry rewritten to point there) and adds:
#   - without systemd in the initramfs: an initqueue/settled hook that opens
#     each entry once its device shows up (vaultctl asks on the console,
#     `tries` times) and drops to dracut's emergency shell, naming the
#     volume, when one cannot be opened;
#   - with systemd: vault-generator, vault-unlock and systemd-ask-password,
#     so the same units as on the running system do it (and, for an entry
#     that needs the network, a settled hook that keeps dracut's initqueue
#     from waiting for a root that only the network can unlock).
#
# Environment overrides (tests; a normal system sets none):
#   VAULTTAB      the vaulttab to read              (default /etc/vaulttab)
#   VAULTCTL      the vaultctl binary               (default: found in PATH)
#   VAULT_MODULE  a dm-vault.ko to use when none is installed for the kernel
#   VAULT_ROOT    the root file system's source     (default: findmnt /)
#   VAULT_LOCALE_CONF  the system's locale settings  (default /etc/default/locale)
#   VAULT_LOCALEDIR    where vaultctl's catalogues are (default /usr/share/locale)
#
# dracut sets kernel, initdir, moddir, systemdutildir, ... for us:
# shellcheck disable=SC2154

vault_tab() {
    echo "${VAULTTAB:-$dracutsysrootdir/etc/vaulttab}"
}

vault_ctl() {
    if [[ $VAULTCTL ]]; then
        echo "$VAULTCTL"
    else
        command -v vaultctl || echo /usr/sbin/vaultctl
    fi
}

# The device-mapper names of DEV and of what it is stacked on.
vault_dm_names() {
    local node maj min
    node=$(readlink -f "$1" 2> /dev/null) || return 0
    [[ -b $node ]] || return 0
    # By device number: /dev/mapper/VG-LV is a node of its own, not a
    # link to dm-N, where udev does not make the links.
    read -r maj min < <(stat -L -c '%t %T' "$node") || return 0
    vault_dm_names_sys "/sys/dev/block/$((16#$maj)):$((16#$min))"
}

vault_dm_names_sys() {
    local s
    [[ -r $1/dm/name ]] && cat "$1/dm/name"
    for s in "$1"/slaves/*; do
        [[ -e $s ]] && vault_dm_names_sys "$s"
    done
    return 0
}

vault_root_names() {
    local src=${VAULT_ROOT:-}
    [[ $src ]] || src=$(findmnt -n -o SOURCE "${dracutsysrootdir:-/}" 2> /dev/null)
    case $src in
        UUID=* | LABEL=* | PARTUUID=* | PARTLABEL=*)
            src=$(blkid -l -t "$src" -o device 2> /dev/null || echo "$src")
            ;;
    esac
    [[ $src == /dev/mapper/* ]] && echo "${src#/dev/mapper/}"
    vault_dm_names "$src"
}

# Prints "LINENO NAME DEVICE KEYFILE OPTIONS" for each entry the initramfs
# needs; returns 1 when there is none.
vault_select() {
    local tab line lineno=0 roots want r found=1
    tab=$(vault_tab)
    [[ -r $tab ]] || return 1
    roots=$(vault_root_names)
    while IFS= read -r line || [[ $line ]]; do
        lineno=$((lineno + 1))
        set -f
        # shellcheck disable=SC2086
        set -- $line
        set +f
        [[ ${1:-#} == \#* ]] && continue
        want=
        for r in $roots; do
            [[ $r == "$1" ]] && want=1
        done
        [[ ,${4:-}, == *,initramfs,* ]] && want=1
        [[ $want ]] || continue
        printf '%s %s %s %s %s\n' "$lineno" "$1" "${2:-}" "${3:--}" "${4:-}"
        found=0
    done < "$tab"
    return $found
}

# called by dracut
check() {
    # Included by default only where a vaulttab entry needs it; then
    # always, even without vaultctl: a check() that says no leaves the
    # module out silently, and the image could not unlock the root.
    # installkernel() fails the build instead, saying why.
    vault_select > /dev/null && return 0
    [[ -x $(vault_ctl) ]] || {
        dwarn "$(vault_msg 'vault: vaultctl not found; dm-vault volumes cannot be unlocked')"
        return 1
    }
    return 255
}

# --- clevis (network-bound unlock, Documentation/unlocking.rst) ---
# The rule of the initramfs-tools hook: an entry with `_netdev` (systemd's
# "needs the network") or whose LUKS2 header holds a clevis token (clevis
# luks bind, vaultctl enroll --clevis) needs the network at boot.
# Not `| grep -q`: dracut runs with pipefail (see vault_tpm2).
vault_clevis_entry() {
    local dev=$1 opts=$2 node
    [[ ,$opts, == *,_netdev,* ]] && return 0
    case $dev in
        UUID=* | LABEL=* | PARTUUID=* | PARTLABEL=*)
            node=$(blkid -l -t "$dev" -o device 2> /dev/null) || return 1
            ;;
        *) node=$dev ;;
    esac
    # header=: the tokens are in the detached header file
    [[ ,$opts, =~ ,header=([^,]*), ]] && node=${BASH_REMATCH[1]}
    [[ -e $node ]] || return 1
    [[ $'\n'$("$(vault_ctl)" dump "$node" 2> /dev/null)$'\n' =~ $'\n'\ \ [0-9]+:\ clevis$'\n' ]]
}

# vault_need_net: prints the name of the first selected entry that needs
# the network; false when none does.
vault_need_net() {
    local lineno name dev key opts
    while read -r lineno name dev key opts; do
        [[ $name ]] || continue
        if vault_clevis_entry "$dev" "$opts"; then
            echo "$name"
            return 0
        fi
    done < <(vault_select)
    return 1
}

# --- PKCS#11 (an entry with pkcs11-uri=, Documentation/unlocking.rst) ---
# vault_pkcs11: a selected entry has pkcs11-uri= (a systemd-pkcs11 token).
vault_pkcs11() {
    [[ $(vault_select) == *pkcs11-uri=* ]]
}

# vault_pcscd: the path of pcscd (real cards behind a reader); false when
# it is not installed.
vault_pcscd() {
    local f
    for f in "$(command -v pcscd 2> /dev/null)" /usr/sbin/pcscd /sbin/pcscd; do
        [[ $f && -x $dracutsysrootdir$f ]] && {
            echo "$f"
            return 0
        }
    done
    return 1
}

# vault_pcsc_dracut: with systemd in the initramfs, dracut's own `pcsc`
# module runs pcscd (socket-activated units) when there is one.  Not with
# dracut's shell init: `pcsc` pulls in systemd-udevd, and with it systemd.
vault_pcsc_dracut() {
    dracut_module_included systemd && [[ -d $(dracut_module_path pcsc 2> /dev/null) ]]
}

# called by dracut
depends() {
    if vault_pkcs11 && vault_pcscd > /dev/null && vault_pcsc_dracut; then
        echo pcsc
    fi
    # network-legacy (ifup, dhclient) first: dracut's `network` takes the
    # handler already included, else systemd-networkd where the host has
    # it, which dracut's shell init cannot run.
    if vault_need_net > /dev/null; then
        echo dm rootfs-block network-legacy network
    else
        echo dm rootfs-block
    fi
    return 0
}

# vault_tpm2: vaultctl is built with TPM2 support (links libtss2-esys).
# Then the TPM drivers and the TCTI libraries tpm2-tss dlopens go in, always
# (an enrolment after this image was built must still work at boot); they
# hold no secret: the sealed key stays in the LUKS2 header.
# Not `ldd | grep -q`: dracut runs with pipefail, and grep -q stopping at
# the first match can kill ldd by SIGPIPE, making this false at random.
vault_tpm2() {
    [[ $(ldd "$(vault_ctl)" 2> /dev/null) == *libtss2-esys* ]]
}

# vault_cannot WHY: the root or an `initramfs` entry needs dm-vault, but
# something is missing for $kernel (WHY, a whole translated sentence, says
# what).  Says what to do; installkernel() then
# returns 1, and dracut 059 stops on that (dfatal "installkernel failed",
# exit 1) before it writes the image, so the previous initramfs stays.
# (install()'s status is ignored by dracut, and check() returning 1 only
# leaves the module out: neither can stop the build.)
vault_cannot() {
    derror "$1"
    derror "$(vault_msg 'vault: an initramfs for kernel $kernel could not unlock it, so none is built.')"
    derror "$(vault_msg 'vault: install dm-vault-dkms, vaultctl and linux-headers-$kernel, run "dkms autoinstall -k $kernel" (the log of a failed build: /var/lib/dkms/dm-vault/*/build/make.log), then rebuild the initramfs (dracut -f --kver $kernel).')"
}

# called by dracut
installkernel() {
    local ko ctl tab need=
    vault_select > /dev/null && need=1
    # dm-vault uses the kernel's crypto API: take what a volume may use.
    hostonly='' instmods dm-mod "=crypto" aesni_intel sha256_ssse3 sha512_ssse3
    if vault_tpm2; then
        hostonly='' instmods tpm_crb tpm_tis tpm_tis_core
    fi
    # A CCID reader: the USB host controllers (usbhid for readers with a
    # keypad that also show up as HID).
    if vault_pkcs11 && vault_pcscd > /dev/null; then
        hostonly='' instmods xhci_pci ehci_pci ohci_pci uhci_hcd usbhid hid_generic
    fi
    if [[ $need ]] && [[ ! -x $(vault_ctl) ]]; then
        ctl=$(vault_ctl) tab=$(vault_tab)
        vault_cannot "$(vault_msg 'vault: vaultctl ($ctl) is not installed, but the root or an entry of $tab marked initramfs is on dm-vault.')"
        return 1
    fi
    if modinfo -k "$kernel" dm-vault > /dev/null 2>&1; then
        instmods dm-vault
    elif [[ $VAULT_MODULE ]]; then
        ko=/lib/modules/$kernel/updates/dm-vault.ko
        inst_simple "$VAULT_MODULE" "$ko" || {
            derror "$(vault_msg 'vault: cannot copy $VAULT_MODULE into the initramfs')"
            return 1
        }
    elif [[ $need ]]; then
        tab=$(vault_tab)
        vault_cannot "$(vault_msg 'vault: kernel $kernel has no dm-vault.ko, but the root or an entry of $tab marked initramfs is on dm-vault.')"
        return 1
    else
        dwarn "$(vault_msg 'vault: kernel $kernel has no dm-vault.ko; no vault volume needs this initramfs')"
    fi
    return 0
}

# vault_fatal MSG...: stops dracut.  dracut 059 ignores install()'s
# status: a `return 1` there would leave an image without the unlock hook
# or with a broken vaulttab, and the build would "succeed".  dracut itself
# stops this way (dfatal, exit 1) before it writes the image, so the
# previous initramfs stays.
vault_fatal() {
    local m
    for m in "$@"; do
        derror "$m"
    done
    local tab
    tab=$(vault_tab)
    dfatal "$(vault_msg 'vault: not building an initramfs that could not unlock the volumes of $tab')"
    exit 1
}

# vault_key_install NAME KEYFILE: copies a key file (or names a key device)
# and prints the path to write into the initramfs' vaulttab.
vault_key_install() {
    local name=$1 key=$2 mode dst
    case $key in
        - | none)
            echo "$key"
            return 0
            ;;
        /dev/*)
            # A key on a device (a USB stick): read there at boot.
            echo "$key"
            return 0
            ;;
    esac
    [[ -f $key ]] || {
        derror "$(vault_msg 'vault: $name: key file $key does not exist')"
        return 1
    }
    mode=$(stat -c %a "$key")
    # Group or others may read it: then it may be readable elsewhere too.
    if (((8#$mode & 8#077) != 0)); then
        dwarn "$(vault_msg 'vault: $name: key file $key has mode $mode; it should be 0400 (root only)')"
    fi
    dst=/etc/vault/keys/$name.key
    inst_simple "$key" "$dst" || return 1
    chmod 0400 "$initdir$dst"
    echo "$dst"
}

# vault_header_install NAME OPTS: copies the detached LUKS2 header an
# entry's header= names to /etc/vault/headers/NAME.hdr (0400) and prints
# OPTS with header= pointing there (OPTS as they are without header=).
# The volume cannot be opened without its header: a missing one is an error.
vault_header_install() {
    local name=$1 opts=$2 o hdr='' out='' dst=/etc/vault/headers/$1.hdr
    local -a parts
    # (IFS only for the split: inst_simple and vault_msg need dracut's own)
    IFS=, read -r -a parts <<< "$opts"
    for o in "${parts[@]}"; do
        [[ $o == header=* ]] && hdr=${o#header=}
    done
    if [[ -z $hdr ]]; then
        echo "$opts"
        return 0
    fi
    [[ -f $hdr ]] || {
        derror "$(vault_msg 'vault: $name: detached header file $hdr (header=) does not exist')"
        return 1
    }
    mkdir -p "$initdir/etc/vault/headers" && chmod 0700 "$initdir/etc/vault/headers" &&
        inst_simple "$hdr" "$dst" && chmod 0400 "$initdir$dst" || return 1
    for o in "${parts[@]}"; do
        [[ $o == header=* ]] && o=header=$dst
        out=${out:+$out,}$o
    done
    echo "$out"
}

# vault_msg MSGID: MSGID in the language of whoever runs dracut (their
# LANG), its $variables filled in: eval_gettext from vault-gettext.sh, in a
# subshell (its exports and functions stay out of dracut).  xgettext reads
# vault_msg as a keyword (userspace/Makefile).
vault_msg() {
    (
        # shellcheck source=../../vault-gettext.sh
        . "$(vault_systemd_file vault-gettext.sh)" && eval_gettext "$1"
    )
}

# The installed copy of a file from userspace/boot/systemd/ (or of
# userspace/boot/vault-gettext.sh), else the repository's (this module run
# from a source tree).
vault_systemd_file() {
    local f
    # (make install puts the generator in PREFIX/lib/systemd/, next to
    # PREFIX/lib/dm-vault, and rewrites /usr/lib/dm-vault for PREFIX)
    case $1 in
        system-generators/*) f=$dracutsysrootdir/usr/lib/dm-vault/../systemd/$1 ;;
        *) f=$dracutsysrootdir/usr/lib/dm-vault/$1 ;;
    esac
    if [[ ! -e $f ]]; then
        case $1 in
            vault-gettext.sh) f=$moddir/../../$1 ;;
            *) f=$moddir/../../systemd/${1##*/} ;;
        esac
    fi
    echo "$f"
}

# vault_install_language: the prompts at boot in the system's language, as
# the initramfs-tools hook does it (hooks/vault, "language"): LANGUAGE's
# list, then LANG, from /etc/default/locale, each as ll_CC then ll; the
# first with a vaultctl catalogue is carried with glibc's C.UTF-8 locale and
# gettext.sh, and /etc/vault/locale names it for vault-dracut-open and
# vault-unlock.  No catalogue (English, C): nothing is added.
vault_install_language() {
    local conf=${VAULT_LOCALE_CONF:-$dracutsysrootdir/etc/default/locale}
    local dir=${VAULT_LOCALEDIR:-$dracutsysrootdir/usr/share/locale}
    local c_utf8=$dracutsysrootdir/usr/lib/locale/C.utf8 langs l c lang=
    [[ -r $conf ]] || return 0
    langs="$(sed -n "s/^[[:space:]]*LANGUAGE=[\"']\{0,1\}\([^\"' ]*\).*/\1/p" "$conf" | tail -n 1 | tr ':' ' ')"
    langs+=" $(sed -n "s/^[[:space:]]*LANG=[\"']\{0,1\}\([^\"' ]*\).*/\1/p" "$conf" | tail -n 1)"
    for l in $langs; do
        l=${l%%.*}
        l=${l%%@*}
        [[ $l == C || $l == POSIX || -z $l || $l == *[!A-Za-z_]* ]] && continue
        for c in "$l" "${l%%_*}"; do
            if [[ -f $dir/$c/LC_MESSAGES/vaultctl.mo ]]; then
                lang=$c
                break 2
            fi
        done
    done
    [[ $lang ]] || return 0
    if [[ ! -d $c_utf8 ]]; then
        dwarn "$(vault_msg 'vault: $c_utf8 is missing (libc-bin): the prompts at boot stay in English')"
        return 0
    fi
    inst_simple "$dir/$lang/LC_MESSAGES/vaultctl.mo" "/usr/share/locale/$lang/LC_MESSAGES/vaultctl.mo" &&
        mkdir -p "$initdir/usr/lib/locale" "$initdir/etc/vault" &&
        cp -a "$c_utf8" "$initdir/usr/lib/locale/" &&
        printf 'LANGUAGE=%s\nLC_ALL=C.UTF-8\n' "$lang" > "$initdir/etc/vault/locale" ||
        vault_fatal "$(vault_msg 'vault: cannot put the $lang catalogue into the initramfs')"
    inst_multiple -o gettext envsubst gettext.sh
}

# called by dracut
install() {
    local ctl sel lineno name dev key opts newkey tab
    ctl=$(vault_ctl)
    tab=$(vault_tab)
    if [[ ! -x $ctl ]] && vault_select > /dev/null; then
        vault_cannot "$(vault_msg 'vault: vaultctl ($ctl) is not installed, but the root or an entry of $tab marked initramfs is on dm-vault.')"
        vault_fatal
    fi
    inst_binary "$ctl" /usr/sbin/vaultctl || vault_fatal "$(vault_msg 'vault: cannot install $ctl')"
    vault_install_language

    if vault_tpm2; then
        # The loader finds libtss2-tcti-device.so.0 by name with dlopen().
        inst_libdir_file "libtss2-tctildr.so.*" "libtss2-tcti-device.so.*" || {
            dwarn "$(vault_msg 'vault: the tpm2-tss TCTI libraries were not found: no TPM2 unlock at boot')"
        }
        mkdir -p "$initdir/etc/vault"
        : > "$initdir/etc/vault/tpm2"
    fi

    sel=$(vault_select) || {
        dwarn "$(vault_msg 'vault: no entry of $tab is needed for the root or marked initramfs')"
        sel=
    }
    mkdir -p "$initdir/etc/vault/keys"
    chmod 0700 "$initdir/etc/vault" "$initdir/etc/vault/keys"
    : > "$initdir/etc/vaulttab"
    while read -r lineno name dev key opts; do
        [[ $name ]] || continue
        newkey=$(vault_key_install "$name" "$key") ||
            vault_fatal "$(vault_msg 'vault: $tab:$lineno: $name: cannot put its key file into the initramfs')"
        # A clevis token found in the header: the image's entry says
        # _netdev, so that with systemd its unit waits for the network too.
        if [[ ,$opts, != *,_netdev,* ]] && vault_clevis_entry "$dev" "$opts"; then
            opts=${opts:+$opts,}_netdev
        fi
        opts=$(vault_header_install "$name" "$opts") ||
            vault_fatal "$(vault_msg 'vault: $tab:$lineno: $name: cannot put its detached header file into the initramfs')"
        printf '%s %s %s %s\n' "$name" "$dev" "$newkey" "$opts" >> "$initdir/etc/vaulttab"
    done <<< "$sel"
    chmod 0644 "$initdir/etc/vaulttab"

    # Check the entries as vaultctl will read them (key files are at their
    # initramfs path, so only the syntax is checked here).
    if [[ -s $initdir/etc/vaulttab ]] && [[ $("$ctl" help 2> /dev/null) == *tab-check* ]]; then
        local out
        if ! out=$("$ctl" tab-check --vaulttab "$initdir/etc/vaulttab" 2>&1); then
            vault_fatal "$(vault_msg 'vault: the entries taken from $tab are not valid:')" "$out"
        fi
    fi

    vault_install_clevis
    vault_install_pkcs11
    # the boot scripts' messages (English, or the language installed above)
    inst_simple "$(vault_systemd_file vault-gettext.sh)" /usr/lib/dm-vault/vault-gettext.sh

    if dracut_module_included "systemd"; then
        inst_script "$(vault_systemd_file system-generators/vault-generator)" \
            "$systemdutildir/system-generators/vault-generator"
        inst_script "$(vault_systemd_file vault-unlock)" /usr/lib/dm-vault/vault-unlock
        inst_multiple -o \
            "$systemdsystemunitdir"/systemd-ask-password-console.path \
            "$systemdsystemunitdir"/systemd-ask-password-console.service \
            "$systemdsystemunitdir"/cryptsetup.target \
            "$systemdsystemunitdir"/sysinit.target.wants/cryptsetup.target \
            systemd-ask-password systemd-tty-ask-password-agent systemd-escape
        # A `_netdev` unit runs after dracut's initqueue: that must not
        # wait for the root device (vault-netdev-root.sh says why).
        if vault_need_net > /dev/null; then
            inst_hook initqueue/settled 50 "$moddir/vault-netdev-root.sh"
        fi
    else
        inst_script "$moddir/vault-dracut-open" /sbin/vault-dracut-open
        inst_hook initqueue/settled 50 "$moddir/vault-settled.sh"
        inst_multiple -o blkid
        dracut_need_initqueue
    fi
}

# vault_install_clevis: for an entry that needs the network, clevis, its
# pins, jose, curl and bash (clevis is bash scripts) with their libraries,
# the resolver's (host names in tang URLs), rd.neednet=1 (dracut's
# network-legacy then runs DHCP on every interface unless ip= says
# otherwise) and /etc/vault/network, which makes vault-dracut-open wait
# for the network before unlocking.  Nothing secret: the JWE stays in the
# header.  The list is the initramfs-tools hook's.
vault_install_clevis() {
    local need clevis_bin f
    need=$(vault_need_net) || return 0
    clevis_bin=$(command -v clevis) || {
        dwarn "$(vault_msg 'vault: $need needs the network (_netdev or a clevis token) but clevis is not installed: it will ask for its passphrase at boot')"
        return 0
    }
    for f in "$clevis_bin" "${clevis_bin%/*}"/clevis-decrypt "${clevis_bin%/*}"/clevis-decrypt-*; do
        [[ -x $f ]] && inst_script "$f" "$f"
    done
    inst_multiple bash jose curl cat mkdir mktemp rm ||
        dwarn "$(vault_msg 'vault: bash, jose or curl is missing: clevis cannot run at boot')"
    # only the tpm2 pin needs them
    inst_multiple -o tpm2_createprimary tpm2_flushcontext tpm2_load tpm2_unseal
    inst_libdir_file "libnss_dns.so.*" "libnss_files.so.*"
    mkdir -p "$initdir/etc/cmdline.d"
    echo "rd.neednet=1" > "$initdir/etc/cmdline.d/90vault-net.conf"
    mkdir -p "$initdir/etc/vault"
    : > "$initdir/etc/vault/network"
}

# vault_inst_so FILE: installs the shared object FILE and every library
# it needs (ldd lists them all).  dracut-install resolves the libraries
# of executable files only, and these modules are mode 0644.
vault_inst_so() {
    local lib
    inst_library "$1" || return 1
    while read -r lib; do
        inst_library "$lib" || return 1
    done < <(ldd "$1" 2> /dev/null | awk '$3 ~ /^\// { print $3 }')
}

# vault_install_pkcs11: for an entry with pkcs11-uri=, what the
# initramfs-tools hook adds: p11-kit's .module files and the PKCS#11
# modules they name (vaultctl finds tokens through p11-kit's registry; its
# trust store holds no token and is left out), and for real cards pcscd,
# libpcsclite and the reader drivers (libccid, its Info.plist: dracut 059's
# `pcsc` module looks for them in the library directory, not in Debian's
# /usr/lib/pcsc/drivers, and misses them).  With dracut's `pcsc` (systemd
# initramfs) its units run pcscd; else /etc/vault/pcscd makes
# vault-dracut-open start pcscd before vaultctl and stop it after.
vault_install_pkcs11() {
    local p11dir conf mod pcscd dir f tab drivers=0
    vault_pkcs11 || return 0
    p11dir=$(ldd "$(vault_ctl)" 2> /dev/null | awk '/libp11-kit/ { print $3; exit }')
    p11dir=${p11dir%/*}/pkcs11
    for conf in "$dracutsysrootdir"/usr/share/p11-kit/modules/*.module \
        "$dracutsysrootdir"/etc/pkcs11/modules/*.module; do
        [[ -f $conf ]] || continue
        grep -q '^trust-policy: *yes' "$conf" && continue
        mod=$(sed -n '/^module:/{s/^module: *//p;q}' "$conf")
        case $mod in
            "") continue ;;
            /*) ;;
            *) mod=$p11dir/$mod ;;
        esac
        if [[ ! -e $dracutsysrootdir$mod ]]; then
            dwarn "$(vault_msg 'vault: $conf names $mod, which does not exist: its tokens cannot be used at boot')"
            continue
        fi
        if ! inst_simple "$conf" "${conf#"$dracutsysrootdir"}" || ! vault_inst_so "$mod"; then
            vault_fatal "$(vault_msg 'vault: cannot copy the PKCS#11 module $mod into the initramfs')"
        fi
    done

    pcscd=$(vault_pcscd) || {
        tab=$(vault_tab)
        dwarn "$(vault_msg 'vault: an entry of $tab has pkcs11-uri= but pcscd is not installed: smartcards and USB tokens behind a reader will not work at boot (apt install pcscd libccid)')"
        return 0
    }
    inst_binary "$pcscd" /usr/sbin/pcscd || vault_fatal "$(vault_msg 'vault: cannot install $pcscd')"
    # opensc dlopen()s libpcsclite.so.1 (the client of pcscd's socket):
    # ldd of its module does not show it.
    inst_libdir_file "libpcsclite.so.1*" ||
        dwarn "$(vault_msg 'vault: libpcsclite.so.1 not found (apt install libpcsclite1): opensc cannot reach pcscd at boot')"
    for dir in /usr/lib/pcsc/drivers /usr/lib64/pcsc/drivers; do
        [[ -d $dracutsysrootdir$dir ]] || continue
        while IFS= read -r f; do
            case $f in
                *.so*)
                    vault_inst_so "$f" || vault_fatal "$(vault_msg 'vault: cannot install $f')"
                    drivers=$((drivers + 1))
                    ;;
                *) inst_simple "$f" || vault_fatal "$(vault_msg 'vault: cannot install $f')" ;;
            esac
        done < <(find "$dracutsysrootdir$dir" \( -type f -o -type l \) \( -name '*.so*' -o -name Info.plist \) |
            sed "s|^$dracutsysrootdir||")
    done
    ((drivers > 0)) ||
        dwarn "$(vault_msg 'vault: pcscd has no reader driver (/usr/lib/pcsc/drivers is empty): install libccid for USB CCID readers')"
    # With dracut's `pcsc`, its socket unit starts pcscd when vaultctl
    # connects; otherwise vault-dracut-open does.
    vault_pcsc_dracut && return 0
    mkdir -p "$initdir/etc/vault"
    : > "$initdir/etc/vault/pcscd"
}
