# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the host tests (luks2/tests/run, tests/reencrypt-meta.sh):
# images in the middle of a LUKS2 re-encryption, written by cryptsetup
# (the oracle), in the current directory.  Each kind is made once and
# copied: reenc_img OUT KIND PASSFILE, KIND one of
#   init      reencrypt --init-only (checksum resilience, sha256)
#   journal   the same with --resilience journal
#   none      the same with --resilience none
#   mid       init, then an offline --resume-only stopped by a file size
#             limit after its first 8 MiB hotzone: 8 MiB under the new
#             key, the next hotzone flagged in-reencryption, 64 MiB of data
#   encrypt   reencrypt --encrypt --init-only --reduce-device-size 32M of a
#             plain 64 MiB image (datashift resilience, backward)
#   plain     a LUKS2 image, no re-encryption (the negative control)

REENC_CS="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"

# shellcheck disable=SC2086 # REENC_CS: several options
reenc_make() {	# reenc_make FILE KIND PASSFILE
	rm -f "$1"; truncate -s 80M "$1" || return 1
	if [ "$2" = encrypt ]; then
		truncate -s 64M "$1"
		cryptsetup reencrypt --encrypt --init-only -q --key-file "$3" $REENC_CS \
			--reduce-device-size 32M "$1" >/dev/null
		return
	fi
	cryptsetup luksFormat -q --type luks2 --key-file "$3" $REENC_CS "$1" || return 1
	case $2 in
	plain) return 0 ;;
	init|mid) set -- "$1" "$2" "$3" checksum ;;
	*) set -- "$1" "$2" "$3" "$2" ;;
	esac
	cryptsetup reencrypt --init-only -q --key-file "$3" $REENC_CS --resilience "$4" "$1" \
		>/dev/null || return 1
	[ "$2" = mid ] || return 0
	# writes past 28 MiB fail (EFBIG, SIGXFSZ ignored): the second hotzone
	# (24-32 MiB) cannot be written and cryptsetup stops there
	( trap '' XFSZ; prlimit --fsize=29360128 cryptsetup reencrypt --resume-only \
		--force-offline-reencrypt --hotzone-size 8M -q --key-file "$3" "$1" ) \
		>/dev/null 2>&1
	cryptsetup luksDump "$1" 2>/dev/null | grep -q 'in-reencryption'
}

reenc_img() {	# reenc_img OUT KIND PASSFILE
	if [ ! -f "reenc-$2.cache" ]; then
		reenc_make "reenc-$2.cache.tmp" "$2" "$3" || { echo "# cannot make a '$2' image"; return 1; }
		mv "reenc-$2.cache.tmp" "reenc-$2.cache"
	fi
	cp --sparse=always "reenc-$2.cache" "$1"
}
