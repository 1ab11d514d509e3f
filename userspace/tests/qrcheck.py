#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# qrcheck.py FILE: checks the QR code vaultctl drew in FILE (its stderr)
# without a decoder: reads the half-block rendering back into modules and
# checks what every QR code must have: a square of 4*version+17 modules
# inside a light quiet zone of 4, the three finder patterns, the timing
# patterns, and format information whose BCH code is valid and says error
# correction level L.  Prints "ok VERSION" or why not; exit 0/1.
# qrcheck.py --control FILE flips one format-information module first: a
# positive control, which must fail.
import re
import sys

GLYPH = {" ": (0, 0), "\u2584": (0, 1), "\u2580": (1, 0), "\u2588": (1, 1)}  # light top, bottom


def fail(why):
    print("bad:", why)
    sys.exit(1)


control = sys.argv[1] == "--control"
text = open(sys.argv[-1], encoding="utf-8").read()
rows = []
for line in text.splitlines():
    if not line.startswith("\033[40;97m"):
        continue
    body = re.sub(r"\033\[[0-9;]*m", "", line)
    if any(c not in GLYPH for c in body):
        fail("unexpected character in the QR block")
    rows.append([GLYPH[c][0] for c in body])
    rows.append([GLYPH[c][1] for c in body])
if not rows:
    fail("no QR code in the output")
size = len(rows[0])
if any(len(r) != size for r in rows):
    fail("ragged lines")
rows = rows[:size]                       # the last half line is padding
if len(rows) != size:
    fail("not square")
Q = 4
for i in range(size):
    for j in range(size):
        if (i < Q or j < Q or i >= size - Q or j >= size - Q) and not rows[i][j]:
            fail("quiet zone not light at %d,%d" % (i, j))
w = size - 2 * Q
if (w - 17) % 4 or not 1 <= (w - 17) // 4 <= 40:
    fail("width %d is no QR version" % w)
dark = [[1 - rows[i + Q][j + Q] for j in range(w)] for i in range(w)]
if control:
    dark[2][8] ^= 1


def finder(r0, c0):
    for i in range(7):
        for j in range(7):
            ring = max(abs(i - 3), abs(j - 3))
            if dark[r0 + i][c0 + j] != (0 if ring == 2 else 1):
                return False
    return True


if not (finder(0, 0) and finder(0, w - 7) and finder(w - 7, 0)):
    fail("finder patterns missing")
for k in range(8, w - 8):
    if dark[6][k] != (k + 1) % 2 or dark[k][6] != (k + 1) % 2:
        fail("timing pattern broken at %d" % k)
bits = 0
for i in range(6):
    bits |= dark[i][8] << i
bits |= dark[7][8] << 6
bits |= dark[8][8] << 7
bits |= dark[8][7] << 8
for i in range(9, 15):
    bits |= dark[8][14 - i] << i
v = bits ^ 0x5412
data = v >> 10
rem = data
for _ in range(10):
    rem = (rem << 1) ^ ((rem >> 9) * 0x537)
if (data << 10 | rem) != v:
    fail("format information fails its BCH check")
if data >> 3 != 1:
    fail("error correction level is not L")
print("ok", (w - 17) // 4)
