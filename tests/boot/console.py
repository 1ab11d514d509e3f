#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Drive a QEMU guest's serial console (QEMU's -serial stdio) from a script.

usage: console.py --log FILE --steps FILE -- QEMU-COMMAND...

The steps file holds one step a line (blank lines and '#' lines skipped):
  expect SECONDS TEXT    wait up to SECONDS for TEXT (a literal substring)
                         in the output after the previous match
  send TEXT              type TEXT then Enter (a carriage return, as a
                         terminal does)
  fail TEXT              from now on, TEXT anywhere in the output fails the
                         run at once (e.g. "Kernel panic")
  absent TEXT            TEXT must not appear in the whole output (checked
                         when the run ends)
  never TEXT             from now on, TEXT appearing in the output after
                         this point fails the run (a prompt that must not
                         come back)
  pause SECONDS          keep reading the output for SECONDS (a human's
                         pace before typing)
  exit SECONDS           wait up to SECONDS for QEMU to exit by itself
  run SECONDS COMMAND    run `sh -c COMMAND` on the host (reading the console
                         meanwhile), up to SECONDS; the step fails when it
                         exits non-zero or is still running then (killed).
                         Its output goes to the log and to stdout as "# "
                         lines (e.g. ssh into the guest: keep secrets out
                         of COMMAND and of its output)
