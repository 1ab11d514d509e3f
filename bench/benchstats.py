# SPDX-License-Identifier: GPL-2.0-or-later
#
# benchstats.py - the statistics every bench report uses (see
# Documentation/benchmark.rst, "How a figure is judged").
#
# A comparison of contender A against contender B is made from paired
# repetitions: A and B ran in the same round, one after the other, so that
# whatever the host did to the guest in that round hit both alike.  The
# statistic is the ratio A/B of each pair.  Its logarithm turns the ratios
# into differences, whose mean is the log of the geometric mean of the
# ratios; the 95 % confidence interval is Student's t interval of that mean
# (a paired t-test on log scale), taken back with exp().
#
# Why t and not a bootstrap: make bench runs about six rounds, and a
# percentile bootstrap of six pairs has few distinct resamples and gives
# intervals that are too narrow (it ignores that the spread itself is
# estimated from six values); the t interval accounts for that.  Ratios of
# throughputs are close to log-normal, which the log makes symmetric.
import math
import statistics

# Student's t, two-sided 95 % (the 0.975 quantile), for 1..30 degrees of
# freedom; above 30 the normal approximation with a 1/df correction.
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
         2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t975(df):
    """The 0.975 quantile of Student's t with df degrees of freedom."""
    if df < 1:
        raise ValueError("t975: df must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    return 1.960 + 2.4 / df


def paired_ratio(pairs):
    """Geometric mean of a/b over pairs [(a, b)] and its 95 % interval.

    Returns (gm, lo, hi, n); lo and hi are None with fewer than two usable
    pairs (a pair with a value missing or not positive is left out)."""
    logs = [math.log(a / b) for a, b in pairs
            if a is not None and b is not None and a > 0 and b > 0]
    n = len(logs)
    if n == 0:
        return None, None, None, 0
    m = statistics.fmean(logs)
    if n < 2:
        return math.exp(m), None, None, n
    half = t975(n - 1) * statistics.stdev(logs) / math.sqrt(n)
    return math.exp(m), math.exp(m - half), math.exp(m + half), n


def verdict(lo, hi, higher_is_better=True):
    """'win', 'loss' or 'tie' for A against B from A/B's interval.

    A win or a loss only when the interval excludes 1; no interval is a
    tie (nothing can be claimed)."""
    if lo is None or hi is None:
        return "tie"
    if lo > 1.0:
        return "win" if higher_is_better else "loss"
    if hi < 1.0:
        return "loss" if higher_is_better else "win"
    return "tie"


def self_test():
    """Checks run by `make bench-selftest` (no guest needed)."""
    # Identical ratios: a zero-width interval at that ratio.
    gm, lo, hi, n = paired_ratio([(2.0, 1.0)] * 4)
    assert n == 4 and abs(gm - 2) < 1e-12 and abs(lo - 2) < 1e-12 and abs(hi - 2) < 1e-12
    # Ratios around 1 both ways: a tie.
    gm, lo, hi, n = paired_ratio([(1.1, 1.0), (0.9, 1.0), (1.05, 1.0), (0.95, 1.0)])
    assert lo < 1 < hi and verdict(lo, hi) == "tie"
    # Consistently 10 % ahead with 2 % noise: a win; for a lower-is-better
    # metric the same interval is a loss.
    pairs = [(110 * f, 100) for f in (0.98, 1.01, 1.02, 0.99, 1.0, 1.0)]
    gm, lo, hi, n = paired_ratio(pairs)
    assert 1.0 < lo < gm < hi and abs(gm - 1.1) < 0.01
    assert verdict(lo, hi, True) == "win" and verdict(lo, hi, False) == "loss"
    # Hand-computed: logs of 1.2, 1.0 -> mean ln(1.2)/2, sd ln(1.2)/sqrt(2),
    # half-width 12.706 * sd / sqrt(2) = 12.706 * ln(1.2) / 2.
    gm, lo, hi, n = paired_ratio([(1.2, 1.0), (1.0, 1.0)])
    h = 12.706 * math.log(1.2) / 2
    assert abs(gm - math.sqrt(1.2)) < 1e-9
    assert abs(lo - math.exp(math.log(1.2) / 2 - h)) < 1e-9
    # A missing or zero value drops the pair; one pair gives no interval.
    gm, lo, hi, n = paired_ratio([(1.0, None), (0.0, 1.0), (3.0, 2.0)])
    assert n == 1 and lo is None and verdict(lo, hi) == "tie"
    assert t975(100) < t975(30) < t975(5)
    return True


if __name__ == "__main__":
    self_test()
    print("benchstats: self-test passed")
