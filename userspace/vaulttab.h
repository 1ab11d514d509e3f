/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: /etc/vaulttab, the list of volumes to open at boot, in
 * crypttab(5) syntax: "NAME DEVICE [KEYFILE [OPTIONS]]" per line.  This file
 * only parses and checks; tabcmd.c opens and closes what it lists.
 */
#ifndef VAULTCTL_VAULTTAB_H
#define VAULTCTL_VAULTTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAULTTAB_DEFAULT	"/etc/vaulttab"
#define VAULTTAB_LINE_MAX	4096	/* bytes of a line, newline included */
#define VAULTTAB_ENTRIES_MAX	256
#define VAULTTAB_ERR_MAX	512	/* bytes of one error message */
#define VAULTTAB_SIZE_MAX	(1 << 20)	/* bytes of the file */
#define VAULTTAB_ERRORS_MAX	50	/* then the rest is not read */
#define VT_TOKEN_TIMEOUT_DEFAULT_US	(30ULL * 1000000)	/* systemd's token-timeout= */
#define VT_TPM2_PCR_MAX		23

enum vt_type {
	VT_AUTO,	/* LUKS2 when the device holds a LUKS2 header */
	VT_LUKS,
	VT_PLAIN,
};

/* One line of the file, checked. */
struct vt_entry {
	unsigned int line;
	char *name;
	char *device;		/* a path or TAG=VALUE */
	char *key_file;		/* NULL: ask for a passphrase */
	enum vt_type type;

	/* plain mode */
	char *cipher;		/* NULL: the default */
	unsigned int key_bits;	/* size=, 0: the default */
	uint64_t offset;	/* 512-byte sectors */
	uint64_t skip;		/* IV offset, 512-byte sectors */
	unsigned int sector_size;	/* 0: 512 */
	bool iv_large_sectors;

	/* both */
	bool discard;
	bool readonly;
	bool same_cpu_crypt;
	bool no_read_workqueue;
	bool no_write_workqueue;
	uint64_t keyfile_offset;

	/* LUKS2 */
	uint64_t keyfile_size;	/* 0: the whole file */
	int key_slot;		/* -1: any */
	unsigned int tries;	/* 0: unlimited */

	/* tokens and prompts: systemd 252's crypttab(5) options and meanings */
	bool headless;		/* headless=: never ask (passphrase or PIN) */
	uint64_t timeout_us;	/* timeout=: give up a prompt after this; 0: never */
	uint64_t token_timeout_us;	/* token-timeout=: wait for a TPM; 0: for ever */
	char *tpm2_device;	/* tpm2-device=: "auto", a device path or a TCTI; NULL: unset */
	uint32_t tpm2_pcrs;	/* tpm2-pcrs=: PCR mask, when tpm2_pcrs_set */
	bool tpm2_pcrs_set;
	int tpm2_pin;		/* tpm2-pin=: -1 unset, 0 no, 1 yes */
	bool pkcs11_auto;	/* pkcs11-uri=auto: unlock with the systemd-pkcs11 token */
	char *header;		/* header=: detached LUKS2 header file; NULL: on the device */

	/* for the boot scripts */
	bool initramfs;
	bool noauto;
	bool nofail;
};

struct vaulttab {
	char *path;
	struct vt_entry *entries;
	size_t count;
	unsigned int errors;	/* lines that were rejected */
	/* names of rejected lines (NULL where the line had none), for "open --all NAME" */
	char **bad_names;
	size_t bad_count;
};

/*
 * Parses one line (without its newline; LEN bytes, NULs included) of FILE
 * into E.  Returns 1 for an entry, 0 for a blank or comment line, and -1
 * for an error, whose text (without "FILE:LINE: ") is in ERR.  On -1, when
 * the line has a first field, *BAD_NAME gets a malloc'ed copy of it.
 */
int vaulttab_parse_line(const char *line, size_t len, unsigned int lineno, struct vt_entry *e,
			char *err, size_t err_len, char **bad_name);

/*
 * Reads PATH into T.  Every rejected line is reported as "FILE:LINE: why"
 * with log_err() and counted in T->errors; the good lines are kept.  Also
 * rejects duplicate names.  Stops after VAULTTAB_ERRORS_MAX errors.
 * Returns 0, or a negative errno (after a message) when the file cannot be
 * read at all or is larger than VAULTTAB_SIZE_MAX (-EFBIG).
 */
int vaulttab_load(const char *path, struct vaulttab *t);

void vaulttab_free(struct vaulttab *t);
void vt_entry_free(struct vt_entry *e);

/* The entry called NAME, or NULL. */
const struct vt_entry *vaulttab_find(const struct vaulttab *t, const char *name);

/* True when NAME was the first field of a rejected line. */
bool vaulttab_is_bad(const struct vaulttab *t, const char *name);

/*
 * E as one normalized vaulttab line (no newline): canonical option names
 * in a fixed order, defaults left out.  Returns 0, or -ENOSPC.
 */
int vt_entry_format(const struct vt_entry *e, char *buf, size_t len);

/*
 * Parses a systemd time span ("30", "30s", "1min30s", "500ms", "infinity":
 * units us, ms, s, min, h, d and their systemd spellings; no unit means
 * seconds) into microseconds.  "infinity" is 0, as 0 is ("no limit").
 * Returns 0, -EINVAL, or -ERANGE when it does not fit 64 bits.
 */
int vt_parse_timespan(const char *s, uint64_t *us);

/*
 * Parses a tpm2-pcrs= list as systemd 252 does: PCR numbers 0 to 23
 * separated by "+" (or ","), empty for none.  Returns 0 or -EINVAL (ERR
 * then says why).
 */
int vt_parse_pcrs(const char *s, uint32_t *mask, char *err, size_t len);

/* True when DEVICE is a TAG=VALUE the parser accepts (UUID=, LABEL=, ...). */
bool vt_device_is_tag(const char *device);

#endif
