# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/lib/memdump.sh - the guest side of the memory-dump channel
# (tests/vm/memdump-agent on the host), for tests/guest/38-tpm2-in-memory.sh.
#
#   memdump_connect      find the virtio port, say hello (the host makes
#                        a LUKS2 volume: "ok IMAGE PASSPHRASE AESKEYFIND" in
#                        REPLY); skips when there is no channel or agent.
#   memdump_ask SECONDS REQUEST...  one request; the answer line in REPLY,
#                        its key=value words in R; succeeds on "ok".
#   memdump_diag LABEL   one diagnostic line of the counts in R.

declare -A R

memdump_connect() {
	local p port=
	[ -n "${VAULT_MEMDUMP_PORT:-}" ] ||
		ktap_skip "no memory-dump channel (run-guest with VAULT_MEMDUMP=0?)"
	modprobe virtio_console 2>/dev/null
	for _ in $(seq 50); do
		for p in /sys/class/virtio-ports/*; do
			[ "$(cat "$p/name" 2>/dev/null)" = "$VAULT_MEMDUMP_PORT" ] && port=/dev/${p##*/}
		done
		[ -n "$port" ] && [ -c "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] && [ -c "$port" ] || ktap_skip "virtio port $VAULT_MEMDUMP_PORT not found"
	exec {MEMDUMP_CH}<>"$port"
	# Writing blocks while nobody listens on the host: time-limit the first one.
	timeout 20 bash -c "echo hello >&$MEMDUMP_CH" ||
		ktap_skip "the host agent does not listen (python3 missing on the host?)"
	read -r -t 60 -u "$MEMDUMP_CH" REPLY || ktap_skip "the host agent does not answer"
	case $REPLY in
	ok\ *) ;;
	*"not installed"*) ktap_skip "host agent: $REPLY" ;;
	*) ktap_fail_all "host agent: $REPLY" ;;
	esac
}

memdump_ask() {
	local t=$1 w
	shift
	REPLY=
	R=()
	echo "$*" >&"$MEMDUMP_CH" && read -r -t "$t" -u "$MEMDUMP_CH" REPLY || return 1
	for w in $REPLY; do
		case $w in *=*) R[${w%%=*}]=${w#*=} ;; esac
	done
	[ "${REPLY%% *}" = ok ]
}

memdump_diag() {
	local k line=
	for k in "${!R[@]}"; do
		[ "$k" = hits ] || line+="$k=${R[$k]} "
	done
	ktap_diag "$1 at ${SECONDS}s: $line"
	[ "${R[hits]:--}" = - ] || ktap_diag "$1: hits ${R[hits]}"
}
