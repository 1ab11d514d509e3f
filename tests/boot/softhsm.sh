# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/boot/softhsm.sh - a SoftHSM2 token for the PKCS#11 boot cases
# (62-pkcs11, 63-dracut-pkcs11), sourced after lib.sh:
#   softhsm_token DIR PIN  makes DIR/cpio/etc/softhsm/ (softhsm2.conf and
#                    a token "boot" holding an RSA key and its certificate,
#                    id 01, user PIN PIN) laid out as the guest sees it, to be
#                    appended to an initramfs as a second cpio archive (as a
#                    card would be plugged in).  Exports SOFTHSM2_CONF for
#                    the host's view of the token.  Returns 1 on failure.
#   softhsm_append IMG DIR OUT  OUT: IMG followed by DIR/cpio as a cpio archive.
# SOFTHSM_MODULE is the module p11-kit's softhsm2.module names ("" if none).

SOFTHSM_MODULE=$(sed -n 's/^module: *//p' /usr/share/p11-kit/modules/softhsm2.module 2>/dev/null)

softhsm_token() {
	local dir=$1 pin=$2
	mkdir -p "$dir/cpio/etc/softhsm/tokens" || return 1
	printf 'directories.tokendir = /etc/softhsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		> "$dir/cpio/etc/softhsm/softhsm2.conf"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$dir/cpio/etc/softhsm/tokens" > "$dir/host.conf"
	export SOFTHSM2_CONF=$dir/host.conf
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/k.pem" -outform der \
		-out "$dir/c.der" -subj /CN=boot -days 30 2>/dev/null &&
		softhsm2-util --init-token --free --label boot --pin "$pin" --so-pin 5678 >/dev/null &&
		softhsm2-util --import "$dir/k.pem" --token boot --label key --id 01 --pin "$pin" >/dev/null &&
		pkcs11-tool --module "$SOFTHSM_MODULE" --token-label boot --login --pin "$pin" \
			--write-object "$dir/c.der" --type cert --id 01 --label cert >/dev/null 2>&1
	local rc=$?
	rm -f "$dir/k.pem"
	return $rc
}

softhsm_append() {
	{ cat "$1" && (cd "$2/cpio" && find . | cpio -o -H newc --quiet | gzip -1); } > "$3"
}
