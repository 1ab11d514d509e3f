#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Secure Boot signing (Documentation/secure-boot.rst): the real DKMS
# (/usr/sbin/dkms) builds dm-vault from the source tree and dkms.conf the
# dm-vault-dkms package ships (`make deb`, then dpkg-deb -x), for each
# kernel with headers, and signs it with the MOK
# key at its default place, /var/lib/dkms/mok.key + mok.pub.  The test runs
# in a private mount namespace where /var/lib/dkms and /etc/dkms are
# temporary directories (the host's are never touched) and DKMS's own
# trees are under the same temporary directory; nothing is installed.
# For each kernel it checks:
#   - modinfo's signer is the test MOK's CN, sig_key its serial, and
#     sig_hashalgo the kernel's CONFIG_MODULE_SIG_HASH;
#   - the PKCS#7 signature at the module's tail (struct module_signature
#     before "~Module signature appended~\n") verifies with `openssl cms`
#     against the MOK certificate and the module's content, and fails
#     against an impostor certificate (same subject and serial, another
#     key) and for the module with one byte changed.
# And once: without a key DKMS makes one ("DKMS module signing key") and
# signs with it; after a key rotation `dkms build --force` signs with the
# new key.  Prints KTAP.  Usage: module-signing.sh [VAULTCTL]
# Environment: VAULT_SIGN_KVERS  the kernels (default: every
#              /lib/modules/*/build with a Makefile)

# Run by run-tests.sh with sh: the rest wants bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MARKER='~Module signature appended~'

# --- outside: a temporary directory, then the test in its own namespace ---
if [ "${1:-}" != --inner ]; then
	echo "KTAP version 1"
	why="" dep=""
	[ "$(id -u)" = 0 ] || why="needs root"
	unshare -m --propagation private true 2>/dev/null || why=${why:-"no mount namespaces"}
	for c in dkms openssl modinfo dpkg-buildpackage dpkg-deb; do
		command -v "$c" >/dev/null || dep="${dep:-$c is not installed (make deps)}"
	done
	if [ -n "$why$dep" ]; then
		echo "1..1"
		# A missing declared dependency fails under VAULT_STRICT_DEPS=1.
		if [ -z "$why" ] && [ "${VAULT_STRICT_DEPS:-0}" = 1 ]; then
			echo "not ok 1 module signing"
			echo "# $dep (a declared dependency, VAULT_STRICT_DEPS=1)"
			exit 1
		fi
		echo "ok 1 module signing # SKIP ${why:-$dep}"
		exit 0
	fi
	T=$(mktemp -d /tmp/vault-sign.XXXXXX) || exit 1
	trap 'rm -rf "$T"' EXIT
	unshare -m --propagation private bash "$0" --inner "$T"
	exit
fi

T=$2
n=0; pass=0; fail=0
ok()  { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
# check DESC CMD...: ok when CMD succeeds, else nok and CMD's output.
check() {
	local d=$1
	shift
	if "$@" >"$T/out" 2>&1; then
		ok "$d"
	else
		nok "$d"
		sed 's/^/# /' "$T/out" | tail -n 20
	fi
}
# refuses DESC ERE CMD...: ok when CMD fails and says ERE.
refuses() {
	local d=$1 re=$2
	shift 2
	if "$@" >"$T/out" 2>&1; then
		nok "$d"
		echo "# succeeded, but must fail: $*"
	elif grep -qE -- "$re" "$T/out"; then
		ok "$d"
	else
		nok "$d"
		echo "# failed, but without \"$re\":"
		sed 's/^/# /' "$T/out" | tail -n 20
	fi
}
# eq WHAT GOT WANT
eq() {
	[ "$2" = "$3" ] && return 0
	echo "$1: \"$2\", expected \"$3\""
	return 1
}

if [ -n "${VAULT_SIGN_KVERS:-}" ]; then
	read -r -a kvers <<<"$VAULT_SIGN_KVERS"
else
	kvers=()
	for d in /lib/modules/*/build/Makefile; do
		[ -e "$d" ] || continue
		d=${d%/build/Makefile}
		kvers+=("${d##*/}")
	done
fi
# Per kernel: 7 checks; plus 2 for the generated key, 2 for a rotation.
echo "1..$((${#kvers[@]} * 7 + 4))"
[ "${#kvers[@]}" -gt 0 ] || echo "# no kernel headers in /lib/modules/*/build"

