#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# xts-read.py VKFILE IMG OFFSET SIZE SECTOR_SIZE: prints the plaintext of
# an aes-xts-plain64 LUKS2 data segment (OFFSET, SIZE in bytes) as dm-crypt
# reads it: one XTS unit per SECTOR_SIZE bytes, tweak = little-endian
# 512-byte sector number from the segment start (LUKS2 never sets
# iv_large_sectors).  A test oracle independent of vaultctl and cryptsetup.
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

vk = open(sys.argv[1], "rb").read()
off, size, ss = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = sys.stdout.buffer
with open(sys.argv[2], "rb") as f:
    f.seek(off)
    for pos in range(0, size, ss):
        unit = f.read(ss)
        tweak = (pos // 512).to_bytes(16, "little")
        d = Cipher(algorithms.AES(vk), modes.XTS(tweak)).decryptor()
        out.write(d.update(unit) + d.finalize())