TEXT runs to the end of the line; \\n \\r \\t \\\\ and \\xHH (a byte, e.g.
\\x7f: Delete, the terminal's erase key) are unescaped.

Each step prints "# step N: ... ok|FAILED (T s)".  The whole transcript
(guest output, with "[console +T s] ..." notes between) goes to the log.
Exit status 0 when every step passed, 1 when one failed (QEMU is then
killed), 2 on bad usage.  The total time is bounded by the sum of the
step timeouts (plus a few seconds to stop QEMU).
"""

import os
import select
import signal
import subprocess
import sys
import time


def unescape(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x" and len(text[i + 2:i + 4]) == 2:
                try:
                    out.append(chr(int(text[i + 2:i + 4], 16)))
                    i += 4
                    continue
                except ValueError:
                    pass
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}.get(n, "\\" + n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_steps(path):
    steps = []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            op, _, rest = line.partition(" ")
            if op in ("expect", "exit", "pause", "run"):
                secs, _, text = rest.partition(" ")
                try:
                    secs = float(secs)
                except ValueError:
                    sys.exit(f"console.py: {path}:{lineno}: '{op}' needs SECONDS first")
                steps.append((op, secs, unescape(text)))
            elif op in ("send", "fail", "absent", "never"):
                steps.append((op, 0.0, unescape(rest)))
            else:
                sys.exit(f"console.py: {path}:{lineno}: unknown step '{op}'")
    return steps


class Console:
    def __init__(self, cmd, log):
        self.log = log
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = ""  # everything read so far
        self.pos = 0  # where the next expect starts
        self.eof = False
        self.fail_texts = []  # (text, where the search starts)

    def elapsed(self):
        return time.monotonic() - self.t0

    def note(self, msg):
        self.log.write(f"\n[console +{self.elapsed():.1f} s] {msg}\n".encode())
        self.log.flush()

    def pump(self, timeout):
        """Read what QEMU printed within timeout seconds; False at EOF."""
        if self.eof:
            time.sleep(min(timeout, 0.1))
            return False
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            self.eof = True
            return False
        self.log.write(data)
        self.log.flush()
        self.buf += data.decode("latin-1")
        return True

    def failed_text(self):
        for t, start in self.fail_texts:
            if self.buf.find(t, start) >= 0:
                return t
        return None

    def capture_report(self, secs=3.0):
        # A kernel report is many lines: keep reading briefly after its
        # first line so that the transcript holds the trace, not just "BUG:".
        deadline = time.monotonic() + secs
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.pump(min(left, 0.5))

    def expect(self, secs, text):
        deadline = time.monotonic() + secs
        while True:
            at = self.buf.find(text, self.pos)
            if at >= 0:
                self.pos = at + len(text)
                return None
            bad = self.failed_text()
            if bad:
                self.capture_report()
                return f"saw '{bad}'"
            left = deadline - time.monotonic()
            if left <= 0:
                return f"timed out after {secs:g} s"
            if not self.pump(min(left, 0.5)) and self.eof:
                # Drain what is left, then give up.
                if self.buf.find(text, self.pos) < 0:
                    return "QEMU exited"

    def send(self, text):
        try:
            self.proc.stdin.write((text + "\r").encode("latin-1"))
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "QEMU exited"
        return None

    def wait_exit(self, secs):
        deadline = time.monotonic() + secs
        while time.monotonic() < deadline:
            bad = self.failed_text()
            if bad:
                self.capture_report()
                return f"saw '{bad}'"
            self.pump(0.5)
            if self.eof and self.proc.poll() is not None:
                return None
        return f"QEMU still running after {secs:g} s"

    def run(self, secs, command):
        proc = subprocess.Popen(["sh", "-c", command], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + secs
        while proc.poll() is None and time.monotonic() < deadline:
            self.pump(0.2)
        err = None
        if proc.poll() is None:
            proc.kill()
            err = f"still running after {secs:g} s"
        out = proc.communicate()[0].decode(errors="replace")
        self.note("run output:\n" + out)
        for line in out.splitlines():
            print("#   run: " + line, flush=True)
        if not err and proc.returncode:
            err = f"exit status {proc.returncode}"
        return err

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        while not self.eof:
            self.pump(0.1)


def describe(op, secs, text):
    shown = text.replace("\r", "\\r").replace("\n", "\\n")
    if op == "send":
        return "send a line"  # may be a passphrase: not shown
    if op == "exit":
        return f"QEMU exits within {secs:g} s"
    if op == "pause":
        return f"pause {secs:g} s"
    if op == "expect":
        return f"expect '{shown}' within {secs:g} s"
    if op == "run":
        return f"run '{shown}' within {secs:g} s"
    return f"{op} '{shown}'"


def main():
    args = sys.argv[1:]
    log_path = steps_path = None
    while args and args[0] != "--":
        if args[0] == "--log" and len(args) > 1:
            log_path = args[1]
        elif args[0] == "--steps" and len(args) > 1:
            steps_path = args[1]
        else:
            print(__doc__, file=sys.stderr)
            return 2
        args = args[2:]
    if not log_path or not steps_path or len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    steps = parse_steps(steps_path)
    # A time limit from outside (timeout(1)) must not leave QEMU behind.
    def on_term(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    absent = []
    with open(log_path, "wb") as log:
        con = Console(args[1:], log)
        con.note("started: " + " ".join(args[1:]))
        try:
            rc = run_steps(con, steps, absent)
        finally:
            con.stop()
        for text in absent:
            if text in con.buf:
                print(f"# '{text}' appeared in the output, it must not", flush=True)
                con.note(f"FAILED: '{text}' appeared")
                rc = 1
        con.note(f"done, status {rc}")
    if rc:
        tail = con.buf[-6000:].replace("\r", "")
        print("# last console output:", flush=True)
        for line in tail.splitlines()[-60:]:
            print("#   " + line, flush=True)
    return rc


def run_steps(con, steps, absent):
    for n, (op, secs, text) in enumerate(steps, 1):
        t = con.elapsed()
        err = None
        if op == "expect":
            err = con.expect(secs, text)
        elif op == "send":
            err = con.send(text)
        elif op == "fail":
            con.fail_texts.append((text, 0))
        elif op == "never":
            con.fail_texts.append((text, len(con.buf)))
        elif op == "absent":
            absent.append(text)
        elif op == "exit":
            err = con.wait_exit(secs)
        elif op == "run":
            err = con.run(secs, text)
        elif op == "pause":
            end = con.elapsed() + secs
            while con.elapsed() < end and not con.eof:
                con.pump(0.1)
        what = describe(op, secs, text)
        result = "FAILED: " + err if err else "ok"
        con.note(f"step {n}: {what}: {result}")
        if op in ("expect", "exit", "run") or err:
            print(f"# step {n}: {what}: {result}"
                  f" ({con.elapsed() - t:.1f} s, at {con.elapsed():.1f} s)", flush=True)
        if err:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
