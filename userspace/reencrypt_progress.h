/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl reencrypt: progress on stderr (bytes done of total, rate, time
 * left) and pacing (--max-rate).
 */
#ifndef VAULTCTL_REENCRYPT_PROGRESS_H
#define VAULTCTL_REENCRYPT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct reenc_progress {
	uint64_t total, start_done;	/* bytes */
	uint64_t t0_us, last_us;	/* monotonic */
	bool tty;			/* stderr is a terminal: one line redrawn */
	unsigned int freq_s;		/* a line every FREQ_S seconds (terminal) */
	unsigned int step_pct;		/* not a terminal: one line per STEP_PCT % */
	unsigned int last_pct;
	unsigned int max_rate_mib;	/* 0: no pause */
};

void reenc_progress_init(struct reenc_progress *p, uint64_t total, uint64_t done,
			 unsigned int freq_s, bool batch, unsigned int max_rate_mib);
/* DONE bytes are now under the new key: maybe print, then pause for --max-rate. */
void reenc_progress_update(struct reenc_progress *p, uint64_t done);
/* The last line (and a newline on a terminal). */
void reenc_progress_end(struct reenc_progress *p, uint64_t done);

#endif
