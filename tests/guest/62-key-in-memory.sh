#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Key hygiene in RAM: the host dumps the guest's memory (QMP
# dump-guest-memory, through tests/vm/memdump-agent on the channel that
# tests/vm/run-guest provides) at chosen moments and searches it for the
# volume key of a LUKS2 volume that the host formatted; only vaultctl ever
# holds that key in the guest.  Searched: the whole key, each half, each
# 16-byte quarter, either half as hex text, round keys of either half's
# AES-256 schedule, and any schedule aeskeyfind recognises, in every page
# that changed since a baseline dump taken before the key existed; and the
# same for keyslot 0's key (PBKDF2 of the passphrase: it unlocks the volume
# key from the header), which must never outlive vaultctl either.
#  - open (positive control, proves the detector): the halves and their
#    schedules are found (the XTS cipher holds them), aeskeyfind finds both;
#    but no contiguous copy of the whole key exists;
#  - failed open (right passphrase, the key derived and loaded into
#    /dev/vault-control, then the table load refused: the device is held
#    O_EXCL), after vaultctl suspend, after vaultctl close: nothing at all;
#  - vaultctl stopped (strace) at the first ioctl after VAULT_IOC_KEY_ADD,
#    then SIGKILLed: the key leaves the kernel's key table, and no copy is
#    anywhere but in the pages the dead vaultctl itself had mapped (freed
#    pages keep their bytes: a killed process cannot wipe its memory); and
#    where the kernel has secret memory (memfd_secret, on by default since
#    Linux 6.5), which vaultctl keeps its keys in, not even there.
. "${VAULT_REPO:?}/tests/lib/ktap.sh"

T=t62
HELPER=$VAULT_REPO/tests/lib/memdump-helper.py
export DM_DISABLE_UDEV=1
KINDS="key half0 half1 q0 q1 q2 q3 hex sched0 sched1 aes0 aes1 slotkey slotaes"

[ -n "${VAULT_MEMDUMP_PORT:-}" ] ||
	ktap_skip "no memory-dump channel (run-guest with VAULT_MEMDUMP=0?)"
need_vaultctl
need_cmd python3 strace losetup dmsetup pgrep timeout
vault_setup_module || ktap_fail_all "dm-vault.ko cannot be loaded"

# ---- the channel
modprobe virtio_console 2>/dev/null
PORT=
for _ in $(seq 50); do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat "$p/name" 2>/dev/null)" = "$VAULT_MEMDUMP_PORT" ] && PORT=/dev/${p##*/}
	done
	[ -n "$PORT" ] && [ -c "$PORT" ] && break
	sleep 0.1
done
[ -n "$PORT" ] && [ -c "$PORT" ] || ktap_skip "virtio port $VAULT_MEMDUMP_PORT not found"
exec {CH}<>"$PORT"

# ask SECONDS REQUEST...: one request, the answer in REPLY and R[key]=value
declare -A R
ask() {
	local t=$1 w
	shift
	REPLY=
	R=()
	echo "$*" >&"$CH" && read -r -t "$t" -u "$CH" REPLY || return 1
	for w in $REPLY; do
		case $w in *=*) R[${w%%=*}]=${w#*=} ;; esac
	done
	[ "${REPLY%% *}" = ok ]
}

# Writing blocks while nobody listens on the host: time-limit the first one.
timeout 20 bash -c "echo hello >&$CH" ||
	ktap_skip "the host agent does not listen (python3 missing on the host?)"
read -r -t 60 -u "$CH" REPLY || ktap_skip "the host agent does not answer"
read -r _ IMAGE PASS AESKF <<<"$REPLY"
case $REPLY in
ok\ *) ;;
*"not installed"*) ktap_skip "host agent: $REPLY" ;;
*) ktap_fail_all "host agent: $REPLY" ;;
esac
[ "$AESKF" = aeskeyfind ] || ktap_skip_dep "aeskeyfind is not installed on the host (make deps)"

WORK=$(mktemp -d /tmp/$T.XXXXXX)
cleanup() {
	[ -n "${HOLD:-}" ] && kill "$HOLD" 2>/dev/null
	[ -n "${STRACE:-}" ] && kill -KILL "$STRACE" 2>/dev/null
	"$VAULTCTL" close $T >/dev/null 2>&1
	dmsetup remove $T >/dev/null 2>&1
	[ -n "${DEV:-}" ] && losetup -d "$DEV"
	rm -rf "$WORK"
}
ktap_defer cleanup

cp "$IMAGE" "$WORK/luks2.img" || ktap_fail_all "cannot copy $IMAGE"
DEV=$(losetup --find --show "$WORK/luks2.img") || ktap_fail_all "losetup failed"
ktap_diag "volume $DEV (made by the host: $IMAGE)"

