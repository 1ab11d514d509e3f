#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fault-sweep.py - fail the N-th allocation of one ioctl, for N = 1, 2, ...
# until the ioctl runs with nothing injected (tests/guest/45-alloc-faults.sh).
#
#   fault-sweep.py table-load NAME TABLE-LINE REFERENCE-FILE
#       creates NAME; each step: DM_TABLE_LOAD of TABLE-LINE into it with
#       the fault; on success resume and compare the device's first bytes
#       with REFERENCE-FILE; on failure no inactive table may be left.
#   fault-sweep.py key-add KEYNAME KEY-FILE
#       each step: VAULT_IOC_KEY_ADD (persistent) with the fault; on success
#       the key is listed and removed; on failure the key table is unchanged.
#
# The fault is the kernel's per-task fail-nth (failslab, fail_page_alloc:
# the caller configures them): written just before the ioctl, read back
# just after (0 = injected) and reset, so only that ioctl's allocations
# count.  One process does every step: no exec per N.
# Output: one "step" line per N, then "result steps=S injected=I errors=E
# ok=K bad=B last=N" (N: the first with nothing injected); exit 0 when B
# is 0 and the sweep ended.  Environment: FAULT_SWEEP_STRIDE (default 1:
# every N; S: every N up to FAULT_SWEEP_DENSE (64), then every S-th, and
# every N of the last S before the end), FAULT_SWEEP_MAX (steps, 5000).

import errno
import fcntl
import mmap
import os
import struct
import sys

MAX_STEPS = int(os.environ.get("FAULT_SWEEP_MAX", "5000"))
DENSE = int(os.environ.get("FAULT_SWEEP_DENSE", "64"))
STRIDE = int(os.environ.get("FAULT_SWEEP_STRIDE", "1"))

# ---- device-mapper (linux/dm-ioctl.h)
DM_SIZE = 312
DM_DEV_CREATE, DM_DEV_REMOVE, DM_DEV_SUSPEND, DM_DEV_STATUS = 3, 4, 6, 7
DM_TABLE_LOAD, DM_TABLE_CLEAR = 9, 10
DM_INACTIVE_PRESENT_FLAG = 1 << 6
SPEC = struct.Struct("=QQiI16s")


def dm_cmd(nr):
    return (3 << 30) | (DM_SIZE << 16) | (0xFD << 8) | nr


def dm_buf(nr, name, flags=0, payload=b""):
    size = DM_SIZE + len(payload) + 8
    head = struct.pack("=3IIIIiIIIQ128s129s7s", 4, 0, 0, size, DM_SIZE,
                       1 if payload else 0, 0, flags, 0, 0, 0,
                       name.encode(), b"", b"")
    return bytearray(head + payload + bytes(8))


def dm_run(ctl, nr, buf):
    """The ioctl on a buffer from dm_buf; returns the flags and dev out."""
    fcntl.ioctl(ctl, dm_cmd(nr), buf)
    return struct.unpack_from("=I", buf, 28)[0], struct.unpack_from("=Q", buf, 40)[0]


def dm_ioctl(ctl, nr, name, flags=0, payload=b""):
    return dm_run(ctl, nr, dm_buf(nr, name, flags, payload))


def table_payload(line):
    start, length, ttype, params = line.split(None, 3)
    p = params.encode() + b"\0"
    p += bytes(-(SPEC.size + len(p)) % 8)
    return SPEC.pack(int(start), int(length), 0, SPEC.size + len(p), ttype.encode()) + p


def dev_node(dev):
    major = (dev & 0xFFF00) >> 8
    minor = (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
    path = "/dev/dm-%d" % minor
    if not os.path.exists(path):
        os.mknod(path, 0o600 | 0o060000, os.makedev(major, minor))
    return path


def read_direct(path, size):
    buf = mmap.mmap(-1, size)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    try:
        got = os.readv(fd, [buf])
    finally:
        os.close(fd)
    return bytes(buf[:got])


# ---- /dev/vault-control (module/uapi/linux/dm-vault.h)
VAULT_IOC_KEY_ADD = (1 << 30) | (96 << 16) | (0xBD << 8) | 1
VAULT_IOC_KEY_REMOVE = (1 << 30) | (72 << 16) | (0xBD << 8) | 2
VAULT_IOC_KEY_LIST = (3 << 30) | (32 << 16) | (0xBD << 8) | 3


def key_list(vfd):
    infos = bytearray(80 * 64)
    addr = ctypes_addr(infos)
    req = bytearray(struct.pack("=QIII12s", addr, 64, 0, 0, b""))
    fcntl.ioctl(vfd, VAULT_IOC_KEY_LIST, req)
    count = struct.unpack_from("=I", req, 12)[0]
    names = []
    for i in range(min(count, 64)):
        name, size, flags = struct.unpack_from("=64sII", infos, 80 * i)
        names.append((name.split(b"\0")[0].decode(), size, flags))
    return sorted(names)


def ctypes_addr(buf):
    import ctypes
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))


