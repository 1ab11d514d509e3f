#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pty-steps.py STEP ARG [STEP ARG...] -- COMMAND ARGS...
# runs COMMAND on a new pseudo-terminal and, in turn:
#   expect PATTERN   waits (up to 30 s) for PATTERN in its output after the
#                    previous one (exit 99, killing it, when it never comes)
#   type TEXT        types TEXT and a newline on COMMAND's terminal
#   run SHELLCMD     runs `sh -c SHELLCMD` on the host meanwhile (its own
#                    stdin/stdout: the caller redirects them) and waits for
#                    it (up to 120 s, then killed); its exit status is
#                    printed as "[run N: status S after T s]" into the
#                    transcript
# then waits (up to 30 s) for COMMAND to end (else kills its process group:
# exit 98).  Prints COMMAND's terminal output; exits with COMMAND's status.  For the answer channel's tests: a
# prompt waiting on a terminal while another program answers it.
import os
import pty
import signal
import subprocess
import sys
import time

from ptyio import read_until


def main():
    args = sys.argv[1:]
    cut = args.index("--")
    steps, cmd = args[:cut], args[cut + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    pos = 0
    runs = 0
    for i in range(0, len(steps) - 1, 2):
        op, arg = steps[i], steps[i + 1]
        if op == "expect":
            # after the previous match, including what a run step read
            pat = arg.encode()
            if pat not in out[pos:]:
                out += read_until(fd, pat, 30)
            at = out.find(pat, pos)
            if at >= 0:
                pos = at + len(pat)
            else:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                sys.stdout.write(out.decode(errors="replace"))
                sys.stdout.write(f"\n[expect '{arg}': not seen]\n")
                return 99
        elif op == "type":
            os.write(fd, arg.encode() + b"\n")
        elif op == "run":
            runs += 1
            t0 = time.monotonic()
            proc = subprocess.Popen(["sh", "-c", arg])
            end = t0 + 120
            # keep reading the terminal: the prompt must not block on it
            while proc.poll() is None and time.monotonic() < end:
                out += read_until(fd, b"\0never\0", 0.2)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            secs = time.monotonic() - t0
            out += f"\n[run {runs}: status {proc.returncode} after {secs:.1f} s]\n".encode()
        else:
            sys.exit(f"pty-steps.py: unknown step {op}")
    out += read_until(fd, None, 30)
    end = time.monotonic() + 5
    done, status = os.waitpid(pid, os.WNOHANG)
    while not done and time.monotonic() < end:
        time.sleep(0.1)
        done, status = os.waitpid(pid, os.WNOHANG)
    if not done:
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.stdout.write(out.decode(errors="replace"))
        sys.stdout.write("\n[still running: killed]\n")
        return 98
    sys.stdout.write(out.decode(errors="replace"))
    return os.waitstatus_to_exitcode(status)


sys.exit(main())
