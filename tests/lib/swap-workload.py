#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fill anonymous memory with a checkable pattern, wait, then verify it.

usage: swap-workload.py MIB MARKER READY GO TIMEOUT

Run inside a memory cgroup whose limit is below MIB: the pages have to go
to swap and come back.  Every 4 KiB page holds MARKER, its page number and
1 MiB of random bytes (the same for every MiB) at the page's offset, so a
page that comes back from the wrong slot, or garbled, does not verify.
After filling, the file READY is created and the program waits (at most
TIMEOUT seconds) for the file GO, so the caller can look at the swap device
while the pages are out.  Then every page is read back and compared.
Exit status: 0 all pages verified, 1 some did not, 2 usage, 3 GO never came.
"""
import mmap
import os
import sys
import time

PAGE = 4096
CHUNK = 1 << 20


def expected_chunk(base, marker, first_page):
    """The pattern of one MiB starting at page number first_page."""
    buf = bytearray(base)
    for i in range(CHUNK // PAGE):
        hdr = marker + (first_page + i).to_bytes(8, "little")
        buf[i * PAGE:i * PAGE + len(hdr)] = hdr
    return buf


def main():
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    mib = int(sys.argv[1])
    marker = sys.argv[2].encode()
    ready, go, limit = sys.argv[3], sys.argv[4], float(sys.argv[5])
    base = os.urandom(CHUNK)
    mem = mmap.mmap(-1, mib * CHUNK, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)

    t0 = time.monotonic()
    for c in range(mib):
        mem[c * CHUNK:(c + 1) * CHUNK] = expected_chunk(base, marker, c * 256)
    print("# filled %d MiB in %.1f s" % (mib, time.monotonic() - t0), flush=True)

    with open(ready, "w"):
        pass
    deadline = time.monotonic() + limit
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            print("# no go signal after %.0f s" % limit, flush=True)
            return 3
        time.sleep(0.2)

    t0 = time.monotonic()
    bad = 0
    for c in range(mib):
        want = expected_chunk(base, marker, c * 256)
        got = mem[c * CHUNK:(c + 1) * CHUNK]
        if got != want:
            for i in range(0, CHUNK, PAGE):
                if got[i:i + PAGE] != want[i:i + PAGE]:
                    if bad < 5:
                        print("# page %d differs" % (c * 256 + i // PAGE), flush=True)
                    bad += 1
    print("# verified %d MiB in %.1f s: %d bad pages"
          % (mib, time.monotonic() - t0, bad), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
