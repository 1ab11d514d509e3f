# SPDX-License-Identifier: GPL-2.0-or-later
#
# vault-gettext.sh: sourced by the boot scripts (initramfs-tools' local-top
# script, dracut's vault-dracut-open and initqueue hooks, vault-unlock) for
# their messages in the system's language: vaultctl's catalogue (text
# domain vaultctl) through gettext.sh's eval_gettext and eval_ngettext, and
# English when gettext.sh is not there (an image without a catalogue).
#
# In an initramfs, /etc/vault/locale (written by the initramfs-tools hook or
# dracut's module-setup.sh) names the language; on the running system the
# caller's LANG does.  Sets and exports TEXTDOMAIN (and LANGUAGE, LC_ALL
# from /etc/vault/locale): a script sourced by dracut's init runs this in a
# subshell, $(...), so that nothing of it reaches later programs.
# Installed as /usr/lib/dm-vault/vault-gettext.sh (vault-unlock, dracut)
# and /usr/share/initramfs-tools/scripts/vault-gettext (mkinitramfs copies
# it into every image as /scripts/vault-gettext).
# $VAULT_LOCALE_FILE: another file than /etc/vault/locale (tests).

export TEXTDOMAIN=vaultctl
if [ -r "${VAULT_LOCALE_FILE:-/etc/vault/locale}" ]; then
	. "${VAULT_LOCALE_FILE:-/etc/vault/locale}"
	export LANGUAGE LC_ALL
fi
if command -v gettext.sh >/dev/null 2>&1 && command -v envsubst >/dev/null 2>&1; then
	. gettext.sh
else
	# The message itself, its $variables expanded (never their contents):
	# ", \ and ` escaped one character at a time (no sed: an image made
	# with BUSYBOX=n has none), then one eval.
	eval_gettext() {
		_m=$1 _e=
		while [ -n "$_m" ]; do
			_c=${_m%"${_m#?}"}
			_m=${_m#?}
			case $_c in
			'"' | '\' | '`') _e="$_e\\$_c" ;;
			*) _e="$_e$_c" ;;
			esac
		done
		eval "printf '%s' \"$_e\""
	}
	eval_ngettext() { if [ "$3" = 1 ]; then eval_gettext "$1"; else eval_gettext "$2"; fi; }
fi
