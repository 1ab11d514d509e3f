#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pty-answer.py PATTERN ANSWER COMMAND ARGS...
# pty-answer.py PATTERN ANSWER [PATTERN ANSWER...] -- COMMAND ARGS...
# runs COMMAND on a new pseudo-terminal; for each pair in turn waits (up
# to 30 s) for PATTERN in its output after the previous one, types ANSWER
# and a newline; then waits for it to end.  Prints everything the command
# wrote to the terminal; exits with the command's status (99 when a
# PATTERN never came, killing the command).
import os
import pty
import sys

from ptyio import read_until


def main():
    args = sys.argv[1:]
    if "--" in args:
        cut = args.index("--")
        pairs, cmd = args[:cut], args[cut + 1:]
    else:
        pairs, cmd = args[:2], args[2:]
    pairs = [(pairs[i].encode(), pairs[i + 1].encode()) for i in range(0, len(pairs) - 1, 2)]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    for pattern, answer in pairs:
        more = read_until(fd, pattern, 30)
        out += more
        if pattern not in more:
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
