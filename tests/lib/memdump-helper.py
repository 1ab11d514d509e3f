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
#
# For tests/guest/38-tpm2-in-memory.sh, which must give vaultctl a PIN
# without leaving copies of it where vaultctl's own would be: the PIN exists
# only in the pages of two small tmpfs files (whose frames the test then
# knows and excuses), never in a Python object or a shell variable.
#   mkpin DIR        make DIR/PIN ("PIN=" and a random 16-character PIN,
#                    NUL-terminated) and DIR/NEWPIN (the same PIN after
#                    "NEWPIN="): random bytes are read straight into the
#                    file's mapping and turned into characters in place.
#   execenv FILE CMD...  execve() CMD with this environment plus the
#                    "VAR=VALUE" string in FILE, passed to the kernel by a
#                    pointer into FILE's shared mapping (execve copies it
#                    from there onto CMD's stack, which vaultctl wipes).
#   filepfns FILE... the physical page frames holding FILEs' data.
import ctypes
import mmap
import os
import signal
import struct
import sys

PINLEN = 16
PINCHARS = b"abcdefghijkmnpqrstuvwxyz23456789"	# 32: a byte's low 5 bits


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


def _map(path, size=None):
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, size or os.fstat(fd).st_size, mmap.MAP_SHARED)
    finally:
        os.close(fd)


def mkpin(d):
    maps = []
    for var in (b"PIN=", b"NEWPIN="):
        path = os.path.join(d, var[:-1].decode())
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.ftruncate(fd, 64)
        os.close(fd)
        m = _map(path)
        m[:len(var)] = var
        maps.append((m, len(var)))
    (a, ao), (b, bo) = maps
    with open("/dev/urandom", "rb", buffering=0) as r:
        if r.readinto(memoryview(a)[ao:ao + PINLEN]) != PINLEN:
            raise OSError("short read from /dev/urandom")
    for i in range(PINLEN):		# small ints: no copy of the PIN
        a[ao + i] = PINCHARS[a[ao + i] & 31]
        b[bo + i] = a[ao + i]
    for m, _ in maps:
        m.flush()
        m.close()


def execenv(path, argv):
    m = _map(path)
    envp = [ctypes.c_char_p(f"{k}={v}".encode()) for k, v in os.environ.items()]
    arr = (ctypes.c_char_p * (len(envp) + 2))()
    for i, e in enumerate(envp):
        arr[i] = e
    ctypes.cast(ctypes.byref(arr, len(envp) * ctypes.sizeof(ctypes.c_char_p)),
                ctypes.POINTER(ctypes.c_void_p))[0] = \
        ctypes.addressof(ctypes.c_char.from_buffer(m))
    args = (ctypes.c_char_p * (len(argv) + 1))(*[a.encode() for a in argv], None)
    libc = ctypes.CDLL(None, use_errno=True)
    prog = argv[0] if "/" in argv[0] else next(
        (os.path.join(p, argv[0]) for p in os.environ.get("PATH", "").split(":")
         if os.access(os.path.join(p, argv[0]), os.X_OK)), argv[0])
    libc.execve(prog.encode(), args, arr)
    raise OSError(ctypes.get_errno(), f"execve {prog}")


def filepfns(paths):
    out = set()
    for path in paths:
        m = _map(path)
        n = (len(m) + 4095) // 4096
        for i in range(n):
            m[i * 4096]		# fault the page in (a read: no copy)
        addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
        with open("/proc/self/pagemap", "rb") as pm:
            pm.seek(addr // 4096 * 8)
            for (e,) in struct.iter_unpack("<Q", pm.read(n * 8)):
                if e >> 63 and e & ((1 << 55) - 1):
                    out.add(e & ((1 << 55) - 1))
    sys.stdout.write("".join(f"{p}\n" for p in sorted(out)))


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "pfns":
        pfns(int(args[1]))
    elif len(args) == 2 and args[0] == "hold":
        hold(args[1])
    elif len(args) == 2 and args[0] == "mkpin":
        mkpin(args[1])
    elif len(args) >= 3 and args[0] == "execenv":
        execenv(args[1], args[2:])
    elif len(args) >= 2 and args[0] == "filepfns":
        filepfns(args[1:])
    else:
        print("usage: memdump-helper.py pfns PID | hold DEVICE | mkpin DIR |"
              " execenv FILE CMD... | filepfns FILE...", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
