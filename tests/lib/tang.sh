# SPDX-License-Identifier: GPL-2.0-or-later
#
# A tang server inside the guest for the clevis tests (57, 58), sourced
# after ktap.sh: Debian's tangd behind socat in network namespace vtNN,
# joined to the root namespace by a veth pair (vtNNa 10.NN.0.1 here,
# vtNNb 10.NN.0.2 there), so nothing leaves the guest.

TANGD=/usr/libexec/tangd
TANG_KEYGEN=/usr/libexec/tangd-keygen
TANG_SERVER=

# tang_setup NN DIR: the namespace, the link and the server's keys in DIR/db;
# sets TANG_NS, TANG_LINK (our end), TANG_URL, TANG_THP (the signing key's
# thumbprint) and TANG_CFG (clevis's tang configuration with both).
tang_setup() {
	local nn=$1
	TANG_DIR=$2
	TANG_NS=vt$nn
	TANG_LINK=vt${nn}a
	TANG_URL=http://10.$nn.0.2:8080
	[ -x $TANGD ] && [ -x $TANG_KEYGEN ] || ktap_skip_dep "tang is not installed ($TANGD)"
	need_cmd socat ip ss curl jose clevis
	ktap_defer tang_cleanup
	modprobe veth 2>/dev/null
	ip netns add $TANG_NS && ip link add $TANG_LINK type veth peer name vt${nn}b &&
		ip link set vt${nn}b netns $TANG_NS && ip addr add 10.$nn.0.1/24 dev $TANG_LINK &&
		ip link set $TANG_LINK up && ip -n $TANG_NS addr add 10.$nn.0.2/24 dev vt${nn}b &&
		ip -n $TANG_NS link set vt${nn}b up && ip -n $TANG_NS link set lo up ||
		ktap_fail_all "cannot set up the network namespace and its veth pair"
	mkdir -p "$TANG_DIR/db" && $TANG_KEYGEN "$TANG_DIR/db" >/dev/null ||
		ktap_fail_all "tangd-keygen failed"
	local k
	for k in "$TANG_DIR"/db/*.jwk; do
		grep -q '"sign"' "$k" && TANG_THP=$(jose jwk thp -i "$k")
	done
	TANG_CFG="{\"url\":\"$TANG_URL\",\"thp\":\"$TANG_THP\"}"
}

# tang_start [COMMAND]: serves tangd (or COMMAND, once per connection) on port 8080.
tang_start() {
	tang_stop
	ip netns exec $TANG_NS socat TCP-LISTEN:8080,reuseaddr,fork \
		"EXEC:${1:-$TANGD $TANG_DIR/db}" </dev/null 2>>"$TANG_DIR/socat.log" &
	TANG_SERVER=$!
	for _ in $(seq 100); do
		ip netns exec $TANG_NS ss -ltn 2>/dev/null | grep -q ':8080 ' && return 0
		sleep 0.1
	done
	return 1
}

tang_stop() {
	[ -n "$TANG_SERVER" ] || return 0
	kill "$TANG_SERVER" 2>/dev/null
	wait "$TANG_SERVER" 2>/dev/null
	TANG_SERVER=
}

tang_cleanup() {
	tang_stop
	ip netns pids $TANG_NS 2>/dev/null | xargs -r kill 2>/dev/null
	ip link del $TANG_LINK 2>/dev/null
	ip netns del $TANG_NS 2>/dev/null
}
