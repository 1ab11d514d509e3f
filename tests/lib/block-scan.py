#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# block-scan.py DEVICE REFERENCE [BLOCK]: read DEVICE block by block with
# O_DIRECT (no page cache, no readahead: one read per block) and compare each
# block with the same range of the file REFERENCE.  Prints two lines:
#   eio <blocks that failed with EIO>
#   differ <blocks that read back but differ from REFERENCE>
# as ranges ("5,100-103") or "-" for none.  Any other error exits 2.
import errno
import mmap
import os
import sys


def ranges(blocks):
    out, start, prev = [], None, None
    for b in blocks + [None]:
        if start is not None and (b is None or b != prev + 1):
            out.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if b is not None and start is None:
            start = b
        prev = b
    return ",".join(out) or "-"


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: block-scan.py DEVICE REFERENCE [BLOCK]")
    bs = int(sys.argv[3]) if len(sys.argv) == 4 else 4096
    with open(sys.argv[2], "rb") as f:
        ref = f.read()
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, bs)     # page-aligned, as O_DIRECT needs
    eio, differ = [], []
    try:
        for blk in range(len(ref) // bs):
            try:
                n = os.preadv(fd, [buf], blk * bs)
            except OSError as e:
                if e.errno != errno.EIO:
                    sys.exit(f"block-scan: block {blk}: {e}")
                eio.append(blk)
                continue
            if n != bs:
                sys.exit(f"block-scan: block {blk}: short read ({n} bytes)")
            if buf[:] != ref[blk * bs:(blk + 1) * bs]:
                differ.append(blk)
    finally:
        os.close(fd)
    print("eio", ranges(eio))
    print("differ", ranges(differ))


main()
