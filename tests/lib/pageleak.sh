# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/pageleak.sh - pages a test leaves behind, not only slab.
#
# Source it after ktap.sh.  Pages a driver takes with alloc_page() (vault's
# bounce reserve, brd's ramdisk pages) show in no /proc/meminfo category:
# they are MemTotal minus MemFree minus every category (page cache, anon,
# slab, page tables, stacks, vmalloc, per-cpu) and minus the free pages
# waiting on the per-cpu free lists (/proc/zoneinfo's pagesets "count").
# SUnreclaim never sees them, so a bounce reserve leaked per table
# (BIO_MAX_VECS pages, 1 MiB) would go unnoticed by a slab check.
#
#   pageleak_measure            that amount in KiB, after writeback and
#                               dropping caches; the median of three
#                               samples.
#   pageleak_check DESC BASE LIMIT_KB
#                               ktap check: grown by less than LIMIT_KB
#                               since BASE (a pageleak_measure).
#   pageleak_control LIMIT_KB RAMDISK
#                               positive control: fill 2 * LIMIT_KB of
#                               RAMDISK (an unused brd device of at least
#                               that size: brd allocates a page per page
#                               written and keeps it), which must make
#                               pageleak_check fail.

pageleak_sample() {
	local pcp
	# free pages on the per-cpu lists are not in MemFree: tens of MiB
	# that come and go with the workload, so they are taken out
	pcp=$(awk '$1 == "count:" { n += $2 } END { print n + 0 }' /proc/zoneinfo)
	awk -v pcp_kb=$((pcp * $(getconf PAGESIZE) / 1024)) '{ v[$1] = $2 }
	END {
		print v["MemTotal:"] - v["MemFree:"] - v["Buffers:"] - v["Cached:"] \
		    - v["SwapCached:"] - v["AnonPages:"] - v["Slab:"] \
		    - v["KernelStack:"] - v["PageTables:"] - v["SecPageTables:"] \
		    - v["VmallocUsed:"] - v["Percpu:"] - pcp_kb
	}' /proc/meminfo
}

pageleak_measure() {
	local i
	sync
	echo 3 > /proc/sys/vm/drop_caches
	for i in 1 2 3; do
		pageleak_sample
		sleep 0.2
	done | sort -n | sed -n 2p
}

# pageleak_grown BASE LIMIT_KB: succeed when grown by less than LIMIT_KB
pageleak_grown() {
	local now
	now=$(pageleak_measure)
	PAGELEAK_GROWTH=$((now - $1))
	ktap_diag "pages outside /proc/meminfo's categories: $1 kB before," \
		"$now kB after ($PAGELEAK_GROWTH kB, limit $2 kB)"
	[ "$PAGELEAK_GROWTH" -lt "$2" ]
}

pageleak_check() {
	ktap_check "$1: pages held grew less than $3 kB" pageleak_grown "$2" "$3"
}

pageleak_control() {
	local limit=$1 dev=$2 base
	base=$(pageleak_measure)
	if ! dd if=/dev/zero of="$dev" bs=64k count=$((2 * limit / 64)) \
		oflag=direct status=none; then
		ktap_fail "control: fill $dev"
		return 1
	fi
	ktap_check "control: $((2 * limit)) kB held by a ramdisk is caught" \
		not pageleak_grown "$base" "$limit"
}
