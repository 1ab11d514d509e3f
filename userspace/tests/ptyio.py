# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared by the host tests that drive vaultctl on a pseudo-terminal
# (pty-answer.py, sigint-prompt.py).
import os
import select
import time


def read_until(fd, pattern, limit):
    """Read fd until pattern (bytes; None: until EOF) appears or limit s pass."""
    out = b""
    end = time.monotonic() + limit
    while (pattern is None or pattern not in out) and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out