# ---- the fault
class FailNth:
    def __init__(self):
        self.fd = os.open("/proc/thread-self/fail-nth", os.O_RDWR)

    def arm(self, n):
        os.write(self.fd, b"%d" % n)

    def disarm(self):
        """Read back and reset; True when the fault was injected."""
        left = int(os.pread(self.fd, 32, 0))
        os.write(self.fd, b"0")
        return left == 0


def step_line(n, injected, err):
    what = "ok" if err is None else errno.errorcode.get(err, str(err))
    print("step N=%d injected=%d result=%s" % (n, injected, what), flush=True)


def sweep(one_step):
    """N = 1 .. DENSE, then every STRIDE-th N until nothing is injected,
    then every N skipped before that end: the last allocations are all
    tried, the long runs of alike ones (mempool reserves) sampled."""
    fault = FailNth()
    steps = injected_total = errors = oks = bad = 0
    end = None
    todo = []
    n = 0
    while steps < MAX_STEPS:
        if end is None:
            n = n + 1 if n < DENSE else n + STRIDE
        elif todo:
            n = todo.pop(0)
        else:
            break
        steps += 1
        injected, err, problem = one_step(fault, n)
        injected_total += injected
        if problem:
            bad += 1
            print("BAD N=%d: %s" % (n, problem), flush=True)
        if not injected:
            if err is not None:
                bad += 1
                print("BAD N=%d: failed (%s) with nothing injected" % (n, os.strerror(err)), flush=True)
            step_line(n, 0, err)
            if end is None:
                end = n
                todo = list(range(max(DENSE, n - STRIDE) + 1, n))
            continue
        if err is None:
            oks += 1
        else:
            errors += 1
        step_line(n, 1, err)
    if end is None:
        bad += 1
        print("BAD: no end after %d steps" % steps, flush=True)
    print("result steps=%d injected=%d errors=%d ok=%d bad=%d last=%d"
          % (steps, injected_total, errors, oks, bad, end or 0), flush=True)
    return 1 if bad else 0


def table_load(name, line, ref_file):
    with open(ref_file, "rb") as f:
        ref = f.read()
    payload = table_payload(line)
    ctl = os.open("/dev/mapper/control", os.O_RDWR)
    # One device for the whole sweep: each step loads a table into it.
    _, dev = dm_ioctl(ctl, DM_DEV_CREATE, name)
    node = dev_node(dev)

    def one_step(fault, n):
        problem = None
        err = None
        buf = dm_buf(DM_TABLE_LOAD, name, payload=payload)
        fault.arm(n)
        try:
            dm_run(ctl, DM_TABLE_LOAD, buf)
        except OSError as e:
            err = e.errno
        injected = fault.disarm()
        try:
            if err is None:
                dm_ioctl(ctl, DM_DEV_SUSPEND, name)     # resume: the new table goes live
                if read_direct(node, len(ref)) != ref:
                    problem = "loaded, but the device does not read back the data"
            else:
                flags, _ = dm_ioctl(ctl, DM_DEV_STATUS, name)
                if flags & DM_INACTIVE_PRESENT_FLAG:
                    problem = "failed (%s), but an inactive table is loaded" % os.strerror(err)
                    dm_ioctl(ctl, DM_TABLE_CLEAR, name)
        except OSError as e:
            problem = "after the load: %s" % e
        return injected, err, problem

    try:
        return sweep(one_step)
    finally:
        dm_ioctl(ctl, DM_DEV_REMOVE, name)


def key_add(keyname, key_file):
    with open(key_file, "rb") as f:
        key = bytearray(f.read())
    vfd = os.open("/dev/vault-control", os.O_RDWR)
    before = key_list(vfd)
    req = bytearray(struct.pack("=64sQII16s", keyname.encode(), ctypes_addr(key),
                                len(key), 1, b""))
    rm = struct.pack("=64sII", keyname.encode(), 0, 0)

    def one_step(fault, n):
        problem = None
        err = None
        fault.arm(n)
        try:
            fcntl.ioctl(vfd, VAULT_IOC_KEY_ADD, req, False)
        except OSError as e:
            err = e.errno
        injected = fault.disarm()
        now = key_list(vfd)
        if err is None:
            if keyname not in [k[0] for k in now]:
                problem = "added, but not listed"
            fcntl.ioctl(vfd, VAULT_IOC_KEY_REMOVE, rm)
        elif now != before:
            problem = "failed (%s), but the key table changed: %s" % (os.strerror(err), now)
        return injected, err, problem

    return sweep(one_step)


def main(argv):
    if len(argv) == 5 and argv[1] == "table-load":
        return table_load(argv[2], argv[3], argv[4])
    if len(argv) == 4 and argv[1] == "key-add":
        return key_add(argv[2], argv[3])
    print("usage: fault-sweep.py table-load NAME TABLE REF | key-add KEYNAME KEYFILE",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
