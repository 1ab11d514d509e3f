#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vaulttab: `vaultctl open --all` / `close --all` on real devices.  Two
# LUKS2 volumes (one found by LABEL=, its passphrase on stdin; one by UUID=
# with a key file and discard), a plain one (raw key file, readonly), a
# noauto one, and two nofail entries whose devices do not exist.  Checks:
# what gets mapped, the table flags, data written before comes back, a second
# open --all is a no-op, NAMEs select entries (noauto included), a wrong
# passphrase and a missing device fail with messages naming the line while
# the other entries still open, auto-detection of LUKS2, and the terminal
# prompt, also without a controlling terminal (as in an initramfs).
# header= (a detached LUKS2 header): two volumes whose headers are files,
# made by vaultctl encrypt --header (in place) and by cryptsetup luksFormat
# --header (the oracle); open --all opens them (no `luks` needed), data
# reads back through the other tool, a missing header file is named.
# one-kernel: vaultctl's vaulttab, prompts and locking, the same on every kernel; make check runs it on the newest kernel, make check-extended on the others
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

FAST=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
need_vaultctl
need_cmd dmsetup cmp blkid
WORK=$(mktemp -d /tmp/t36.XXXXXX) || ktap_fail_all "mktemp failed"
ktap_defer rm -rf "$WORK"
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"
cleanup() {
	local n
	for n in vtA vtB vtC vtD vtE vtF vtG vtT vtH vtK; do
		"$VAULTCTL" close $n >/dev/null 2>&1
	done
	cryptsetup close csH >/dev/null 2>&1
}
ktap_defer cleanup
# Loop devices: libblkid finds them by scanning /proc/partitions (no udev here).
for v in A B C D H K; do
	loop_setup 20 "DEV_$v" || ktap_fail_all "cannot set up a loop device"
done
cd "$WORK" || exit 1

printf 'pass for A' >passA
printf 'pass for B\nwith a second line' >passB
printf 'pass for D' >passD
head -c 64 /dev/urandom >keyC
chmod 0400 passB keyC
head -c $((1 << 20)) /dev/urandom >data

ktap_check "format A (LABEL=vt36-label-a)" \
	"$VAULTCTL" format "${FAST[@]}" --key-file passA --label vt36-label-a "$DEV_A" &&
ktap_check "format B" "$VAULTCTL" format "${FAST[@]}" --key-file passB "$DEV_B" &&
ktap_check "format D" "$VAULTCTL" format "${FAST[@]}" --key-file passD "$DEV_D" &&
UUID_B=$("$VAULTCTL" uuid "$DEV_B") || ktap_fail_all "cannot set up the volumes"
ktap_check "blkid sees A's label and B's UUID" \
	eval '[ "$(blkid -o value -s LABEL "$DEV_A")" = vt36-label-a ] &&
	      [ "$(blkid -o value -s UUID "$DEV_B")" = "$UUID_B" ]'
# The plain volume gets its data first, through a read-write mapping.
ktap_check "write data to plain C" eval '"$VAULTCTL" open --type plain --key-file keyC "$DEV_C" vtT &&
	dd if=data of=/dev/mapper/vtT bs=1M oflag=direct status=none && "$VAULTCTL" close vtT'

cat >tab <<EOF
# vaulttab for test 36

vtA  LABEL=vt36-label-a  none  luks,tries=1
vtB  UUID=$UUID_B  $WORK/passB  luks,discard
vtC  $DEV_C  $WORK/keyC  plain,cipher=aes-xts-plain64,size=512,readonly
vtD  $DEV_D  -  noauto
vtM  UUID=00000000-1111-2222-3333-444444444444  none  luks,nofail
vtN  /dev/vault-t36-missing  $WORK/keyC  plain,nofail
EOF
ktap_check "tab-check accepts the file" "$VAULTCTL" tab-check --vaulttab tab

# open_all ARGS...: runs open --all, status in st (not rc: ktap_check has a local rc), stderr in err
open_all() { "$VAULTCTL" open --all --vaulttab tab "$@" 2>err; st=$?; sed 's/^/# err: /' err; }
mapped() { [ -b "/dev/mapper/$1" ]; }

open_all <<<"pass for A"
ktap_check "open --all: exit 0 (nofail entries missing)" test "$st" = 0
ktap_check "open --all: A, B, C are open" eval 'mapped vtA && mapped vtB && mapped vtC'
ktap_check "open --all: noauto D is not" not mapped vtD
ktap_check "open --all: nofail M, N are not" eval '! mapped vtM && ! mapped vtN'
ktap_check "missing UUID= is named with its line" \
	grep -q "tab:7: vtM: no device with UUID=00000000-1111-2222-3333-444444444444 found" err
