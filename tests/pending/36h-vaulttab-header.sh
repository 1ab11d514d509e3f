#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vaulttab header=: open --all opens a LUKS2 volume whose header is detached
# (made by vaultctl format --header and by cryptsetup luksFormat --header, the
# oracle); data written through one tool reads back through the other; a
# missing header file is an error naming the file and the entry.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
need_vaultctl
need_cmd dmsetup cmp cryptsetup
WORK=$(mktemp -d /tmp/t36h.XXXXXX) || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$WORK"
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
cleanup() {
	"$VAULTCTL" close vtH >/dev/null 2>&1
	"$VAULTCTL" close vtK >/dev/null 2>&1
	cryptsetup close csH >/dev/null 2>&1
}
ktap_defer cleanup
loop_setup 20 DEV_H || ktap_fail_all "cannot set up a loop device"
loop_setup 20 DEV_K || ktap_fail_all "cannot set up a loop device"
cd "$WORK" || exit 1
printf 'pass for H' >passH; printf 'pass for K' >passK
chmod 0400 passH passK
head -c $((1 << 20)) /dev/urandom >data

ktap_check "vaultctl encrypt --header h.hdr: H's data encrypted in place" \
	eval 'dd if=data of="$DEV_H" bs=1M oflag=direct conv=fsync status=none &&
	      "$VAULTCTL" encrypt --batch-mode "${FAST[@]}" --key-file passH --header "$WORK/h.hdr" "$DEV_H"'

ktap_check "cryptsetup luksFormat --header k.hdr (K)" \
	cryptsetup luksFormat -q --type luks2 "${FAST[@]}" --key-file passK --header "$WORK/k.hdr" "$DEV_K"
ktap_check "neither device holds a LUKS2 header" eval '! cryptsetup isLuks "$DEV_H" && ! cryptsetup isLuks "$DEV_K"'
printf '%s\n' "vtH  $DEV_H  $WORK/passH  header=$WORK/h.hdr" \
	"vtK  $DEV_K  $WORK/passK  luks,header=$WORK/k.hdr" \
	"vtX  $DEV_K  $WORK/passK  header=$WORK/missing.hdr,noauto" >tab
ktap_check "tab-check accepts the file" "$VAULTCTL" tab-check --vaulttab tab
"$VAULTCTL" open --all --vaulttab tab 2>err; st=$?; sed 's/^/# err: /' err
ktap_check "open --all: exit 0, vtH and vtK open" eval '[ $st = 0 ] && [ -b /dev/mapper/vtH ] && [ -b /dev/mapper/vtK ]'
ktap_check "vtH reads back H's data from before the encryption" cmp -s -n $((1 << 20)) /dev/mapper/vtH data
ktap_check "H's device no longer holds the data in clear" eval '! cmp -s -n $((1 << 20)) "$DEV_H" data'
head -c $((1 << 20)) /dev/urandom >data
ktap_check "write through vtH and vtK" eval 'dd if=data of=/dev/mapper/vtH bs=1M oflag=direct conv=fsync status=none &&
	dd if=data of=/dev/mapper/vtK bs=1M oflag=direct conv=fsync status=none'
ktap_check "vtH maps all of the device (the header is elsewhere)" \
	eval '[ "$(blockdev --getsz /dev/mapper/vtH)" = "$(blockdev --getsz "$DEV_H")" ]'
"$VAULTCTL" close vtH; "$VAULTCTL" close vtK
ktap_check "cryptsetup open --header h.hdr reads back what vtH wrote" \
	eval 'cryptsetup open --header "$WORK/h.hdr" --key-file passH "$DEV_H" csH &&
	      cmp -s -n $((1 << 20)) /dev/mapper/csH data; r=$?; cryptsetup close csH; [ $r = 0 ]'
ktap_check "cryptsetup writes K, open --all vtK reads it back" \
	eval 'head -c $((1 << 20)) /dev/urandom >data2 &&
	      cryptsetup open --header "$WORK/k.hdr" --key-file passK "$DEV_K" csH &&
	      dd if=data2 of=/dev/mapper/csH bs=1M oflag=direct conv=fsync status=none && cryptsetup close csH &&
	      "$VAULTCTL" open --all --vaulttab tab vtK && cmp -s -n $((1 << 20)) /dev/mapper/vtK data2'
"$VAULTCTL" close vtK
"$VAULTCTL" open --all --vaulttab tab vtX 2>err; st=$?; sed 's/^/# err: /' err
ktap_check "missing header file: exit 4 (as a missing device), names the line, entry and file" \
	eval '[ $st = 4 ] && grep -q "tab:3: vtX: detached header file $WORK/missing.hdr (header=): No such file or directory" err &&
	      [ ! -b /dev/mapper/vtX ]'
ktap_finish
