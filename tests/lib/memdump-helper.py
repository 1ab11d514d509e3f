#!/usr/bin/python3 -S
# SPDX-License-Identifier: GPL-2.0-or-later
#
# memdump-helper.py - guest-side helpers of tests/guest/62-key-in-memory.sh.
# Neither reads key material: one reads page tables, the other only opens.
#
#   pfns PID         the physical page frame numbers mapped by PID, one per
#                    line (from /proc/PID/pagemap; needs root).
#   hold DEVICE      open DEVICE with O_EXCL (as a mount would), print
#                    "held" and keep it until killed.
import os
import signal
import struct
import sys


def pfns(pid):
    out = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/pagemap", "rb") as pm:
        for line in maps:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo >= 1 << 47:		# [vsyscall]
                continue
            pm.seek(lo // 4096 * 8)
            data = pm.read((hi - lo) // 4096 * 8)
            for (e,) in struct.iter_unpack("<Q", data):
                if e >> 63 and e & ((1 << 55) - 1):
                    out.append(e & ((1 << 55) - 1))
    sys.stdout.write("".join(f"{p}\n" for p in sorted(set(out))))


def hold(device):
    fd = os.open(device, os.O_RDONLY | os.O_EXCL)
    print("held", flush=True)
    signal.pause()
    os.close(fd)


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "pfns":
        pfns(int(args[1]))
    elif len(args) == 2 and args[0] == "hold":
        hold(args[1])
    else:
        print("usage: memdump-helper.py pfns PID | hold DEVICE", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