ktap_check "missing nofail device is named with its line" \
	grep -q "tab:8: vtN: .*/dev/vault-t36-missing" err
ktap_check "B's table has allow_discards, A's has not" \
	eval 'vdmsetup table vtB | grep -q allow_discards && ! vdmsetup table vtA | grep -q allow_discards'
ktap_check "C is read-only" eval 'vdmsetup info vtC | grep -q "READ-ONLY" && [ "$(blockdev --getro /dev/mapper/vtC)" = 1 ]'
ktap_check "A and B are read-write" eval '[ "$(blockdev --getro /dev/mapper/vtA)" = 0 ] &&
	[ "$(blockdev --getro /dev/mapper/vtB)" = 0 ]'
ktap_check "C (plain, readonly) has the data written before" cmp -s -n $((1 << 20)) /dev/mapper/vtC data
# devt DEV: "MAJ:MIN" in decimal, as the table shows its device
devt() { printf '%d:%d' "0x$(stat -c %t "$1")" "0x$(stat -c %T "$1")"; }
ktap_check "A and B map the devices LABEL= and UUID= name" \
	eval '[ "$(vdmsetup table vtA | cut -d" " -f7)" = "$(devt "$DEV_A")" ] &&
	      [ "$(vdmsetup table vtB | cut -d" " -f7)" = "$(devt "$DEV_B")" ]'
for v in A B; do
	dd if=data of=/dev/mapper/vt$v bs=1M oflag=direct conv=fsync status=none ||
		ktap_fail "write through vt$v"
done

open_all </dev/null
ktap_check "open --all again: exit 0, no passphrase read (already open)" \
	eval '[ "$st" = 0 ] && ! grep -q passphrase err'

"$VAULTCTL" close --all --vaulttab tab 2>err
ktap_check "close --all: exit 0" test $? = 0
ktap_check "close --all: nothing left" eval '! mapped vtA && ! mapped vtB && ! mapped vtC'

open_all vtD vtA <<<"pass for A
pass for D"
ktap_check "open --all vtD vtA: noauto D opens by NAME (passphrases in file order)" \
	eval '[ "$st" = 0 ] && mapped vtA && mapped vtD && ! mapped vtB && ! mapped vtC'
ktap_check "A kept its data across close/open" cmp -s -n $((1 << 20)) /dev/mapper/vtA data
"$VAULTCTL" close --all --vaulttab tab vtA 2>err
ktap_check "close --all vtA closes only A" eval '! mapped vtA && mapped vtD'
"$VAULTCTL" close --all --vaulttab tab
ktap_check "close --all closes noauto D too" not mapped vtD

open_all vtB
ktap_check "B (key file) opens alone and kept its data" \
	eval '[ "$st" = 0 ] && cmp -s -n $((1 << 20)) /dev/mapper/vtB data'
"$VAULTCTL" close vtB

# A wrong passphrase: exit 2, the line named, and the other entries open.
open_all vtA vtB <<<"not the passphrase"
ktap_check "wrong passphrase: exit 2" test "$st" = 2
ktap_check "wrong passphrase: 'No key available with this passphrase.' names the line" \
	grep -q "tab:3: vtA: No key available with this passphrase\.$" err
ktap_check "wrong passphrase: 'no passphrase matched after 1 try'" \
	grep -q "tab:3: vtA: no passphrase matched after 1 try" err
ktap_check "wrong passphrase: A is not open, B is" eval '! mapped vtA && mapped vtB'
"$VAULTCTL" close vtB

# A missing device without nofail: exit 4 (wrong device), the others open.
cat >tab2 <<EOF
vtX /dev/vault-t36-missing none luks
vtB UUID=$UUID_B $WORK/passB
vtE $DEV_C $WORK/keyC
EOF
"$VAULTCTL" open --all --vaulttab tab2 </dev/null 2>err
st=$?
sed 's/^/# err: /' err
ktap_check "missing device: exit 4" test "$st" = 4
ktap_check "missing device: the message names line and name" \
	grep -q "tab2:1: vtX: device /dev/vault-t36-missing does not exist" err
ktap_check "B without 'luks' is found to be LUKS2 and opens" mapped vtB
ktap_check "a plain device without 'plain' is refused with advice" \
	grep -q "tab2:3: vtE: $DEV_C is not a LUKS2 volume; add 'plain' and its parameters" err
