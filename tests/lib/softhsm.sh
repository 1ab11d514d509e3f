# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/lib/softhsm.sh - the start the PKCS#11 guest tests (53, 56) share,
# sourced after ktap.sh and luks2.sh:
#
#   softhsm_test_setup SIZE   after luks2_test_setup: SDC and its clean-up
#                    (luks2_sdc_setup); MODULE, SoftHSM2's PKCS#11 module as
#                    p11-kit registers it (skips without); then, in $WORK
#                    (the current directory afterwards, since the host root
#                    is read-only): pw (the volume's passphrase), data (SIZE
#                    random bytes), an empty token directory tokens/ and
#                    softhsm2.conf naming it, exported as SOFTHSM2_CONF.
#                    The test makes its own token (key type, label) in it.

softhsm_test_setup() {
	local size=$1
	luks2_sdc_setup
	MODULE=$(sed -n 's/^module: *//p' /usr/share/p11-kit/modules/softhsm2.module 2>/dev/null)
	[ -e "$MODULE" ] || ktap_skip_dep "softhsm2 is not registered with p11-kit"
	cd "$WORK" || exit 1
	printf 'the passphrase' >pw
	head -c "$size" /dev/urandom >data
	mkdir tokens
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$WORK" >softhsm2.conf
	export SOFTHSM2_CONF=$WORK/softhsm2.conf
}
