# shellcheck shell=bash
# Two soft-RoCE hosts in one guest: network namespaces pal_a (10.77.0.1)
# and pal_b (10.77.0.2) joined by a veth pair, with rxe_a and rxe_b on the
# two ends (setup_siw: siw_a and siw_b instead). Sourced by
# tests/guest/run.sh and bench/suite.sh.

ADDR_A=10.77.0.1
ADDR_B=10.77.0.2

in_a() { ip netns exec pal_a "$@"; }
in_b() { ip netns exec pal_b "$@"; }

# port_active DEV: port 1 of DEV is ACTIVE. Read from sysfs with builtins,
# as it is polled: a process costs a good part of a second on the debug
# kernel under TCG.
port_active() {
	local state
	read -r state 2>/dev/null <"/sys/class/infiniband/$1/ports/1/state" &&
		[ "$state" = "4: ACTIVE" ]
}

# The namespaces and the veth pair, once.
setup_veth() {
	[ -e /run/netns/pal_a ] && return 0
	ip netns add pal_a && ip netns add pal_b &&
	ip link add veth_a netns pal_a type veth peer name veth_b netns pal_b &&
	in_a ip addr add $ADDR_A/24 dev veth_a &&
	in_b ip addr add $ADDR_B/24 dev veth_b &&
	in_a ip link set lo up && in_b ip link set lo up &&
	in_a ip link set veth_a up && in_b ip link set veth_b up
}

# wait_ports DEV_A DEV_B: both ports active, or fail after 30 s (seconds
# under TCG while the host is busy).
wait_ports() {
	local i
	for i in $(seq 150); do
		port_active "$1" && port_active "$2" && return 0
		sleep 0.2
	done
	echo "$1 and $2 ports did not become active"
	return 1
}

setup_rxe() {
	setup_veth &&
	in_a rdma link add rxe_a type rxe netdev veth_a &&
	in_b rdma link add rxe_b type rxe netdev veth_b &&
	wait_ports rxe_a rxe_b
}

# setup_siw: replace rxe_a and rxe_b by soft-iWARP devices siw_a and siw_b
# on the same veth ends. With no RoCE device left on those addresses,
# rdma_cm (and so every two-process test) can only reach siw.
setup_siw() {
	local dev
	setup_veth || return 1
	for dev in rxe_a rxe_b; do
		[ -e "/sys/class/infiniband/$dev" ] || continue
		rdma link delete "$dev" || return 1
	done
	in_a rdma link add siw_a type siw netdev veth_a &&
	in_b rdma link add siw_b type siw netdev veth_b &&
	wait_ports siw_a siw_b
}

# run_pair SERVER-CMD... -- CLIENT-CMD...: the server in pal_b, the client
# in pal_a, retried briefly while the server starts listening. Passes only
# if both pass. Each side is killed after PAIR_TIMEOUT seconds (default
# 600), so that a hung peer fails its test instead of the whole run.
run_pair() {
	local scmd=() ccmd=() server client=1 srv i
	while [ $# -gt 0 ] && [ "$1" != -- ]; do scmd+=("$1"); shift; done
	shift
	ccmd=("$@")
	in_b timeout -k 5 "${PAIR_TIMEOUT:-600}" "${scmd[@]}" &
	server=$!
	for i in $(seq 10); do
		sleep 0.4
		in_a timeout -k 5 "${PAIR_TIMEOUT:-600}" "${ccmd[@]}" && { client=0; break; }
		kill -0 $server 2>/dev/null || break
	done
	wait $server
	srv=$?
	echo "client exit $client, server exit $srv"
	[ $client = 0 ] && [ $srv = 0 ]
}
