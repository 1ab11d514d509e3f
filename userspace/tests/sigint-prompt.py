#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# sigint-prompt.py VAULTCTL ARGS...: runs vaultctl on a new pseudo-terminal,
# waits for its passphrase prompt, checks that echo is off, types Ctrl-C
# (the terminal turns it into SIGINT) and checks that vaultctl ends within
# 3 seconds, killed by SIGINT (status 130 in a shell), with the terminal's
# echo back on.  Prints one line per finding; exits 0 when all hold.
import os
import pty
import signal
import sys
import termios
import time

from ptyio import read_until


def main():
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[1], sys.argv[1:])
    ok = True
    out = read_until(fd, b"passphrase", 30)
    if b"passphrase" not in out:
        print("no prompt seen: %r" % out)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return 1
    time.sleep(0.3)		# let it turn echo off after the prompt
    if termios.tcgetattr(fd)[3] & termios.ECHO:
        print("echo is on at the prompt")
        ok = False
    os.write(fd, b"\x03")
    start = time.monotonic()
    status = None
    while time.monotonic() - start < 3:
        read_until(fd, b"\0", 0.05)	# drain output
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            status = st
            break
    if status is None:
        print("still running 3 s after Ctrl-C")
        # the terminal state while it hangs tells nothing; end it
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return 1
    took = time.monotonic() - start
    try:
        echo = termios.tcgetattr(fd)[3] & termios.ECHO
    except termios.error as e:
        print("cannot read the terminal state after exit: %s" % e)
        echo = 0
    if not echo:
        print("echo still off after exit")
        ok = False
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT:
        print("ended by SIGINT after %.2f s" % took)
    else:
        print("ended with status %s after %.2f s, not by SIGINT" %
              (os.WEXITSTATUS(status) if os.WIFEXITED(status) else status, took))
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
