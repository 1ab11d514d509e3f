#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pty-answer.py PATTERN ANSWER COMMAND ARGS...: runs COMMAND on a new
# pseudo-terminal, waits (up to 30 s) for PATTERN in its output, types
# ANSWER and a newline, and waits for it to end.  Prints everything the
# command wrote to the terminal; exits with the command's status (99 when
# PATTERN never came, killing the command).
import os
import pty
import sys

from ptyio import read_until


def main():
    pattern, answer = sys.argv[1].encode(), sys.argv[2].encode()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[3], sys.argv[3:])
    out = read_until(fd, pattern, 30)
    if pattern not in out:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        sys.stdout.write(out.decode(errors="replace"))
        return 99
    os.write(fd, answer + b"\n")
    out += read_until(fd, None, 30)
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    return os.waitstatus_to_exitcode(status)


sys.exit(main())
