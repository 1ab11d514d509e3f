#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Tests of the vaultctl binary that need no kernel module: help texts, exit
# codes and messages for bad command lines, the root check, key file and
# device checks.  Prints KTAP.  Usage: cli.sh VAULTCTL
# $VALGRIND_CMD, when set, prefixes every vaultctl run.

VAULTCTL=${1:?usage: cli.sh VAULTCTL}
T=$(mktemp -d /tmp/vaultctl-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT

n=0; pass=0; fail=0; skip=0
OUT=$T/out; ERR=$T/err

ok()   { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok()  { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"
	 sed 's/^/# stdout: /' "$OUT"; sed 's/^/# stderr: /' "$ERR"; }
skp()  { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }

# run ARGS...: runs vaultctl, status in $rc
run() { $VALGRIND_CMD "$VAULTCTL" "$@" >"$OUT" 2>"$ERR" </dev/null; rc=$?; }

# expect NAME RC GREP-IN-STDOUT-OR-STDERR ARGS...
expect() {
	name=$1 want=$2 pat=$3; shift 3
	run "$@"
	if [ "$rc" -eq "$want" ] && { [ -z "$pat" ] || cat "$OUT" "$ERR" | grep -q -- "$pat"; }; then
		ok "$name"
	else
		echo "# vaultctl $* exited $rc (wanted $want), looked for '$pat'"
		nok "$name"
	fi
}

expect "global --help" 0 "Usage: vaultctl \[OPTIONS\] COMMAND" --help
expect "global -h" 0 "Commands:" -h
expect "help command" 0 "Usage: vaultctl" help
for cmd in open close status suspend resume resize "key add" "key remove" "key list" version \
	   format add-key remove-key change-key kill-slot dump header-backup header-restore \
	   uuid is-luks erase repair; do
	# shellcheck disable=SC2086 # "key add" must split into two words
	expect "$cmd --help" 0 "Usage: vaultctl $cmd" $cmd --help
done
expect "help open lists plain options" 0 "--iv-large-sectors" help open
expect "open --help shows required options" 0 "open --type plain --key-file FILE" open --help
expect "no command is exit 1" 1 "no command given"
expect "unknown command is exit 1" 1 "unknown command 'frob'" frob
expect "unknown option is exit 1" 1 "unknown option '--frob'" open --frob
expect "unknown short option is exit 1" 1 "unknown option '-z'" status -z x
expect "missing option value is exit 1" 1 "needs a value" open --type plain d n --key-file
expect "option not valid for command is exit 1" 1 "not valid for 'close'" close --size 5 x
expect "missing argument is exit 1" 1 "'close' needs NAME" close
expect "extra argument is exit 1" 1 "'status' needs NAME" status a b
expect "open needs --key-file" 1 "needs option --key-file" open --type plain d n
expect "bad key size is exit 1" 1 "invalid value '7' for --key-size" \
	open --type plain --key-file k --key-size 7 d n
expect "bad sector size is exit 1" 1 "invalid value '1000' for --sector-size" \
	open --type plain --key-file k --sector-size 1000 d n
expect "key needs a subcommand" 1 "needs a subcommand" key
expect "version works" 0 "vaultctl 0.1.0" version
expect "--version works" 0 "dm-vault interface (built against): 1.0" --version

# vaulttab: tab-check, and the open/close --all errors that come before any
# device-mapper work.
expect "tab-check --help" 0 "Usage: vaultctl tab-check" tab-check --help
expect "open --all --help" 0 "Usage: vaultctl open --all \[OPTIONS\] \[NAME...\]" open --all --help
expect "close --all --help" 0 "Usage: vaultctl close --all" close --all --help
expect "--all is only for open and close" 1 "option --all is not valid for 'status'" status --all x
expect "--vaulttab needs --all" 1 "option --vaulttab is not valid for 'open'" \
	open --vaulttab /x d n
printf '%s\n' '# test vaulttab' '' \
	'root   UUID=0d7e2d5b-7e1c-4a4b-9a53-d0c5d4b3a201  none  luks,discard,tries=0,initramfs' \
	'  data LABEL=data /etc/keys/data.key read-only,keyslot=1,nofail,x-systemd.device-timeout=5' \
	'raw /dev/disk/by-id/x /etc/keys/raw plain,cipher=aes-xts-plain64,size=256,offset=8,noauto' \
	>"$T/good.tab"
run tab-check -v --vaulttab "$T/good.tab"
if [ "$rc" = 0 ] && printf '%s\n' \
	'root UUID=0d7e2d5b-7e1c-4a4b-9a53-d0c5d4b3a201 none luks,discard,tries=0,initramfs' \
	'data LABEL=data /etc/keys/data.key readonly,keyslot=1,nofail' \
	'raw /dev/disk/by-id/x /etc/keys/raw plain,cipher=aes-xts-plain64,size=256,offset=8,noauto' |
	cmp -s - "$OUT"; then
	ok "tab-check -v prints normalized entries"
else
	echo "# exit $rc"
	nok "tab-check -v prints normalized entries"
fi
expect "tab-check without -v is quiet on stdout" 0 "" tab-check --vaulttab "$T/good.tab"
if [ -s "$OUT" ]; then nok "tab-check without -v prints nothing"; else ok "tab-check without -v prints nothing"; fi
expect "tab-check warns about a missing key file" 0 \
	"$T/good.tab:4: data: warning: key file /etc/keys/data.key: No such file or directory" \
	tab-check --vaulttab "$T/good.tab"
printf 'k' >"$T/loose.key"; chmod 0644 "$T/loose.key"
printf 'k /dev/k %s\n' "$T/loose.key" >"$T/loose.tab"
expect "tab-check warns about a key file others can read" 0 \
	"$T/loose.tab:1: k: warning: key file $T/loose.key can be read or written by others (mode 0644)" \
	tab-check --vaulttab "$T/loose.tab"
printf 'h /dev/h none header=%s\n' "$T/no.hdr" >"$T/hdr.tab"
expect "tab-check warns about a missing detached header file (header=)" 0 \
	"$T/hdr.tab:1: h: warning: detached header file $T/no.hdr (header=): No such file or directory" \
	tab-check --vaulttab "$T/hdr.tab"
printf 'h /dev/h none header=/h.hdr:/dev/sdb1\n' >"$T/hdrdev.tab"
expect "open --all: header=PATH:DEVICE is refused, saying what is supported" 1 \
	"$T/hdrdev.tab:1: header=/h.hdr:/dev/sdb1: a header on another device (header=PATH:DEVICE) is not supported; give the absolute path of a detached header file" \
	open --all --vaulttab "$T/hdrdev.tab"
printf '%s\n' 'ok1 /dev/a' 'bad1 /dev/b none luks,foo' 'x' 'bad2 sdb' \
	'ok2 /dev/c none noauto' 'ok1 /dev/d' >"$T/bad.tab"
expect "tab-check: exit 1" 1 "" tab-check --vaulttab "$T/bad.tab"
for want in "$T/bad.tab:2: unknown option 'foo'" \
	    "$T/bad.tab:3: missing DEVICE: expected NAME DEVICE \[KEYFILE \[OPTIONS\]\]" \
	    "$T/bad.tab:4: device 'sdb' is neither an absolute path" \
	    "$T/bad.tab:6: duplicate name 'ok1' (already on line 1)" \
	    "$T/bad.tab: 4 errors, 2 good entries"; do
	if grep -q -- "$want" "$ERR"; then ok "tab-check: $want"; else nok "tab-check: $want"; fi
done
expect "tab-check: missing file is exit 1" 1 "cannot open $T/none.tab: No such file or directory" \
	tab-check --vaulttab "$T/none.tab"
expect "open --all: missing file is exit 1" 1 "cannot open $T/none.tab" \
	open --all --vaulttab "$T/none.tab"
expect "open --all: unknown NAME is exit 1" 1 "$T/good.tab: no entry named 'nosuch'" \
	open --all --vaulttab "$T/good.tab" nosuch
expect "close --all: unknown NAME is exit 1" 1 "$T/good.tab: no entry named 'nosuch'" \
	close --all --vaulttab "$T/good.tab" nosuch
expect "open --all NAME of a bad line names the line" 1 "$T/bad.tab:2: unknown option 'foo'" \
	open --all --vaulttab "$T/bad.tab" bad1
printf '%s\n' 'bad1 /dev/b none luks,foo' 'later /dev/c none noauto' >"$T/bad2.tab"
expect "open --all: a bad line is exit 1 and named" 1 "$T/bad2.tab:1: unknown option 'foo'" \
	open --all --vaulttab "$T/bad2.tab"
printf '%s\n' '# nothing to open at boot' 'later /dev/c none noauto' >"$T/noauto.tab"
expect "open --all: only noauto entries is exit 0" 0 "" open --all --vaulttab "$T/noauto.tab"
printf '' >"$T/empty.tab"
expect "close --all: empty vaulttab is exit 0" 0 "" close --all --vaulttab "$T/empty.tab"

head -c 64 /dev/urandom >"$T/key64"
head -c 10 /dev/urandom >"$T/key10"

if [ "$(id -u)" != 0 ]; then
	for c in root1 root2 root3 root4 root5 root6 root7 root8 root9 root10 root11; do
		skp "$c" "not running as root"
	done
else
	expect "unknown type is exit 1" 1 "unknown device type 'luks9'" \
		open --type luks9 --key-file "$T/key64" /dev/null n
	expect "short key file is exit 1 and names file and sizes" 1 \
		"key file $T/key10 is too short: it holds 10 bytes, but a 512-bit key needs 64 bytes" \
		open --type plain --key-file "$T/key10" /dev/null n
	expect "short key file with --key-size" 1 "a 256-bit key needs 32 bytes" \
		open --type plain --key-size 256 --key-file "$T/key10" /dev/null n
	rc=0
	head -c 5 /dev/zero | $VALGRIND_CMD "$VAULTCTL" open --type plain --key-file - /dev/null n \
		>"$OUT" 2>"$ERR" || rc=$?
	if [ "$rc" = 1 ] && grep -q "standard input) is too short: it holds 5 bytes" "$ERR"; then
		ok "short key on stdin is exit 1"
	else
		nok "short key on stdin is exit 1"
	fi
	expect "missing key file is exit 1" 1 "cannot open key file $T/nope" \
		open --type plain --key-file "$T/nope" /dev/null n
	expect "character device is exit 4" 4 "/dev/null is not a block device" \
		open --type plain --key-file "$T/key64" /dev/null n
	expect "missing device is exit 4" 4 "does not exist" \
		open --type plain --key-file "$T/key64" "$T/nodev" n
	expect "bad device name is exit 1" 1 "invalid device name" \
		open --type plain --key-file "$T/key64" /dev/null "a/b"
	expect "iv-large-sectors needs a larger sector size" 1 "needs --sector-size larger" \
		open --type plain --iv-large-sectors --key-file "$T/key64" /dev/null n
	expect "iv offset alignment with iv-large-sectors" 1 "multiple of the sector size" \
		open --type plain --iv-large-sectors --sector-size 4096 --iv-offset 3 \
		--key-file "$T/key64" /dev/null n

	# Without CAP_SYS_ADMIN: exit 2 and a clear message, before anything else.
	if command -v setpriv >/dev/null 2>&1 &&
	   setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
		rc=0
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			$VALGRIND_CMD "$VAULTCTL" close somename >"$OUT" 2>"$ERR" || rc=$?
		if [ "$rc" = 2 ] && grep -q "'close' needs root privileges (CAP_SYS_ADMIN)" "$ERR"; then
			ok "non-root close is exit 2"
		else
			echo "# exit $rc"
			nok "non-root close is exit 2"
		fi
	else
		skp "non-root close is exit 2" "setpriv cannot drop to nobody"
	fi
fi

# A real block device on the host: loop, when the host allows it.
LOOP=
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null 2>&1; then
	truncate -s 4M "$T/disk"
	LOOP=$(losetup -f --show "$T/disk" 2>/dev/null) || LOOP=
fi
if [ -z "$LOOP" ]; then
	skp "offset beyond the device is exit 1" "no loop device"
	skp "size beyond the device is exit 1" "no loop device"
	skp "unaligned size is exit 1" "no loop device"
	skp "missing module is a clear error" "no loop device"
else
	expect "offset beyond the device is exit 1" 1 "is too small: 8192 sectors, but the data offset is 8192" \
		open --type plain --key-file "$T/key64" --offset 8192 "$LOOP" n
	expect "size beyond the device is exit 1" 1 "is larger than device" \
		open --type plain --key-file "$T/key64" --offset 8 --size 8190 "$LOOP" n
	expect "unaligned size is exit 1" 1 "not a multiple of the 4096-byte sector size" \
		open --type plain --key-file "$T/key64" --sector-size 4096 --size 9 "$LOOP" n
	if [ -e /dev/vault-control ]; then
		skp "missing module is a clear error" "dm-vault is loaded here"
	else
		expect "missing module is a clear error" 1 "the dm-vault module is not loaded" \
			open --type plain --key-file "$T/key64" "$LOOP" n
	fi
	losetup -d "$LOOP"
fi

echo "# $pass passed, $fail failed${skip:+, $skip skipped}" | sed 's/, 0 skipped//'
[ "$fail" = 0 ]
