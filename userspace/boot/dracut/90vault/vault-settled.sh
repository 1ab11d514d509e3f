#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# dracut initqueue/settled hook (sourced by dracut's init on every round of
# its main loop): unlocks the vault volumes the root needs.  When one cannot
# be unlocked (no passphrase matched after `tries` tries, a broken key
# file...) it drops to dracut's emergency shell with a message naming it
# (rd.shell=0: the machine halts); leaving the shell tries again.

if [ ! -e /run/vault/all-open ]; then
	{
		flock -s 9
		/sbin/vault-dracut-open
		vault_rc=$?
	} 9>/.console_lock
	case $vault_rc in
	0)
		: >/run/vault/all-open
		# The network never came up (vault-dracut-open gave up): the
		# rd.neednet=1 the module set must not hold the boot for
		# rd.retry; the root is open without it.
		# shellcheck disable=SC2154 # dracut's init sets hookdir
		[ -e /run/vault/net-timeout ] &&
			rm -f "$hookdir/initqueue/finished/wait-network.sh"
		;;
	3) ;; # a device has not appeared yet: next round
	*)
		# in a subshell: vault-gettext.sh's exports must not reach init
		emergency_shell -n vault "$(
			. "${VAULT_GETTEXT:-/usr/lib/dm-vault/vault-gettext.sh}"
			eval_gettext 'dm-vault: a volume the root needs could not be unlocked (see above). Leave this shell to try again.'
		)"
		;;
	esac
	unset vault_rc
fi
