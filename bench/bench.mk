# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/bench.mk - the `bench` targets, included by the top-level Makefile
# (`-include bench/bench.mk`, after DEPS_PKGS is set).  Uses its REPO, KVER,
# KVERS and Q.  See Documentation/benchmark.rst.
#
#   make bench [KVER=<kernel>]    build, then one guest per kernel: results in
#                                 bench/results/<KVER>/ (results.md, .csv,
#                                 chart.png, raw.txt)
#   make bench-long [KVER=...]    the same with longer measurements and
#                                 more rounds (about an hour per kernel)
#   make bench-report             rebuild every report from its raw.txt
#   make bench-selftest           the statistics' own checks (no guest)
#
# Tunables are environment variables of bench/run-bench (BENCH_RUNTIME,
# BENCH_REPS, BENCH_BUDGET, BENCH_QUICK=1, ...).

# The report draws its chart with gnuplot; python3 runs the report.
DEPS_PKGS += gnuplot-nox python3

.PHONY: bench bench-long bench-report bench-selftest

bench: deps module userspace
	$(Q)$(REPO)/bench/run-bench $(KVERS)

bench-long: deps module userspace
	$(Q)BENCH_LONG=1 $(REPO)/bench/run-bench $(KVERS)

bench-selftest:
	$(Q)/usr/bin/python3 $(REPO)/bench/benchstats.py

bench-report:
	$(Q)found=0; for raw in $(REPO)/bench/results/*/raw.txt; do \
		[ -f "$$raw" ] || continue; found=1; \
		/usr/bin/python3 $(REPO)/bench/report "$$raw" || exit 1; \
		! grep -q '^BENCH-LAT-FIO' "$$raw" || \
			/usr/bin/python3 $(REPO)/bench/report-latency "$$raw" || exit 1; \
		! grep -q '^BENCH-CURVES-FIO' "$$raw" || \
			/usr/bin/python3 $(REPO)/bench/report-curves "$$raw" || exit 1; \
	done; \
	[ $$found = 1 ] || { echo "bench-report: no bench/results/*/raw.txt (make bench)" >&2; exit 1; }

# Online re-encryption, dm-vault beside cryptsetup, with a foreground fio
# job (bench/run-bench-reencrypt; minutes per kernel with the default 32 MiB):
# results in bench/results/<KVER>/reencrypt.md.
.PHONY: bench-reencrypt
bench-reencrypt: deps module userspace
	$(Q)$(REPO)/bench/run-bench-reencrypt $(KVERS)
