// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl reencrypt: progress and pacing.  On a terminal one line is
 * redrawn every --progress-frequency seconds (default 1), as cryptsetup
 * does; otherwise (a log, --batch-mode) one line per 10 %, so a log stays
 * short.  --max-rate sleeps between steps so that the average since the
 * start stays at or below the rate.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "i18n.h"
#include "reencrypt_progress.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void reenc_progress_init(struct reenc_progress *p, uint64_t total, uint64_t done,
			 unsigned int freq_s, bool batch, unsigned int max_rate_mib)
{
	p->total = total;
	p->start_done = done;
	p->t0_us = p->last_us = now_us();
	p->tty = !batch && isatty(STDERR_FILENO);
	p->freq_s = freq_s ? freq_s : 1;
	p->step_pct = 10;
	p->last_pct = total ? (unsigned int)(done * 100 / total) : 100;
	p->max_rate_mib = max_rate_mib;
}

static void print(struct reenc_progress *p, uint64_t done, uint64_t t)
{
	double secs = (double)(t - p->t0_us) / 1e6;
	double rate = secs > 0 ? (double)(done - p->start_done) / secs : 0;
	double left = rate > 0 ? (double)(p->total - done) / rate : 0;
	unsigned int eta = (unsigned int)left;

	fprintf(stderr, _("%sProgress: %5.1f%%, %" PRIu64 " of %" PRIu64 " MiB, %.1f MiB/s, "
		"ETA %02u:%02u:%02u%s"), p->tty ? "\r" : "",
		p->total ? 100.0 * (double)done / (double)p->total : 100.0,
		done >> 20, p->total >> 20, rate / 1048576.0, eta / 3600, eta / 60 % 60,
		eta % 60, p->tty ? "\033[K" : "\n");
	fflush(stderr);
}

void reenc_progress_update(struct reenc_progress *p, uint64_t done)
{
	uint64_t t = now_us(), want;
	unsigned int pct = p->total ? (unsigned int)(done * 100 / p->total) : 100;

	if (p->tty ? t - p->last_us >= (uint64_t)p->freq_s * 1000000 :
		     pct / p->step_pct > p->last_pct / p->step_pct) {
		print(p, done, t);
		p->last_us = t;
		p->last_pct = pct;
	}
	if (!p->max_rate_mib || done >= p->total)
		return;
	/* the time the bytes moved so far may take at the rate */
	want = (done - p->start_done) * 1000000 / ((uint64_t)p->max_rate_mib << 20);
	if (t - p->t0_us < want) {
		uint64_t d = want - (t - p->t0_us);
		struct timespec ts = { (time_t)(d / 1000000), (long)(d % 1000000) * 1000 };

		nanosleep(&ts, NULL);	/* a signal ends it early: the job checks */
	}
}

void reenc_progress_end(struct reenc_progress *p, uint64_t done)
{
	print(p, done, now_us());
	if (p->tty)
		fputc('\n', stderr);
}
