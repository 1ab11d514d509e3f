#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Replay a dm-log-writes log onto a block device, entry by entry.

The log (written by the kernel's dm-log-writes target, see
Documentation/admin-guide/device-mapper/log-writes.rst and the structures in
drivers/md/dm-log-writes.c) is:

  block 0          super: le64 magic, le64 version, le64 nr_entries,
                   le32 sectorsize (the logged device's logical block size)
  block 1 onwards  nr_entries times: one block holding the entry header
                   (le64 sector, le64 nr_sectors, le64 flags, le64 data_len;
                   a mark's name follows the header in the same block), then
                   nr_sectors blocks of written data (none for a discard)

"block" and the entry's sector/nr_sectors are in units of sectorsize.  The
log holds writes in the order they reached stable storage: the writes
completed before a FLUSH come before it, a FUA write is logged when it
completes.  The state after replaying up to a FLUSH or FUA entry is
therefore a state the device could have been in after a power cut.

Modes:
  --list            print one line per entry, "INDEX KIND SECTOR COUNT [NAME]"
                    with SECTOR and COUNT in 512-byte sectors and KIND one of
                    write, flush, fua, flush+fua, discard, mark
  --plan            print the indices of the entries --interactive stops at
                    (--stop-mark, --stop-flushes, --stop-writes select them)
  --replay DEV      write the entries onto DEV, up to --end-mark or the end.
                    With --interactive, stop after each selected entry:
                    DEV is synced, "stop INDEX KIND NAME" is printed and one
                    line is read from stdin ("quit" ends the replay).  The
                    last entry is always a stop, of kind "end".
Faults for the checker's positive controls (512-byte sectors, repeatable):
  --drop S:N        do not write sectors S..S+N-1 (the device keeps what it had)
  --corrupt S:N     write the bitwise inverse of what was logged for them
"""

import argparse
import os
import struct
import sys

MAGIC = 0x6a736677736872
VERSION = 1
SUPER = struct.Struct("<QQQI")
ENTRY = struct.Struct("<QQQQ")
F_FLUSH, F_FUA, F_DISCARD, F_MARK = 1, 2, 4, 8
ZEROS = bytes(1 << 20)


class LogError(Exception):
    pass


def kind_of(flags):
    if flags & F_MARK:
        return "mark"
    if flags & F_DISCARD:
        return "discard"
    k = "+".join(n for f, n in ((F_FLUSH, "flush"), (F_FUA, "fua")) if flags & f)
    return k or "write"


class Entry:
    __slots__ = ("index", "sector", "count", "flags", "name", "data_off")

    def __init__(self, index, sector, count, flags, name, data_off):
        self.index, self.sector, self.count = index, sector, count
        self.flags, self.name, self.data_off = flags, name, data_off

    @property
    def kind(self):
        return kind_of(self.flags)


def read_exact(fd, size, off, what):
    buf = os.pread(fd, size, off)
    if len(buf) != size:
        raise LogError(f"log ends inside {what} at byte {off}")
    return buf


def parse(fd):
    """Return (block size, list of Entry) from the log on fd (headers only)."""
    magic, version, nr, bs = SUPER.unpack(read_exact(fd, SUPER.size, 0, "the super"))
    if magic != MAGIC:
        raise LogError(f"not a dm-log-writes log (magic {magic:#x})")
    if version != VERSION:
        raise LogError(f"log version {version} is not supported (only {VERSION})")
    if bs < 512 or bs & (bs - 1):
        raise LogError(f"bad sector size {bs} in the super")
    entries, pos = [], bs
    for i in range(nr):
        hdr = read_exact(fd, bs, pos, f"entry {i}")
        sector, count, flags, dlen = ENTRY.unpack_from(hdr)
        name = ""
        if flags & F_MARK:
            if dlen > bs - ENTRY.size:
                raise LogError(f"entry {i}: mark of {dlen} bytes does not fit")
            name = hdr[ENTRY.size:ENTRY.size + dlen].decode("utf-8", "replace")
        entries.append(Entry(i, sector, count, flags, name, pos + bs))
        pos += bs
        if not flags & (F_DISCARD | F_MARK):
            pos += count * bs
    return bs, entries


def parse_ranges(specs):
    out = []
    for s in specs or []:
        try:
            a, n = (int(x, 0) for x in s.split(":"))
        except ValueError:
            raise LogError(f"bad range '{s}' (want SECTOR:COUNT)") from None
        out.append((a * 512, (a + n) * 512))
    return out


def overlaps(lo, hi, ranges):
    """Parts of [lo, hi) (byte offsets) inside any range, clipped, sorted."""
    return sorted((max(lo, a), min(hi, b)) for a, b in ranges if a < hi and b > lo)


class Replayer:
    def __init__(self, logfd, devfd, bs, drop, corrupt):
        self.logfd, self.devfd, self.bs = logfd, devfd, bs
        self.drop, self.corrupt = drop, corrupt
        self.dropped = self.corrupted = 0     # sectors, for the report

    def zero(self, off, size):
        while size:
            n = min(size, len(ZEROS))
            os.pwrite(self.devfd, ZEROS[:n], off)
            off, size = off + n, size - n

    def apply(self, e):
        bs = self.bs
        lo, hi = e.sector * bs, (e.sector + e.count) * bs
        if e.flags & F_MARK or lo == hi:
            return
        if e.flags & F_DISCARD:
            # Discarded data is undefined afterwards; zeros are one choice.
            self.zero(lo, hi - lo)
            return
        data = bytearray(read_exact(self.logfd, hi - lo, e.data_off,
                                    f"the data of entry {e.index}"))
        for a, b in overlaps(lo, hi, self.corrupt):
            data[a - lo:b - lo] = bytes(x ^ 0xFF for x in data[a - lo:b - lo])
            self.corrupted += (b - a) // 512
        pos = lo
        for a, b in overlaps(lo, hi, self.drop) + [(hi, hi)]:
            self.dropped += max(0, b - max(a, pos)) // 512
            if a > pos:
                os.pwrite(self.devfd, data[pos - lo:a - lo], pos)
            pos = max(pos, b)


def find_mark(entries, name):
    for e in entries:
        if e.flags & F_MARK and e.name == name:
            return e.index
    raise LogError(f"no mark '{name}' in the log")


def select_stops(entries, last, a):
    """Indices to stop at: the last entry, the marks named by --stop-mark and
    --stop-flushes of the other flush/FUA entries after --after-mark, spread
    evenly over them."""
    stops = {last}
    stops.update(e.index for e in entries[:last + 1] if e.flags & F_MARK and
                 any(e.name.startswith(p) for p in a.stop_mark))
    first = find_mark(entries, a.after_mark) if a.after_mark else 0
    # A flush right before a stop mark shows the same state: not a new one.
    flushes = [e.index for e in entries[first:last + 1]
               if e.flags & (F_FLUSH | F_FUA) and e.index + 1 not in stops]
    n = min(a.stop_flushes, len(flushes))
    stops.update(flushes[(k * len(flushes)) // n] for k in range(n))
    # Plain writes between durable points: a prefix of the log is also a
    # state a power cut can leave (the writes after the last flush may or
    # may not have reached the disk).
    writes = [e.index for e in entries[first:last + 1]
              if not e.flags & (F_FLUSH | F_FUA | F_MARK | F_DISCARD)
              and e.index not in stops]
    n = min(a.stop_writes, len(writes))
    stops.update(writes[(2 * k + 1) * len(writes) // (2 * n)] for k in range(n))
    return stops


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True, help="the log device or file")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--replay", metavar="DEV")
    ap.add_argument("--end-mark", metavar="NAME", help="stop after this mark")
    ap.add_argument("--interactive", action="store_true")
    ap.add_argument("--plan", action="store_true",
                    help="print the entries --interactive would stop at, one a line")
    ap.add_argument("--stop-mark", metavar="PREFIX", action="append", default=[],
                    help="stop at marks whose name starts with PREFIX")
    ap.add_argument("--stop-flushes", metavar="N", type=int, default=0,
                    help="also stop at N flush/FUA entries spread evenly over the log")
    ap.add_argument("--stop-writes", metavar="N", type=int, default=0,
                    help="also stop at N plain writes (between flushes) spread evenly")
    ap.add_argument("--after-mark", metavar="NAME",
                    help="take flush/FUA and write stops only after this mark")
    ap.add_argument("--drop", metavar="S:N", action="append")
    ap.add_argument("--corrupt", metavar="S:N", action="append")
    a = ap.parse_args()

    try:
        logfd = os.open(a.log, os.O_RDONLY)
        bs, entries = parse(logfd)
        if a.list:
            for e in entries:
                print(e.index, e.kind, e.sector * bs // 512, e.count * bs // 512, e.name)
            return 0

        last = len(entries) - 1
        if a.end_mark:
            last = find_mark(entries, a.end_mark)
        stops = select_stops(entries, last, a) if a.interactive or a.plan else set()
        if a.plan:
            print(*sorted(stops), sep="\n")
            return 0
        if not a.replay:
            raise LogError("give --list, --plan or --replay DEV")

        devfd = os.open(a.replay, os.O_WRONLY)
        rp = Replayer(logfd, devfd, bs, parse_ranges(a.drop), parse_ranges(a.corrupt))
        for e in entries[:last + 1]:
            rp.apply(e)
            if e.index in stops:
                os.fsync(devfd)
                kind = "end" if e.index == len(entries) - 1 else e.kind
                print("stop", e.index, kind, e.name or "-", flush=True)
                if sys.stdin.readline().strip() == "quit":
                    break
        os.fsync(devfd)
        os.close(devfd)
        if a.drop or a.corrupt:
            print(f"replay-log: dropped {rp.dropped}, corrupted {rp.corrupted} logged sectors",
                  file=sys.stderr)
        if a.interactive:
            print("done", flush=True)
        return 0
    except (LogError, OSError) as err:
        print(f"replay-log: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
