/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: the parameters of a "vault" target line, built and parsed.
 *
 *   <cipher> <key> <iv_offset> <device> <offset> [<#opt> <opt>...]
 *
 * The key is always "key:<name>", a key loaded through /dev/vault-control;
 * no key bytes ever appear in a table line.
 */
#ifndef VAULTCTL_TABLE_H
#define VAULTCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAULT_TARGET		"vault"
#define TABLE_CIPHER_MAX	128
#define TABLE_KEY_MAX		160
#define TABLE_DEVICE_MAX	256
#define TABLE_EXTRA_MAX		512
#define TABLE_PARAMS_MAX	2048

struct vault_table {
	char cipher[TABLE_CIPHER_MAX];
	char key[TABLE_KEY_MAX];	/* as the target reports it; unused by build */
	uint64_t iv_offset;		/* 512-byte sectors, or sector_size units */
	char device[TABLE_DEVICE_MAX];	/* "MAJ:MIN" or a path */
	uint64_t offset;		/* 512-byte sectors */
	unsigned int sector_size;	/* 512 unless sector_size:N */
	bool iv_large_sectors;
	bool allow_discards;
	bool same_cpu_crypt;
	bool submit_from_crypt_cpus;
	bool no_read_workqueue;
	bool no_write_workqueue;
	bool high_priority;
	unsigned int nr_extra;		/* options this tool does not know */
	char extra[TABLE_EXTRA_MAX];	/* kept verbatim, space separated */
};

/* Checks a cipher specification: 1..127 printable characters, no blanks. */
int table_cipher_valid(const char *cipher);

/* Checks a sector size: a power of two from 512 to 4096. */
int table_sector_size_valid(unsigned int sector_size);

/* Writes the parameters, naming KEYNAME as "key:KEYNAME". */
int table_build_params(const struct vault_table *t, const char *keyname,
		       char *buf, size_t len);

/* Writes "<start> <len> vault <params>", the line dmsetup would show. */
int table_format_line(uint64_t start, uint64_t len, const char *params,
		      char *buf, size_t len_buf);

/* Parses parameters as the target reports them in its table status. */
int table_parse_params(const char *params, struct vault_table *t);

/* Space separated names of the set flags ("" when none). */
void table_flags_string(const struct vault_table *t, char *buf, size_t len);

/*
 * Key size in bits as far as the key field tells it: "key:vaultctl-...-<bits>b"
 * (a temporary key named by vaultctl), a hex key, or ":<bytes>:..." as
 * dm-crypt reports keyring keys.  0 when unknown.
 */
unsigned int table_key_bits_from_field(const char *key);

/*
 * Size of a mapping in 512-byte sectors.  WANT == 0: everything after
 * OFFSET, rounded down to SECTOR_SIZE; else WANT, which must fit and be a
 * multiple of SECTOR_SIZE.  Prints why when it fails (-EINVAL).
 */
int table_mapping_size(const char *device, uint64_t dev_sectors, uint64_t offset,
		       uint64_t want, unsigned int sector_size, uint64_t *size);

#endif
