# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# tests/boot/tang-host.sh - a tang server on the host's loopback for the
# network-unlock boot cases (75-tang, 76-dracut-tang), sourced after lib.sh
# with WORK set to the case's scratch directory: Debian's tangd behind socat
# on 127.0.0.1:$PORT (a random port), reached from the guest through QEMU's
# user networking as 10.0.2.2 (nothing leaves the machine).
#   tang_start  starts it and waits for its advertisement, saved to
#               $WORK/adv.jws; returns 1 when it does not answer.
#   tang_stop   stops it (no-op when it is not running).
# Makes the server's keys in $WORK/db when sourced (fails the case if not).

TANGD=${TANGD:-/usr/libexec/tangd}
mkdir "$WORK/db" && /usr/libexec/tangd-keygen "$WORK/db" >/dev/null ||
	ktap_fail_all "tangd-keygen failed"
PORT=$((20000 + RANDOM % 20000))
server=
tang_start() {
	socat "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr,fork" "EXEC:$TANGD $WORK/db" \
		</dev/null 2>>"$WORK/socat.log" &
	server=$!
	for _ in $(seq 50); do
		curl -sfg "http://127.0.0.1:$PORT/adv" -o "$WORK/adv.jws" && return 0
		sleep 0.1
	done
	return 1
}
tang_stop() {
	[ -n "$server" ] || return 0
	kill "$server" 2>/dev/null
	wait "$server" 2>/dev/null
	server=
}