ktap_check "close --all tab2: exit 0" "$VAULTCTL" close --all --vaulttab tab2
# keyfile-offset= and keyfile-size= pick the passphrase out of a longer
# file; keyslot= limits the slots tried (D's passphrase is in slot 0 only).
printf 'XXXXXpass for DYYYY' >padD
cat >tab3 <<EOF
vtF $DEV_D $WORK/padD luks,keyfile-offset=5,keyfile-size=10
vtG $DEV_D $WORK/passD luks,keyslot=1,noauto
EOF
"$VAULTCTL" open --all --vaulttab tab3 </dev/null 2>err
st=$?
sed 's/^/# err: /' err
ktap_check "keyfile-offset= and keyfile-size= are applied" eval '[ "$st" = 0 ] && mapped vtF'
"$VAULTCTL" close vtF
"$VAULTCTL" open --all --vaulttab tab3 vtG </dev/null 2>err
st=$?
sed 's/^/# err: /' err
ktap_check "keyslot=1 is applied (the passphrase is in slot 0): refused, exit 1" \
	eval '[ "$st" = 1 ] && ! mapped vtG && grep -q "tab3:2: vtG: .*keyslot 1 is not in use" err' ||
	ktap_diag "exit $st"

# in_use_refused: close --all fails on a volume held open (exit 5, busy, as
# cryptsetup), and says so
in_use_refused() {
	local r=1
	"$VAULTCTL" open --all --vaulttab tab vtB || return 1
	exec 7</dev/mapper/vtB
	fails_with 5 "tab:4: vtB: device vtB is still in use" \
		timeout 60 "$VAULTCTL" close --all --vaulttab tab && r=0
	exec 7<&-
	"$VAULTCTL" close vtB
	return $r
}
ktap_check "close --all: a volume in use is refused (exit 5), named with its line" in_use_refused

# The prompt on a terminal, and (setsid: no controlling terminal, as PID 1's
# children in an initramfs) on a standard input that is a terminal.
# ontty INPUT CMD: runs CMD under script(1); types INPUT once a prompt shows.
ontty() {
	local input=$1 i=0
	shift
	: >tty.out
	{ while [ $i -lt 300 ] && ! grep -q 'Enter passphrase' tty.out; do
		sleep 0.1; i=$((i + 1)); done
	  printf '%s' "$input"; sleep 2; } |
		script -qec "$*; echo rc=\$?" /dev/null >tty.out 2>&1
	sed 's/^/# tty: /' tty.out
	# typed-ahead lines are echoed (ECHONL) at once: rc= may follow a prompt
	st=$(sed -n 's/.*rc=\([0-9]*\).*/\1/p' tty.out | tail -n 1)
}
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
	sed -i 's/luks,tries=1/luks,tries=3/' tab
	ontty 'wrong
pass for A
' "$VAULTCTL" open --all --vaulttab tab vtA
	ktap_check "terminal: prompt names volume and device, twice after a wrong one" \
		eval '[ "$st" = 0 ] && [ "$(grep -c "Enter passphrase for vtA ($DEV_A): " tty.out)" = 2 ] &&
		      grep -q "No key available with this passphrase\." tty.out && mapped vtA'
	ktap_check "terminal: nothing typed is echoed" not grep -q -e 'pass for A' -e wrong tty.out
	"$VAULTCTL" close vtA
	ontty 'a
b
c
' "$VAULTCTL" open --all --vaulttab tab vtA
	ktap_check "terminal: 3 wrong passphrases (tries=3): exit 2 after 3 prompts" \
		eval '[ "$st" = 2 ] && [ "$(grep -c "Enter passphrase for vtA" tty.out)" = 3 ] &&
		      grep -q "vtA: no passphrase matched after 3 tries" tty.out && ! mapped vtA'
	ontty 'pass for A
' setsid -w "$VAULTCTL" open --all --vaulttab tab vtA
	ktap_check "no controlling terminal: prompt on stdin's terminal, opens" \
		eval '[ "$st" = 0 ] && grep -q "Enter passphrase for vtA" tty.out && mapped vtA &&
		      ! grep -q "pass for A" tty.out'
	"$VAULTCTL" close vtA
	sed -i 's/luks,tries=3/luks,tries=0/' tab
	ontty '