# DKMS reads its framework configuration and the MOK from fixed paths:
# an empty configuration (the host's cannot redirect anything) and an
# empty /var/lib/dkms, both private to this namespace.
mkdir -p "$T/etc/framework.conf.d" "$T/varlib" "$T/src" "$T/tree"
: > "$T/etc/framework.conf"
if ! mount --bind "$T/etc" /etc/dkms || ! mount --bind "$T/varlib" /var/lib/dkms; then
	echo "# cannot bind-mount over /etc/dkms and /var/lib/dkms"
	exit 1
fi

# The source tree as dm-vault-dkms installs it in /usr/src/dm-vault-VERSION
# (from the package `make deb` makes: what ships is what is tested).
# shellcheck source=userspace/tests/dkms-source.sh
. "$HERE/dkms-source.sh"
ver=$(dkms_source "$REPO" "$T/src" 2>"$T/out") || {
	sed 's/^/# /' "$T/out"
	echo "# cannot make the DKMS source tree (make deb)"
	exit 1
}
echo "# dm-vault-dkms $ver: $(grep -c . "$T/src/dm-vault-$ver/dkms.conf") lines of dkms.conf"
DKMS=(dkms --sourcetree "$T/src" --dkmstree "$T/tree" --installtree "$T/install")
if ! "${DKMS[@]}" add -m dm-vault -v "$ver" >"$T/add.log" 2>&1; then
	sed 's/^/# /' "$T/add.log"
	echo "# dkms add failed"
	exit 1
fi

# A MOK key pair made as DKMS makes it, with a CN of the test's own.
CN="dm-vault test MOK $$"
openssl req -new -x509 -nodes -days 36500 -subj "/CN=$CN" \
	-newkey rsa:2048 -keyout /var/lib/dkms/mok.key \
	-outform DER -out /var/lib/dkms/mok.pub >/dev/null 2>&1 || {
	echo "# openssl cannot make a key pair"
	exit 1
}
openssl x509 -inform DER -in /var/lib/dkms/mok.pub -out "$T/mok.pem"
serial=$(openssl x509 -in "$T/mok.pem" -noout -serial | cut -d= -f2)
# The impostor: same subject and serial (so openssl takes it for the
# signer), another key: only the signature itself can tell them apart.
openssl req -new -x509 -nodes -days 1 -subj "/CN=$CN" -set_serial "0x$serial" \
	-newkey rsa:2048 -keyout "$T/other.key" -out "$T/other.pem" >/dev/null 2>&1

# build KVER: dkms build; sets ko to the module it keeps (uncompressed
# into $T/KVER.ko).
build() {
	local k=$1 f
	rm -rf "$T/tree/dm-vault/$ver/$k"
	ko=
	"${DKMS[@]}" build -m dm-vault -v "$ver" -k "$k" >"$T/build.log" 2>&1 || {
		sed 's/^/# /' "$T/build.log" | tail -n 30
		return 1
	}
	f=$(find "$T/tree/dm-vault/$ver/$k" -path '*/module/dm-vault.ko*' | head -n 1)
	case $f in
	*.ko) cp "$f" "$T/$k.ko" ;;
	*.ko.xz) xz -dc "$f" > "$T/$k.ko" ;;
	*.ko.gz) gzip -dc "$f" > "$T/$k.ko" ;;
	*.ko.zst) zstd -qdc "$f" > "$T/$k.ko" ;;
	*) echo "# dkms kept no dm-vault.ko for $k"; return 1 ;;
	esac || return 1
	ko=$T/$k.ko
}

# split KO: the signed content into $T/body, the PKCS#7 into $T/sig.
split() {
	local size a
	size=$(stat -c %s "$1")
	if [ "$size" -le 40 ] || [ "$(tail -c 28 "$1" | head -c 27)" != "$MARKER" ]; then
		echo "no \"$MARKER\" at the end of $1"
		return 1
	fi
	# struct module_signature: algo, hash, id_type, signer_len,
	# key_id_len, __pad[3], sig_len (big-endian 32 bits).
	read -r -a a < <(od -An -tu1 -j $((size - 40)) -N 12 "$1")
	eq "id_type (PKEY_ID_PKCS7)" "${a[2]}" 2 || return 1
	siglen=$(((a[8] << 24) | (a[9] << 16) | (a[10] << 8) | a[11]))
	if [ "$siglen" -le 0 ] || [ "$siglen" -ge $((size - 40)) ]; then
		echo "sig_len $siglen out of range"
		return 1
	fi
	head -c $((size - 40 - siglen)) "$1" > "$T/body"
	tail -c +$((size - 40 - siglen + 1)) "$1" | head -c "$siglen" > "$T/sig"
}

