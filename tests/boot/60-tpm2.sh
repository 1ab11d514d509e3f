#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Root on vault with a systemd-tpm2 token, initramfs from Debian's
# mkinitramfs with our hook, the case's software TPM as the guest's tpm-crb:
#   - the image holds the TPM path (tpm_crb, the TCTI libraries tpm2-tss
#     dlopens) and nothing secret: no key file, nothing of the sealed blob;
#   - enrolled in a guest with that TPM (PCR 7 as the firmware measured it,
#     PCR 15 zero): the root unlocks with NO console input;
#   - enrolled the same way with --tpm2-with-pin: the console asks for the
#     TPM PIN (the prompt says a wrong PIN counts against the TPM's
#     dictionary-attack protection and how many tries are left); a wrong PIN
#     is refused (counted: one try less), the PIN is asked again, the right
#     one boots it; no PIN is echoed;
#   - enrolled against PCR 7 of a TPM no firmware measured into (all zeros,
#     as after a firmware change), with a recovery key: the TPM refuses, the
#     console asks, and the recovery key boots it.
. "$(dirname "$0")/lib.sh"

boot_tpm_require
boot_prepare || ktap_fail_all "the root fs or disk image could not be made"
initrd=$(boot_pass_initrd) || ktap_fail_all "mkinitramfs failed"
ktap_check "the hook wrote no warning" not grep -a 'W: vault' "$BOOT_KDIR/initrd-pass.log"

pass=$BOOT_DIR/disk.pass
PIN='7391 boot pin'
WRONG_PIN='1426 not it'

# Enrolled in a guest on the case's TPM: the boot's PCR 7 (one disk without
# a PIN, one with).
good=$BOOT_KDIR/disk-tpm2-good.img
pinned=$BOOT_KDIR/disk-tpm2-pin.img
ktap_defer rm -f "$good" "$good.log" "$pinned"
boot_tpm2_disk "$good" --with-pin "$PIN" "$pinned"
ktap_check "vaultctl enroll --tpm2-pcrs=7 (and --tpm2-with-pin) in a guest with the case's TPM" \
	test $? -eq 0 || sed 's/^/# enroll: /' "$good.log"

# Enrolled on the host against a TPM whose PCR 7 is all zeros, with a
# recovery key (escrowed to a file).  TPM2_Shutdown last: an orderly end.
stale=$BOOT_KDIR/disk-tpm2-stale.img
rkfile=$BOOT_KDIR/disk-tpm2-stale.rk
cp --sparse=always "$BOOT_DIR/disk.img" "$stale" || ktap_fail_all "cannot copy the disk"
rm -f "$rkfile"
ktap_defer rm -f "$stale" "$rkfile"
# shellcheck disable=SC2016 # expanded by the inner shell
boot_tpm_host sh -c '"$1" enroll --tpm2-device="$BOOT_TPM_TCTI" --tpm2-pcrs=7 --recovery-key \
		--recovery-key-file "$4" --key-file "$2" "$3" && tpm2_shutdown' \
	sh "$VAULTCTL" "$pass" "$stale" "$rkfile" > "$BOOT_KDIR/tpm2-enroll-host.log" 2>&1
ktap_check "vaultctl enroll --tpm2-pcrs=7 --recovery-key on the host (PCR 7 all zeros)" \
	test $? -eq 0 -a -s "$rkfile" || sed 's/^/# enroll: /' "$BOOT_KDIR/tpm2-enroll-host.log"
rk=$(head -n 1 "$rkfile" 2>/dev/null)

# The image: the TPM path is there, no secret is.
x=$BOOT_KDIR/unpacked-tpm2
rm -rf "$x"
if unmkinitramfs "$initrd" "$x" 2>/dev/null; then
	[ -d "$x/main" ] && x=$x/main
	# (Debian's kernels build them in: then the kernel has them)
	has_driver() {
		grep -q "/$1\.ko" "/lib/modules/$BOOT_KVER/modules.builtin" ||
			[ -n "$(find "$x/usr/lib/modules/$BOOT_KVER" -name "$1.ko*")" ]
	}
	ktap_check "tpm_crb and tpm_tis are in the initramfs (or built into the kernel)" \
		eval 'has_driver tpm_crb && has_driver tpm_tis'
	ktap_check "... and the TCTI libraries tpm2-tss dlopens" eval \
		'[ -n "$(find "$x" -name libtss2-tcti-device.so.0)" ] &&
		 [ -n "$(find "$x" -name libtss2-tctildr.so.0)" ]'
	ktap_check "... and no key file" eval '[ -z "$(find "$x/etc/vault" -type f -path "*keys*")" ]'
	blob=$(cryptsetup luksDump --dump-json-metadata "$good" 2>/dev/null |
		python3 -c 'import json,sys; t=json.load(sys.stdin)["tokens"]
print(next(v["tpm2-blob"] for v in t.values() if v["type"] == "systemd-tpm2"))' 2>/dev/null)
	if [ -n "$blob" ]; then
		ktap_check "... and nothing of the sealed blob (as base64 or bytes)" \
			python3 -c 'import base64, os, sys
b64, top = sys.argv[1], sys.argv[2]
raw = base64.b64decode(b64)
needles = [b64[:40].encode(), raw[:32], raw[-32:]]
for d, _, files in os.walk(top):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        data = open(p, "rb").read()
        if any(n in data for n in needles):
            print("# found in", p)
            sys.exit(1)' "$blob" "$x"
	else
		ktap_fail "the enrolled header has a systemd-tpm2 token with a tpm2-blob"
	fi
else
	ktap_fail "unmkinitramfs $initrd"
fi
rm -rf "$BOOT_KDIR/unpacked-tpm2"

boot_new_nonce
BOOT_DISK=$good boot_qemu 60-tpm2-unattended "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail refused to unlock
fail vault: cannot unlock
expect 240 $(boot_marker)
exit 30
EOF2
ktap_check "TPM2 token: the root unlocks with no console input" test $? -eq 0

# The PIN: asked, a wrong one refused and counted, asked again, never echoed.
da="a wrong PIN counts against the TPM's dictionary-attack protection"
boot_new_nonce
BOOT_DISK=$pinned boot_qemu 60-tpm2-pin "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
fail Enter passphrase
fail refused to unlock
absent $PIN
absent $WRONG_PIN
expect 240 Enter the TPM2 PIN for $BOOT_NAME ($da; 3 of 3 tries left before the TPM locks out):
send $WRONG_PIN
expect 60 $BOOT_NAME: wrong TPM2 PIN; the TPM's dictionary-attack protection counted it: 2 of 3 tries left
expect 60 Enter the TPM2 PIN for $BOOT_NAME ($da; 2 of 3 tries left before the TPM locks out):
send $PIN
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "PIN: the console asks (DA warning, tries left), a wrong PIN is refused and counted, the PIN boots, none echoed" \
	test $? -eq 0

boot_new_nonce
BOOT_DISK=$stale boot_qemu 60-tpm2-pcr-changed "$initrd" "root=/dev/mapper/$BOOT_NAME panic=-1" <<EOF2
$BOOT_FAIL_STEPS
absent ${rk:-no recovery key}
expect 240 (systemd-tpm2) of /dev/vda refused to unlock
expect 60 Enter passphrase for $BOOT_NAME (/dev/vda):
send ${rk:-no recovery key}
expect 120 $(boot_marker)
exit 30
EOF2
ktap_check "PCR 7 changed: the TPM refuses, the console asks, the recovery key boots" test $? -eq 0
ktap_finish
