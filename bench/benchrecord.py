# SPDX-License-Identifier: GPL-2.0-or-later
#
# benchrecord.py - reading the guest's record lines (BENCH-*, BENCH-LAT-*,
# BENCH-CURVES-*), shared by bench/report, bench/report-latency and
# bench/report-curves.


def kv(words):
    """The k=v words of a record line as a dict (other words ignored)."""
    out = {}
    for w in words:
        k, sep, v = w.partition("=")
        if sep:
            out[k] = v
    return out
