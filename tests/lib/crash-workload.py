#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A deterministic file workload with fsync marks, and what it guarantees.

run    DIR --dm NAME --manifest FILE [--steps N] [--seed S]
       In the mounted file system DIR, run N steps.  Step i sends the mark
       "b-i" to the dm-log-writes device NAME, does one operation (create,
       append, overwrite, truncate, rename, unlink) and makes it durable
       (fsync of the file and of the directories whose entries changed),
       sometimes also writes a "noise" file it never syncs, then sends the
       mark "s-i".  The file "keep" is written and synced in step 0 and never
       touched again.  FILE gets the manifest (JSON): per step its marks, the
       names it touched and, for the synced ones, the sha256 of their content
       (null: the name must not exist).

expect --manifest FILE --entries LIST --out DIR INDEX...
       What must hold in the file system replayed up to log entry INDEX
       (LIST is the output of replay-log.py --list): a synced name counts
       when its step's "s-" mark is at or before INDEX and no later step
       touching it had begun (its "b-" mark before INDEX).  Writes
       DIR/INDEX.sums (sha256sum -c input: the names with their synced
       content) and DIR/INDEX.absent (names that must not exist).
"""

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys

STABLE = "keep"
SIZES = (0, 1, 700, 4096, 9000, 40000, 130000)
SCHEDULE = ("create", "create", "append", "overwrite", "rename", "create",
            "unlink", "truncate", "append", "rename", "overwrite", "create",
            "unlink", "append", "overwrite", "truncate", "create", "rename")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Workload:
    def __init__(self, top, dm, seed):
        self.top, self.dm = top, dm
        self.rng = random.Random(seed)
        self.files = {}         # name -> content, for every synced file
        self.serial = 0

    def p(self, name):
        return os.path.join(self.top, name)

    def mark(self, name):
        subprocess.run(["dmsetup", "message", self.dm, "0", "mark", name], check=True)

    def new_name(self):
        self.serial += 1
        return f"{self.rng.choice(('', 'a/', 'b/', 'a/c/'))}f{self.serial:03d}"

    def sync_entry(self, name):
        """Make name's content and directory entry durable."""
        fsync_path(self.p(name))
        fsync_path(os.path.dirname(self.p(name)))

    def write(self, name, data, sync=True):
        with open(self.p(name), "wb") as f:
            f.write(data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        if sync:
            fsync_path(os.path.dirname(self.p(name)))

    def pick(self):
        return self.rng.choice(sorted(n for n in self.files if n != STABLE))

    def op(self, kind):
        """Do one durable operation; return {name: sha or None}."""
        rng = self.rng
        if kind == "create" or len(self.files) < 3:
            name = self.new_name()
            self.files[name] = rng.randbytes(rng.choice(SIZES))
            self.write(name, self.files[name])
            return {name: sha(self.files[name])}
        name = self.pick()
        old = self.files[name]
        if kind == "append":
            more = rng.randbytes(rng.choice(SIZES[1:]))
            with open(self.p(name), "ab") as f:
                f.write(more)
                f.flush()
                os.fsync(f.fileno())
            self.files[name] = old + more
        elif kind == "overwrite":
            off = rng.randrange(len(old) + 1)
            new = rng.randbytes(rng.choice(SIZES[1:6]))
            with open(self.p(name), "r+b") as f:
                f.seek(off)
                f.write(new)
                f.flush()
                os.fsync(f.fileno())
            data = bytearray(old)
            data[off:off + len(new)] = new
            self.files[name] = bytes(data)
        elif kind == "truncate":
            size = rng.randrange(len(old) + 1)
            os.truncate(self.p(name), size)
            fsync_path(self.p(name))
            self.files[name] = old[:size]
        elif kind == "rename":
            dst = self.new_name()
            os.rename(self.p(name), self.p(dst))
            self.sync_entry(dst)
            fsync_path(os.path.dirname(self.p(name)))
            self.files[dst] = self.files.pop(name)
            return {name: None, dst: sha(self.files[dst])}
        elif kind == "unlink":
            os.unlink(self.p(name))
            fsync_path(os.path.dirname(self.p(name)))
            del self.files[name]
            return {name: None}
        else:
            raise ValueError(kind)
        return {name: sha(self.files[name])}

    def run(self, steps):
        for d in ("a", "b", "a/c"):
            os.mkdir(self.p(d))
        for d in ("a", ""):
            fsync_path(self.p(d))
        steps_out = []
        for i in range(steps):
            b, s = f"b-{i:02d}", f"s-{i:02d}"
            self.mark(b)
            if i == 0:
                self.files[STABLE] = self.rng.randbytes(96 * 1024)
                self.write(STABLE, self.files[STABLE])
                fsync_path(self.top)
                expect = {STABLE: sha(self.files[STABLE])}
            else:
                expect = self.op(SCHEDULE[(i - 1) % len(SCHEDULE)])
            touched = list(expect)
            if self.rng.random() < 0.5:
                # Unsynced noise: never checked, only makes the log busier.
                noise = f"a/c/noise{self.rng.randrange(4)}"
                self.write(noise, self.rng.randbytes(self.rng.choice(SIZES[2:])), sync=False)
                touched.append(noise)
            self.mark(s)
            steps_out.append({"begin": b, "sync": s, "touched": touched, "expect": expect})
        return {"stable": STABLE, "steps": steps_out}


def read_marks(path):
    marks = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 5 and w[1] == "mark":
                marks.setdefault(w[4], int(w[0]))
    return marks


def expected_at(manifest, marks, at):
    """{name: sha or None} that must hold after replaying entries 0..at."""
    state = {}
    for st in manifest["steps"]:
        for m in (st["begin"], st["sync"]):
            if m not in marks:
                raise KeyError(f"mark {m} is missing from the log")
        if marks[st["begin"]] >= at:
            break
        for name in st["touched"]:
            state.pop(name, None)
        if marks[st["sync"]] <= at:
            state.update(st["expect"])
    return state


def expect(a):
    with open(a.manifest) as f:
        manifest = json.load(f)
    marks = read_marks(a.entries)
    for at in a.at:
        try:
            state = expected_at(manifest, marks, at)
        except KeyError as err:
            print(f"crash-workload: {err.args[0]}", file=sys.stderr)
            return 1
        with open(os.path.join(a.out, f"{at}.sums"), "w") as sums, \
             open(os.path.join(a.out, f"{at}.absent"), "w") as absent:
            for name, want in sorted(state.items()):
                if want:
                    print(f"{want}  {name}", file=sums)
                else:
                    print(name, file=absent)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("--dm", required=True)
    r.add_argument("--manifest", required=True)
    r.add_argument("--steps", type=int, default=16)
    r.add_argument("--seed", type=int, default=87)
    e = sub.add_parser("expect")
    e.add_argument("--manifest", required=True)
    e.add_argument("--entries", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("at", type=int, nargs="+")
    a = ap.parse_args()
    if a.cmd == "expect":
        return expect(a)
    manifest = Workload(a.dir, a.dm, a.seed).run(a.steps)
    with open(a.manifest, "w") as f:
        json.dump(manifest, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
