#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib/oracle.py - the comparisons behind oracle_check (oracle.sh).
#
#   oracle.py VIEW EXPECTED LOWER LOWER_OFFSET LENGTH [MARKER...]
#
# VIEW is the volume as dm-crypt decrypts it, EXPECTED what vault returned
# (the vault device) or what the test wrote (a file), LOWER the lower device
# whose data area starts LOWER_OFFSET bytes in; LENGTH bytes are compared
# (fewer when EXPECTED is a shorter file).  Prints one result per line:
#   mismatch N SECTORS...   512-byte sectors where VIEW and EXPECTED differ
#   plain N SECTORS...      sectors where LOWER holds VIEW's plaintext
#   marker HEX LOWER VIEW   how often a marker occurs on LOWER and in VIEW
# Everything is read with O_DIRECT where the file allows it, so neither a
# stale page cache of the lower device nor of the vault device can answer,
# in reads of ORACLE_CHUNK bytes (default 1 MiB; small ones give the targets
# small bios).
import fcntl
import mmap
import os
import stat
import sys

CHUNK = int(os.environ.get("ORACLE_CHUNK", 1 << 20))
SECTOR = 512


def opener(path):
    if not stat.S_ISBLK(os.stat(path).st_mode):
        return os.open(path, os.O_RDONLY)
    return os.open(path, os.O_RDONLY | os.O_DIRECT)


def buffered(fd):
    """Fall back to the page cache for an unaligned read."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)


def size_of(fd):
    return os.lseek(fd, 0, os.SEEK_END)


def read_at(fd, buf, off, n):
    view = memoryview(buf)[:n]
    got = 0
    while got < n:
        try:
            r = os.preadv(fd, [view[got:]], off + got)
        except OSError as e:
            if e.errno != 22:
                raise
            buffered(fd)
            r = os.preadv(fd, [view[got:]], off + got)
        if r <= 0:
            raise OSError(f"short read at {off + got}")
        got += r
    return bytes(view)


def main():
    view_p, exp_p, low_p = sys.argv[1:4]
    low_off, length = int(sys.argv[4]), int(sys.argv[5])
    markers = [m.encode() for m in sys.argv[6:]]
    fds = [opener(p) for p in (view_p, exp_p, low_p)]
    length = min(length, size_of(fds[1]))
    length -= length % SECTOR
    bufs = [mmap.mmap(-1, CHUNK) for _ in fds]
    mism, plain = [], []
    found = {m: [0, 0] for m in markers}
    tail = [b"", b""]
    keep = max((len(m) for m in markers), default=1) - 1
    off = 0
    while off < length:
        n = min(CHUNK, length - off)
        v = read_at(fds[0], bufs[0], off, n)
        e = read_at(fds[1], bufs[1], off, n)
        lo = read_at(fds[2], bufs[2], low_off + off, n)
        for s in range(0, n, SECTOR):
            sv = v[s:s + SECTOR]
            if sv != e[s:s + SECTOR]:
                mism.append((off + s) // SECTOR)
            if sv == lo[s:s + SECTOR]:
                plain.append((off + s) // SECTOR)
        for i, data in enumerate((lo, v)):
            hay = tail[i] + data
            for m in markers:
                found[m][i] += hay.count(m)
            tail[i] = hay[-keep:] if keep else b""
        off += n
    print(f"length {length}")
    print("mismatch", len(mism), *mism[:8])
    print("plain", len(plain), *plain[:8])
    for m in markers:
        print("marker", m.hex(), found[m][0], found[m][1])


if __name__ == "__main__":
    main()