# verify CERT BODY: the signature in $T/sig over BODY, by CERT alone.
verify() {
	openssl cms -verify -binary -inform DER -in "$T/sig" -content "$2" \
		-certfile "$1" -nointern -CAfile "$1" -purpose any -out /dev/null
}

# modinfo_is KO FIELD WANT
modinfo_is() {
	eq "modinfo $2" "$(modinfo -F "$2" "$1")" "$3"
}

for k in "${kvers[@]}"; do
	hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"/\1/p' "/lib/modules/$k/build/.config" 2>/dev/null)
	if ! build "$k"; then
		nok "$k: dkms builds dm-vault.ko"
		for c in signer sig_key sig_hashalgo verify impostor flipped; do
			nok "$k: $c (not built)"
		done
		continue
	fi
	grep -E '^(Sign command|Signing key):' "$T/build.log" | sed "s/^/# $k: /"
	check "$k: dkms signs with /var/lib/dkms/mok.key" \
		grep -q "^Signing module .*dm-vault.ko" "$T/build.log"
	check "$k: modinfo signer is the MOK's CN" modinfo_is "$ko" signer "$CN"
	check "$k: modinfo sig_key is the MOK's serial" modinfo_is "$ko" sig_key \
		"$(sed 's/../&:/g; s/:$//' <<<"$serial")"
	check "$k: sig_hashalgo is the kernel's CONFIG_MODULE_SIG_HASH" \
		modinfo_is "$ko" sig_hashalgo "${hash:-unknown}"
	if split "$ko" >"$T/out" 2>&1; then
		check "$k: the signature verifies against the MOK certificate" \
			verify "$T/mok.pem" "$T/body"
		refuses "$k: and fails against an impostor certificate" \
			"verification failure" verify "$T/other.pem" "$T/body"
		# One byte in the middle of the content, changed.
		cp "$T/body" "$T/flip"
		off=$(($(stat -c %s "$T/flip") / 2))
		b=$(od -An -tu1 -j "$off" -N 1 "$T/flip" | tr -d ' ')
		printf '%b' "\\0$(printf '%03o' $(((b ^ 1) & 255)))" |
			dd of="$T/flip" bs=1 seek="$off" conv=notrunc 2>/dev/null
		if cmp -s "$T/body" "$T/flip"; then
			nok "$k: and fails for the module with one byte changed"
			echo "# the byte at $off did not change"
		else
			refuses "$k: and fails for the module with one byte changed" \
				"verification failure" verify "$T/mok.pem" "$T/flip"
		fi
	else
		sed 's/^/# /' "$T/out"
		nok "$k: the signature verifies against the MOK certificate"
		nok "$k: and fails against an impostor certificate"
		nok "$k: and fails for the module with one byte changed"
	fi
done

# Without a key pair DKMS makes one (Documentation/secure-boot.rst says
# so) and signs with it.
if [ "${#kvers[@]}" -gt 0 ]; then
	k=${kvers[0]}
	rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	if build "$k"; then
		check "$k: without a MOK, dkms makes /var/lib/dkms/mok.key and mok.pub" \
			test -s /var/lib/dkms/mok.key -a -s /var/lib/dkms/mok.pub
		check "$k: and signs with it" modinfo_is "$ko" signer "DKMS module signing key"
	else
		nok "$k: without a MOK, dkms makes /var/lib/dkms/mok.key and mok.pub"
		nok "$k: and signs with it"
	fi
	# Key rotation (the documented steps): a new pair in place, then
	# `dkms build --force` signs with it (without --force dkms keeps the
	# build it has, signed with the old key).
	openssl req -new -x509 -nodes -days 36500 -subj "/CN=$CN rotated" \
		-newkey rsa:2048 -keyout /var/lib/dkms/mok.key \
		-outform DER -out /var/lib/dkms/mok.pub >/dev/null 2>&1
	"${DKMS[@]}" build -m dm-vault -v "$ver" -k "$k" >"$T/build.log" 2>&1
	f=$(find "$T/tree/dm-vault/$ver/$k" -path '*/module/dm-vault.ko*' | head -n 1)
	check "$k: dkms build without --force keeps the old signature" \
		modinfo_is "$f" signer "DKMS module signing key"
	"${DKMS[@]}" build --force -m dm-vault -v "$ver" -k "$k" >"$T/build.log" 2>&1
	f=$(find "$T/tree/dm-vault/$ver/$k" -path '*/module/dm-vault.ko*' | head -n 1)
	check "$k: after a key rotation, dkms build --force signs with the new key" \
		modinfo_is "$f" signer "$CN rotated"
else
	for _ in 1 2 3 4; do nok "no kernel to build for"; done
fi

echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
