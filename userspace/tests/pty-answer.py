#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# pty-answer.py PATTERN ANSWER COMMAND ARGS...
# pty-answer.py PATTERN ANSWER [PATTERN ANSWER...] -- COMMAND ARGS...
# runs COMMAND on a new pseudo-terminal; for each pair in turn waits (up
# to 30 s) for PATTERN in its output after the previous one, types ANSWER
# and a newline; then waits for it to end.  Prints everything the command
# wrote to the terminal; exits with the command's status (99 when a
# PATTERN never came, killing the command).  ANSWER may hold \\xHH bytes
# (\\x7f: Delete).  PTY_LOCKED_RAW=1: the terminal is made raw and its modes
# locked (TIOCSLCKTRMIOS, needs root) first, as plymouth leaves the serial
# console.
import codecs
import fcntl
import os
import pty
import sys
import termios
import tty

from ptyio import read_until


def main():
    args = sys.argv[1:]
    if "--" in args:
        cut = args.index("--")
        pairs, cmd = args[:cut], args[cut + 1:]
    else:
        pairs, cmd = args[:2], args[2:]
    pairs = [(pairs[i].encode(), codecs.escape_decode(pairs[i + 1].encode())[0])
             for i in range(0, len(pairs) - 1, 2)]
    pid, fd = pty.fork()
    if pid == 0:
        if os.environ.get("PTY_LOCKED_RAW") == "1":
            tty.setraw(0)
            mode = termios.tcgetattr(0)
            mode[0] |= termios.ICRNL
            mode[1] |= termios.OPOST | termios.ONLCR
            termios.tcsetattr(0, termios.TCSANOW, mode)
            fcntl.ioctl(0, termios.TIOCSLCKTRMIOS, b"\xff" * 60)
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
