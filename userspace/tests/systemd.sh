#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Tests of the systemd integration (userspace/boot/systemd/): runs
# vault-generator on sample vaulttabs into a temporary directory and checks
# the units and links it writes (and `systemd-analyze verify` on them when
# systemd-analyze is installed), and runs vault-unlock against stand-ins for
# systemd-ask-password and vaultctl.  Prints KTAP.  Usage: systemd.sh VAULTCTL

# The checks are strings evaluated by check(), hence single quotes:
# shellcheck disable=SC2016,SC2034
VAULTCTL=${1:?usage: systemd.sh VAULTCTL}
case $VAULTCTL in /*) ;; *) VAULTCTL=$(pwd)/$VAULTCTL ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
GEN=$HERE/../boot/systemd/vault-generator
UNLOCK=$HERE/../boot/systemd/vault-unlock
T=$(mktemp -d /tmp/vault-systemd.XXXXXX)
trap 'rm -rf "$T"' EXIT
echo "KTAP version 1"

n=0; pass=0; fail=0; skip=0
ok()   { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
nok()  { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"
	 [ ! -s "$T/err" ] || sed 's/^/# stderr: /' "$T/err"; }
skp()  { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
check() { if eval "$2"; then ok "$1"; else echo "# failed: $2"; nok "$1"; fi; }

# gen TAB: runs the generator on vaulttab TAB into $T/out (emptied first).
gen() {
	rm -rf "$T/out" && mkdir "$T/out"
	VAULTTAB=$1 VAULTCTL=$VAULTCTL VAULT_UNLOCK=$UNLOCK \
	VAULT_INITRD_RELEASE=${INITRD_RELEASE:-$T/no-initrd-release} \
	VAULT_ROOT_SOURCE=${ROOT_SOURCE:-/dev/sda1} sh "$GEN" "$T/out" "$T/early" "$T/late" \
		>"$T/stdout" 2>"$T/err"
	grc=$?
}
# has UNIT LINE: UNIT (in $T/out) holds exactly the line LINE.
has() { grep -qxF -- "$2" "$T/out/$1"; }
# links WANTER.TYPE UNIT: the link exists and points at ../UNIT.
links() { [ "$(readlink "$T/out/$1/$2")" = "../$2" ]; }

cat >"$T/tab" <<'EOF'
# a comment, then a blank line

root	UUID=0a1b2c3d-1111-2222-3333-444455556666  none  luks,initramfs
home /dev/sdb1 /etc/vault/keys/home.key luks,discard
data-1 LABEL=my/data - nofail,tries=0
net /dev/sdc /etc/vault/net.key _netdev
later /dev/sdd none noauto,tries=5
img /srv/vault.img /dev/disk/by-id/usb-KEY headless
EOF
# systemd's spellings of headless=, and timeout= (another file: the counts below stay)
cat >"$T/tab2" <<'EOF'
tpm /dev/sde none headless=yes,tpm2-device=auto
asks /dev/sdf none headless=no,timeout=90s
hdr /dev/sdg /etc/vault/hdr.key header=/srv/hdr/hdr.luks
EOF
gen "$T/tab"
check "generator exits 0" '[ "$grc" = 0 ]'
check "generator is silent on a good vaulttab" '[ ! -s "$T/err" ] && [ ! -s "$T/stdout" ]'
check "one unit per entry" '[ "$(ls "$T/out" | grep -c "\.service$")" = 6 ]'
check "no files in the early and late directories" '[ ! -e "$T/early" ] && [ ! -e "$T/late" ]'

u=vault@home.service
check "home: no default dependencies" 'has $u DefaultDependencies=no'
check "home: bound to its device" 'has $u BindsTo=dev-sdb1.device && has $u After=dev-sdb1.device'
check "home: before cryptsetup.target" 'has $u Before=cryptsetup.target'
check "home: stopped before umount.target" \
	'has $u Conflicts=umount.target && has $u Before=umount.target'
check "home: key file: vaultctl open --all directly" \
	'has $u "ExecStart=$VAULTCTL open --all --vaulttab $T/tab home"'
check "home: closed on stop" 'has $u "ExecStop=$VAULTCTL close --all --vaulttab $T/tab home"'
check "home: oneshot, stays active" 'has $u Type=oneshot && has $u RemainAfterExit=yes'
check "home: waits for the key file's file system" \
	'has $u RequiresMountsFor=/etc/vault/keys/home.key'
check "home: required by cryptsetup.target" 'links cryptsetup.target.requires $u'
check "home: required by dev-mapper-home.device" 'links dev-mapper-home.device.requires $u'
check "home: ordered before its blockdev target" \
	'has $u Before=blockdev@dev-mapper-home.target'

u=vault@root.service
d='dev-disk-by\x2duuid-0a1b2c3d\x2d1111\x2d2222\x2d3333\x2d444455556666.device'
check "UUID= becomes the by-uuid device unit" 'has $u "BindsTo=$d" && has $u "After=$d"'
check "passphrase entry runs vault-unlock with its tries and device" \
	'has $u "ExecStart=$UNLOCK --vaulttab $T/tab --tries 3 root UUID=0a1b2c3d-1111-2222-3333-444455556666"'
check "initramfs entry: never stopped, no ExecStop" \
	'has $u IgnoreOnIsolate=yes && ! grep -q "^ExecStop=" "$T/out/$u" && ! grep -q umount.target "$T/out/$u"'

u='vault@data\x2d1.service'
check "a '-' in the name is escaped in the unit name" '[ -f "$T/out/$u" ]'
check "LABEL= with a '/' becomes the udev link's device unit" \
	'has "$u" "BindsTo=dev-disk-by\\x2dlabel-my\\x5cx2fdata.device"'
check "nofail: only wanted by cryptsetup.target" \
	'links cryptsetup.target.wants "$u" && [ ! -e "$T/out/cryptsetup.target.requires/$u" ]'
check "nofail: the boot does not wait for it" '! has "$u" Before=cryptsetup.target'
check "tries=0 is passed on" 'grep -q -- "--tries 0 data-1 " "$T/out/$u"'
check "nofail: still required by its mapper device" 'links "dev-mapper-data\\x2d1.device.requires" "$u"'

u=vault@net.service
check "_netdev: remote-cryptsetup.target, after the network" \
	'links remote-cryptsetup.target.requires $u && has $u Before=remote-cryptsetup.target && has $u "After=remote-fs-pre.target network-online.target"'

u=vault@later.service
check "noauto: a unit, but no target pulls it in" \
	'[ -f "$T/out/$u" ] && ! ls "$T/out"/*.target.* 2>/dev/null | grep -q later'
check "noauto: a mount of /dev/mapper/later pulls it in" 'links dev-mapper-later.device.requires $u'
check "tries=5 is passed on" 'grep -q -- "--tries 5 later " "$T/out/$u"'

u=vault@img.service
check "image file: RequiresMountsFor= instead of a device" \
	'has $u RequiresMountsFor=/srv/vault.img && ! grep -q "^BindsTo=.*srv" "$T/out/$u"'
check "key file on a device: bound to that device" \
	'has $u "BindsTo=dev-disk-by\\x2did-usb\\x2dKEY.device"'
check "headless: vaultctl open --all, never a prompt" \
	'has $u "ExecStart=$VAULTCTL open --all --vaulttab $T/tab img"'

gen "$T/tab2"
check "headless=yes: vaultctl open --all, never a prompt" \
	'has vault@tpm.service "ExecStart=$VAULTCTL open --all --vaulttab $T/tab2 tpm"'
check "headless=no, timeout=90s: vault-unlock asks, for 90s at most" \
	'has vault@asks.service "ExecStart=$UNLOCK --vaulttab $T/tab2 --tries 3 --timeout 90s asks /dev/sdf"'
check "header=: RequiresMountsFor= the header file, bound to its device" \
	'has vault@hdr.service RequiresMountsFor=/srv/hdr/hdr.luks && has vault@hdr.service BindsTo=dev-sdg.device'
gen "$T/tab"

if command -v systemd-analyze >/dev/null 2>&1; then
	SYSTEMD_UNIT_PATH=$T/out: systemd-analyze verify --man=no "$T/out"/*.service \
		>"$T/verify" 2>&1
	vrc=$?
	if [ "$vrc" = 0 ] && [ ! -s "$T/verify" ]; then
		ok "systemd-analyze verify accepts every unit"
	else
		sed 's/^/# /' "$T/verify"
		nok "systemd-analyze verify accepts every unit"
	fi
else
	skp "systemd-analyze verify accepts every unit" "systemd-analyze is not installed"
fi

check "not in the initramfs: no OnFailure=" '! grep -q "^OnFailure" "$T/out/vault@root.service"'
# In the initramfs (an initrd-release file): a failure is an emergency at
# once, except for nofail volumes.
: >"$T/initrd-release"
INITRD_RELEASE=$T/initrd-release gen "$T/tab"
unset INITRD_RELEASE
check "in the initramfs: a failed unit starts emergency.target" \
	'has vault@root.service OnFailure=emergency.target && has vault@root.service OnFailureJobMode=replace-irreversibly'
check "in the initramfs: not for nofail volumes" '! grep -q "^OnFailure" "$T/out/vault@data\x2d1.service"'

# The volume / is mounted from is never stopped, even without `initramfs`.
ROOT_SOURCE=/dev/mapper/home gen "$T/tab"
unset ROOT_SOURCE
check "the running root's volume: no ExecStop, never stopped" \
	'! grep -q "^ExecStop=" "$T/out/vault@home.service" && has vault@home.service IgnoreOnIsolate=yes'
gen "$T/tab"
check "another volume than the root's is stopped at shutdown" 'has vault@home.service Conflicts=umount.target'

# Bad lines: reported with FILE:LINE, skipped; the good lines still get units.
cat >"$T/bad" <<'EOF'
lonely
toomany /dev/sda none luks extra
ok1 /dev/sda
ok1 /dev/sdb
bad/name /dev/sdc
rel dev/sdc
ok2 /dev/sdd none tries=x
EOF
gen "$T/bad"
check "bad lines do not fail the generator" '[ "$grc" = 0 ]'
check "too few fields: FILE:LINE" 'grep -qF "$T/bad:1: expected 2 to 4 fields" "$T/err"'
check "too many fields: FILE:LINE" 'grep -qF "$T/bad:2: expected 2 to 4 fields" "$T/err"'
check "duplicate name: FILE:LINE, first line wins" \
	'grep -qF "$T/bad:4: ok1 is listed twice" "$T/err" && has vault@ok1.service BindsTo=dev-sda.device'
check "name unfit for a unit: FILE:LINE" 'grep -qF "$T/bad:5: name '"'bad/name'"'" "$T/err"'
check "relative device: FILE:LINE" 'grep -qF "$T/bad:6: rel: device '"'dev/sdc'"'" "$T/err"'
check "bad tries: FILE:LINE, unit still written for vaultctl to refuse" \
	'grep -qF "$T/bad:7: ok2: tries=x" "$T/err" && [ -f "$T/out/vault@ok2.service" ]'
check "only the good lines get units" '[ "$(ls "$T/out" | grep -c "\.service$")" = 2 ]'

gen "$T/missing"
check "no vaulttab: exit 0, nothing written" '[ "$grc" = 0 ] && [ -z "$(ls "$T/out")" ]'

rm -rf "$T/out" && mkdir "$T/out"
sh "$GEN" >/dev/null 2>"$T/err"
check "no output directory: usage, exit 1" '[ $? = 1 ] && grep -q usage "$T/err"'

# --- vault-unlock, with stand-ins -------------------------------------------
# systemd-ask-password prints the next line of $T/answers (and counts its
# calls); the fake vaultctl accepts the line "right" (exit 2 otherwise, as
# vaultctl does for a wrong passphrase) and logs its arguments.
mkdir -p "$T/bin"
cat >"$T/bin/systemd-ask-password" <<'EOF'
#!/bin/sh
c=$(cat "$STUB/asked" 2>/dev/null || echo 0); c=$((c + 1)); echo $c >"$STUB/asked"
echo "$*" >>"$STUB/askargs"
for a; do last=$a; done
echo "$last" >"$STUB/prompt"
sed -n "${c}p" "$STUB/answers"
EOF
cat >"$T/bin/vaultctl" <<'EOF'
#!/bin/sh
echo "$*" >>"$STUB/args"
case $1 in
status) [ -e "$STUB/open" ]; exit ;;
esac
case " $* " in
*" --token-only "*) [ -e "$STUB/token" ] && { : >"$STUB/open"; exit 0; }
	echo "No usable token is available for /dev/sdb1." >&2; exit 1 ;;
esac
[ -e "$STUB/fail" ] && exit "$(cat "$STUB/fail")"
read -r p
[ "$p" = right ] && { : >"$STUB/open"; exit 0; }
echo "No key available with this passphrase." >&2
exit 2
EOF
chmod +x "$T/bin/systemd-ask-password" "$T/bin/vaultctl"

# unlock ANSWERS ARGS...: runs vault-unlock with the answers given (one a line)
unlock() {
	rm -f "$T/asked" "$T/args" "$T/open" "$T/prompt" "$T/askargs"
	printf '%s\n' "$1" >"$T/answers"; shift
	STUB=$T PATH=$T/bin:$PATH VAULTCTL=$T/bin/vaultctl sh "$UNLOCK" "$@" \
		>"$T/stdout" 2>"$T/err"
	urc=$?
	asked=$(cat "$T/asked" 2>/dev/null || echo 0)
}

unlock "right" --tries 3 home /dev/sdb1
check "unlock: right passphrase at once" '[ "$urc" = 0 ] && [ "$asked" = 1 ]'
check "unlock: prompt names the volume and device" \
	'[ "$(cat "$T/prompt")" = "Enter passphrase for home (/dev/sdb1):" ]'
check "unlock: vaultctl open --all NAME" 'grep -qx "open --all home" "$T/args"'
check "unlock: the tokens are tried first, alone (--token-only), a PIN through the agents" \
	'[ "$(sed -n 2,3p "$T/args" | tr "\n" ,)" = "open --all --token-only --token-pin-agent home,open --all home," ]'
: >"$T/token"
unlock "right" --tries 3 home /dev/sdb1
rm -f "$T/token"
check "unlock: a token that opens: no question asked" '[ "$urc" = 0 ] && [ "$asked" = 0 ]'
unlock "$(printf 'wrong\nright')" --tries 3 home /dev/sdb1
check "unlock: wrong, then right: asked twice, success" '[ "$urc" = 0 ] && [ "$asked" = 2 ]'
check "unlock: the first question accepts the keyring's cached passphrase, the second not" \
	'[ "$(sed -n 1p "$T/askargs")" = "--id=vault:home --timeout=0 --keyname=cryptsetup --accept-cached Enter passphrase for home (/dev/sdb1):" ] &&
	 [ "$(sed -n 2p "$T/askargs")" = "--id=vault:home --timeout=0 --keyname=cryptsetup Enter passphrase for home (/dev/sdb1):" ]'
unlock "right" --tries 3 --timeout 90s home /dev/sdb1
check "unlock: --timeout limits the question" 'grep -q -- "--timeout=90s " "$T/askargs"'
unlock "$(printf 'a\nb\nc\nright')" --tries 3 home /dev/sdb1
check "unlock: gives up after tries, exit 2, says so" \
	'[ "$urc" = 2 ] && [ "$asked" = 3 ] && grep -q "home: no passphrase matched after 3 tries" "$T/err"'
unlock "$(printf 'a\nb\nc\nd\ne\nright')" --tries 0 home /dev/sdb1
check "unlock: tries 0 asks until it matches" '[ "$urc" = 0 ] && [ "$asked" = 6 ]'
unlock "right" --vaulttab /x/tab home /dev/sdb1
check "unlock: --vaulttab is passed to vaultctl" 'grep -qx "open --all --vaulttab /x/tab home" "$T/args"'
rm -f "$T/fail"; echo 4 >"$T/fail"
unlock "$(printf 'a\nright')" --tries 3 home /dev/sdb1
rm -f "$T/fail"
check "unlock: another failure stops at once with its status" '[ "$urc" = 4 ] && [ "$asked" = 1 ]'
rm -f "$T/asked" "$T/args"; : >"$T/open"; printf 'right\n' >"$T/answers"
STUB=$T PATH=$T/bin:$PATH VAULTCTL=$T/bin/vaultctl sh "$UNLOCK" home /dev/sdb1 >"$T/stdout" 2>"$T/err"
urc=$?
check "unlock: already open: success without asking" '[ "$urc" = 0 ] && [ ! -e "$T/asked" ]'
unlock "right" --tries x home /dev/sdb1
check "unlock: bad --tries is exit 1" '[ "$urc" = 1 ] && grep -q "wants a number" "$T/err"'
unlock "right" home
check "unlock: missing DEVICE is a usage error" '[ "$urc" = 1 ] && grep -q usage "$T/err"'


# dracut's settled hook (systemd in the initramfs, an entry needing the
# network): with a unit ordered after remote-fs-pre.target (a _netdev
# entry, as the generator writes it), the initqueue's wait for the root
# device (dracut's rootfs-generator hook, naming remote-fs-pre.target) is
# lifted, other waits stay; without such a unit nothing changes.
HOOK=$HERE/../boot/dracut/90vault/vault-netdev-root.sh
rootwait() {
	mkdir -p "$T/hooks/initqueue/finished"
	printf '%s\n' 'if ! grep -q After=remote-fs-pre.target /run/systemd/generator/systemd-cryptsetup@*.service 2>/dev/null; then' \
		'    [ -e "/dev/mapper/root" ]' 'fi' >"$T/hooks/initqueue/finished/devexists-\x2fdev\x2fmapper\x2froot.sh"
	echo '[ -e "/dev/vdb" ]' >"$T/hooks/initqueue/finished/devexists-\x2fdev\x2fvdb.sh"
}
settled() { hookdir=$T/hooks VAULT_GENERATOR_DIR=$T/out VAULT_STATE=$T/state \
	VAULT_GETTEXT=$HERE/../boot/vault-gettext.sh sh -c '. "$1"' _ "$HOOK" 2>"$T/err"; }
gen "$T/tab"
rootwait
settled
check "dracut settled hook, a _netdev unit: the initqueue no longer waits for the root device" \
	'[ ! -e "$T/hooks/initqueue/finished/devexists-\x2fdev\x2fmapper\x2froot.sh" ] && [ ! -s "$T/err" ]'
check "... its other device waits stay" '[ -e "$T/hooks/initqueue/finished/devexists-\x2fdev\x2fvdb.sh" ]'
gen "$T/tab2"
rootwait
settled
check "dracut settled hook, no _netdev unit: the root wait stays" \
	'[ -e "$T/hooks/initqueue/finished/devexists-\x2fdev\x2fmapper\x2froot.sh" ] && [ ! -s "$T/err" ]'
# The network wait (rd.neednet=1): kept at first, lifted 30 s after the
# hook's first round (the state file dated back), saying so.
rm -rf "$T/state"
echo 'for i in /tmp/net.*.did-setup; do [ -f "$i" ] && exit 0; done; exit 1' >"$T/hooks/initqueue/finished/wait-network.sh"
settled
check "dracut settled hook: the network wait stays in its first 30 s" \
	'[ -e "$T/hooks/initqueue/finished/wait-network.sh" ] && [ -s "$T/state/net-since" ] && [ ! -s "$T/err" ]'
echo 0 >"$T/state/net-since"
settled
check "... lifted after 30 s without a network, saying so" \
	'[ ! -e "$T/hooks/initqueue/finished/wait-network.sh" ] && grep -qx "vault: the network is not up after 30 s; unlocking without it" "$T/err"'

echo "1..$n"
if [ "$skip" -gt 0 ]; then
	echo "# $pass passed, $fail failed, $skip skipped"
else
	echo "# $pass passed, $fail failed"
fi
[ "$fail" = 0 ]
