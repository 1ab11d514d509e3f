#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# craft.py: makes damaged-but-checksummed LUKS2 headers for the tests,
# independently of the library under test (Python's hashlib and json).
#
#   craft.py IMG json  'PYTHON'  [--copies both|primary|secondary]
#       runs PYTHON with `j` bound to the parsed JSON, writes it back
#   craft.py IMG text  'JSON TEXT' [--fill] [--copies ...]
#       puts TEXT in the JSON area (--fill: repeat to fill it, no NUL)
#   craft.py IMG field NAME VALUE [--copies ...]
#       sets a binary header field (seqid, hdr_size, hdr_offset, version,
#       csum_alg, label, uuid), recomputing the checksum
#   craft.py IMG get-json  prints the primary JSON text
import hashlib
import json
import struct
import sys

FIELDS = {  # name: (offset, struct format or byte length)
    "version": (6, ">H"), "hdr_size": (8, ">Q"), "seqid": (16, ">Q"),
    "hdr_offset": (256, ">Q"), "label": (24, 48), "csum_alg": (72, 32),
    "uuid": (168, 40),
}


def copies(img, which):
    with open(img, "rb") as f:
        hdr_size = struct.unpack(">Q", f.read(16)[8:16])[0]
    offs = {"primary": [0], "secondary": [hdr_size], "both": [0, hdr_size]}[which]
    return hdr_size, offs


def rewrite(img, off, hdr_size, binhdr=None, area=None):
    with open(img, "r+b") as f:
        f.seek(off)
        data = bytearray(f.read(hdr_size))
        if binhdr is not None:
            data[:4096] = binhdr
        if area is not None:
            data[4096:hdr_size] = area
        alg = bytes(data[72:104]).split(b"\0")[0].decode()
        data[448:512] = bytes(64)
        try:
            h = hashlib.new(alg, bytes(data)).digest()
        except ValueError:  # an algorithm the reader must refuse anyway
            h = b""
        data[448:448 + len(h)] = h
        f.seek(off)
        f.write(data)


def main():
    a = sys.argv[1:]
    which = "both"
    if "--copies" in a:
        i = a.index("--copies")
        which = a[i + 1]
        del a[i:i + 2]
    fill = "--fill" in a
    if fill:
        a.remove("--fill")
    img, cmd = a[0], a[1]
    hdr_size, offs = copies(img, which)
    area_len = hdr_size - 4096
    if cmd == "get-json":
        with open(img, "rb") as f:
            f.seek(4096)
            print(f.read(area_len).split(b"\0")[0].decode())
        return
    for off in offs:
        with open(img, "rb") as f:
            f.seek(off)
            binhdr = bytearray(f.read(4096))
            area = f.read(area_len)
        if cmd == "json":
            j = json.loads(area.split(b"\0")[0].decode())
            exec(a[2], {"j": j})
            text = json.dumps(j, separators=(",", ":")).encode()
            if len(text) >= area_len:
                sys.exit("JSON too large")
            rewrite(img, off, hdr_size, area=text + bytes(area_len - len(text)))
        elif cmd == "text":
            text = a[2].encode()
            if fill:
                text = (text * (area_len // max(len(text), 1) + 1))[:area_len]
            else:
                text = text[:area_len - 1]
            rewrite(img, off, hdr_size, area=text + bytes(area_len - len(text)))
        elif cmd == "field":
            pos, fmt = FIELDS[a[2]]
            if isinstance(fmt, int):
                v = a[3].encode()[:fmt - 1]
                binhdr[pos:pos + fmt] = v + bytes(fmt - len(v))
            else:
                binhdr[pos:pos + struct.calcsize(fmt)] = struct.pack(fmt, int(a[3]))
            rewrite(img, off, hdr_size, binhdr=bytes(binhdr))
        else:
            sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
