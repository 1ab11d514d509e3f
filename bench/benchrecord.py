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


def records(lines, prefix, rec):
    """(tag, rest) of each line whose tag begins with PREFIX ("BENCH-LAT-",
    ...), but for PREFIX + INFO and CONF, whose k=v words go to rec["info"]
    and rec["conf"]; every BENCH-HOST line is added to rec["host"]."""
    for line in lines:
        line = line.rstrip("\n")
        if line.startswith("BENCH-HOST "):
            rec["host"] += line[len("BENCH-HOST "):] + " "
        if not line.startswith(prefix):
            continue
        tag, _, rest = line.partition(" ")
        if tag == prefix + "INFO":
            rec["info"].update(kv(rest.split()))
        elif tag == prefix + "CONF":
            rec["conf"].update(kv(rest.split()))
        else:
            yield tag, rest