# dump LABEL [baseline]: dump and search the guest's memory (answer in R)
dump() {
	if ! ask 300 "${2:-dump}" "$1"; then
		ktap_fail "$1: memory dump (${REPLY:-no answer})"
		return 1
	fi
	ktap_diag "$1 at ${SECONDS}s: $(for k in $KINDS aeskeys aescpu nonzero searched \
		dumpsecs secs; do printf '%s=%s ' "$k" "${R[$k]}"; done)"
	[ "${R[hits]}" = - ] || ktap_diag "$1: hits ${R[hits]}"
	return 0
}

# none LABEL: no trace of the key in the last dump
none() {
	local k bad=
	for k in $KINDS; do
		[ "${R[$k]:-x}" = 0 ] || bad+=" $k=${R[$k]:-?}"
	done
	ktap_check "$1: no piece of the volume or keyslot key or their schedules${bad:+ (found:$bad)}" \
		test -z "$bad"
}

keys_of() { vault_key_names "vaultctl-$T-"; }

# child_of PID: the first child process of PID
child_of() { pgrep -P "$1" | head -n 1; }

# (no -f: vaultctl does not fork here; --seccomp-bpf, which needs -f, kept
# the kill case's SIGSTOP from happening)
ST=(strace -qq -e trace=ioctl)

# ioctl_lines LOG: strace's finished ioctl lines
ioctl_lines() { grep -E '^ioctl\(' "$1" | grep -v 'resumed>'; }

# ---- 0. the baseline: later dumps search what changed since (the key
# does not exist in the guest yet, so it cannot be in an unchanged page)
if dump baseline baseline; then
	ktap_check "baseline: no trace of the key before it exists" \
		test "${R[key]}${R[half0]}${R[half1]}${R[sched0]}${R[sched1]}${R[slotkey]}" = 000000
else
	ktap_fail_all "no baseline dump"
fi

# ---- 1. failed open: the key is derived and loaded, the table load fails
mkfifo "$WORK/pw"
"${ST[@]}" -o "$WORK/failed.strace" \
	"$VAULTCTL" open "$DEV" $T < "$WORK/pw" > "$WORK/failed.out" 2>&1 &
STRACE=$!
exec {PW}> "$WORK/pw"
# Until vaultctl reads the passphrase it checks that the device is free.
reading=
for _ in $(seq 300); do
	kill -0 $STRACE 2>/dev/null || break
	vpid=$(child_of $STRACE)
	[ -n "$vpid" ] &&
		[ "$(cut -d' ' -f1,2 "/proc/$vpid/syscall" 2>/dev/null)" = "0 0x0" ] &&
		{ reading=1; break; }
	sleep 0.1
done
ktap_check "failed open: vaultctl waits for the passphrase" test -n "$reading"
python3 -S "$HELPER" hold "$DEV" > "$WORK/hold.out" 2>&1 &
HOLD=$!
for _ in $(seq 100); do
	grep -q held "$WORK/hold.out" && break
	sleep 0.1
done
ktap_check "failed open: $DEV held O_EXCL" grep -q held "$WORK/hold.out"
echo "$PASS" >&"$PW"
exec {PW}>&-
wait $STRACE
rc=$?
STRACE=
kill $HOLD
wait $HOLD 2>/dev/null
HOLD=
ktap_diag_stream < "$WORK/failed.out"
ktap_check "failed open: vaultctl fails (exit $rc)" test "$rc" != 0
ktap_check "failed open: the key was loaded into /dev/vault-control" \
	eval 'ioctl_lines "$WORK/failed.strace" | grep -qE "0xbd, 0x1, .*\) = 0$"'
ktap_check "failed open: the table load was refused (EBUSY)" \
	eval 'ioctl_lines "$WORK/failed.strace" | grep -qE "DM_TABLE_LOAD.* = -1 EBUSY"'
ktap_check "failed open: no mapping left" not dmsetup info $T
ktap_check "failed open: no key left in dm-vault" test -z "$(keys_of)"
dump failed-open && none failed-open

# ---- 2. open: the positive control
if ktap_check "open: vaultctl open" "$VAULTCTL" open "$DEV" $T <<<"$PASS"; then
	dd if=/dev/urandom of=/dev/mapper/$T bs=64k count=16 oflag=direct status=none &&
		dd if=/dev/mapper/$T of=/dev/null bs=64k count=16 iflag=direct status=none ||
		ktap_fail "open: I/O through the mapping"
	if dump open; then
		ktap_check "open: no contiguous copy of the whole key" test "${R[key]}" = 0
		ktap_check "open: no hex copy" test "${R[hex]}" = 0
		ktap_check "open: no copy of the keyslot key" \
			test "${R[slotkey]}" = 0 -a "${R[slotaes]}" = 0
		ktap_check "open (detector): both halves found" \
			test "${R[half0]}" -gt 0 -a "${R[half1]}" -gt 0
		ktap_check "open (detector): both halves' round keys found" \
			test "${R[sched0]}" -gt 0 -a "${R[sched1]}" -gt 0
		ktap_check "open (detector): aeskeyfind finds both halves" \
			test "${R[aes0]}" -gt 0 -a "${R[aes1]}" -gt 0
	fi

	# ---- 3. suspend: the key is wiped
	if ktap_check "suspend: vaultctl suspend" "$VAULTCTL" suspend $T; then
		ktap_check "suspend: status key_wiped" \
			eval 'dmsetup status $T | grep -q key_wiped'
		dump suspend && none suspend
		ktap_check "suspend: vaultctl resume" "$VAULTCTL" resume $T <<<"$PASS"
	fi

	# ---- 4. close
	ktap_check "close: vaultctl close" "$VAULTCTL" close $T && dump close && none close