pass for A
' "$VAULTCTL" open --all --vaulttab tab vtA
	ktap_check "terminal: tries=0, empty answers ask again" \
		eval '[ "$st" = 0 ] && [ "$(grep -c "Enter passphrase for vtA" tty.out)" = 3 ] && mapped vtA'
	"$VAULTCTL" close vtA
else
	ktap_diag "script(1) cannot run here: terminal cases not run"
fi

# --- header= ---------------------------------------------------------------
if command -v cryptsetup >/dev/null; then
	printf 'pass for H' >passH; printf 'pass for K' >passK
	chmod 0400 passH passK

	ktap_check "header=: vaultctl encrypt --header h.hdr: H's data encrypted in place" \
		eval 'dd if=data of="$DEV_H" bs=1M oflag=direct conv=fsync status=none &&
		      "$VAULTCTL" encrypt --batch-mode "${FAST[@]}" --key-file passH --header "$WORK/h.hdr" "$DEV_H"'

	ktap_check "header=: cryptsetup luksFormat --header k.hdr (K)" \
		cryptsetup luksFormat -q --type luks2 "${FAST[@]}" --key-file passK --header "$WORK/k.hdr" "$DEV_K"
	ktap_check "header=: neither device holds a LUKS2 header" eval '! cryptsetup isLuks "$DEV_H" && ! cryptsetup isLuks "$DEV_K"'
	printf '%s\n' "vtH  $DEV_H  $WORK/passH  header=$WORK/h.hdr" \
		"vtK  $DEV_K  $WORK/passK  luks,header=$WORK/k.hdr" \
		"vtX  $DEV_K  $WORK/passK  header=$WORK/missing.hdr,noauto" >tab-hdr
	ktap_check "header=: tab-check accepts the file" "$VAULTCTL" tab-check --vaulttab tab-hdr
	"$VAULTCTL" open --all --vaulttab tab-hdr 2>err; st=$?; sed 's/^/# err: /' err
	ktap_check "header=: open --all: exit 0, vtH and vtK open" eval '[ $st = 0 ] && [ -b /dev/mapper/vtH ] && [ -b /dev/mapper/vtK ]'
	ktap_check "header=: vtH reads back H's data from before the encryption" cmp -s -n $((1 << 20)) /dev/mapper/vtH data
	ktap_check "header=: H's device no longer holds the data in clear" eval '! cmp -s -n $((1 << 20)) "$DEV_H" data'
	head -c $((1 << 20)) /dev/urandom >data
	ktap_check "header=: write through vtH and vtK" eval 'dd if=data of=/dev/mapper/vtH bs=1M oflag=direct conv=fsync status=none &&
		dd if=data of=/dev/mapper/vtK bs=1M oflag=direct conv=fsync status=none'
	ktap_check "header=: vtH maps all of the device (the header is elsewhere)" \
		eval '[ "$(blockdev --getsz /dev/mapper/vtH)" = "$(blockdev --getsz "$DEV_H")" ]'
	"$VAULTCTL" close vtH; "$VAULTCTL" close vtK
	ktap_check "header=: cryptsetup open --header h.hdr reads back what vtH wrote" \
		eval 'cryptsetup open --header "$WORK/h.hdr" --key-file passH "$DEV_H" csH &&
		      cmp -s -n $((1 << 20)) /dev/mapper/csH data; r=$?; cryptsetup close csH; [ $r = 0 ]'
	ktap_check "header=: cryptsetup writes K, open --all vtK reads it back" \
		eval 'head -c $((1 << 20)) /dev/urandom >data2 &&
		      cryptsetup open --header "$WORK/k.hdr" --key-file passK "$DEV_K" csH &&
		      dd if=data2 of=/dev/mapper/csH bs=1M oflag=direct conv=fsync status=none && cryptsetup close csH &&
		      "$VAULTCTL" open --all --vaulttab tab-hdr vtK && cmp -s -n $((1 << 20)) /dev/mapper/vtK data2'
	"$VAULTCTL" close vtK
	"$VAULTCTL" open --all --vaulttab tab-hdr vtX 2>err; st=$?; sed 's/^/# err: /' err
	ktap_check "header=: missing header file: exit 4 (as a missing device), names the line, entry and file" \
		eval '[ $st = 4 ] && grep -q "tab-hdr:3: vtX: detached header file $WORK/missing.hdr (header=): No such file or directory" err &&
		      [ ! -b /dev/mapper/vtX ]'
else
	ktap_diag "cryptsetup (the oracle) is not installed: header= cases not run"
fi

ktap_check "no key left loaded" eval '[ -z "$(vault_key_names)" ]'
ktap_finish