fi

# ---- 5. vaultctl killed between loading the key and using it (last: what
# a killed process leaves in its freed pages would show in later dumps)
# The ioctl after KEY_ADD, counted on the failed open's identical path.
n=$(ioctl_lines "$WORK/failed.strace" | grep -nE '0xbd, 0x1, ' | head -n 1 | cut -d: -f1)
if [ -z "$n" ]; then
	ktap_fail "killed: cannot find VAULT_IOC_KEY_ADD in the failed open's trace"
else
	n=$((n + 1))
	ktap_diag "killed: stopping vaultctl at its ioctl number $n"
	"${ST[@]}" -e inject=ioctl:signal=SIGSTOP:when=$n \
		-o "$WORK/kill.strace" "$VAULTCTL" open "$DEV" $T <<<"$PASS" \
		> "$WORK/kill.out" 2>&1 &
	STRACE=$!
	stopped=
	for _ in $(seq 300); do
		kill -0 $STRACE 2>/dev/null || break
		vpid=$(child_of $STRACE)
		[ -n "$vpid" ] && [[ $(cut -d' ' -f3 "/proc/$vpid/stat" 2>/dev/null) == [tT] ]] &&
			{ stopped=1; break; }
		sleep 0.1
	done
	ktap_check "killed: vaultctl stopped (strace inject)" test -n "$stopped"
	ioctl_lines "$WORK/kill.strace" | tail -n 2 | ktap_diag_stream
	ktap_check "killed: VAULT_IOC_KEY_ADD succeeded, then one more ioctl" \
		eval 'ioctl_lines "$WORK/kill.strace" | tail -n 2 | head -n 1 |
			grep -qE "0xbd, 0x1, .*\) = 0$" &&
			[ "$(ioctl_lines "$WORK/kill.strace" | wc -l)" = $n ]'
	ktap_check "killed: stopped before the table was loaded" \
		not grep -qE 'DM_DEV_CREATE|DM_TABLE_LOAD' "$WORK/kill.strace"
	ktap_check "killed: the key is loaded in dm-vault meanwhile" test -n "$(keys_of)"
	python3 -S "$HELPER" pfns "$vpid" > "$WORK/pfns" ||
		ktap_fail "killed: cannot read vaultctl's page frames"
	ktap_diag "killed: vaultctl maps $(wc -l < "$WORK/pfns") pages"
	# strace exits once it saw vaultctl die
	if [ -n "$vpid" ]; then kill -KILL "$vpid"; else kill -KILL $STRACE; fi
	wait $STRACE
	STRACE=
	ktap_check "killed: no mapping" not dmsetup info $T
	ktap_check "killed: the key left dm-vault with vaultctl's descriptor" \
		test -z "$(keys_of)"
	if dump killed; then
		outside=0 inside=0
		declare -A own=()
		while read -r p; do own[$p]=1; done < "$WORK/pfns"
		for h in ${R[hits]//,/ }; do
			[ "$h" = - ] && continue
			pa=${h#*@}
			if [ -n "${own[$((pa >> 12))]:-}" ]; then
				inside=$((inside + 1))
			else
				outside=$((outside + 1))
				ktap_diag "killed: ${h%@*} at $pa, not in a page of the dead vaultctl"
			fi
		done
		ktap_diag "killed: $inside copies in the dead vaultctl's freed pages"
		# vaultctl keeps keys in memfd_secret() memory where the kernel
		# allows it; the kernel zeroes those pages when they are freed.
		if [ "$(cat /sys/module/secretmem/parameters/enable 2>/dev/null)" = Y ]; then
			ktap_check "killed: no copy in the dead vaultctl's freed pages (secret memory)" \
				test "$inside" = 0
		else
			ktap_diag "killed: secretmem is off in this kernel (secretmem.enable=1 turns it on): vaultctl's key buffers are ordinary pages, not wiped when it is killed"
		fi
		ktap_check "killed: the hit list is complete" test "${R[hitsmore]:-0}" = 0
		ktap_check "killed: no copy outside the dead vaultctl's own pages" \
			test "$outside" = 0
		ktap_check "killed: aeskeyfind finds no schedule of the key" \
			test "${R[aes0]}" = 0 -a "${R[aes1]}" = 0
		ktap_diag "killed: aeskeyfind finds ${R[slotaes]} schedules of the keyslot key (in the dead vaultctl's pages or not: it gives no address)"
	fi
fi

ktap_diag "done at ${SECONDS}s"
ktap_finish
