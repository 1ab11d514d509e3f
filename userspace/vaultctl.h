/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: command line options and the table of actions.
 */
#ifndef VAULTCTL_H
#define VAULTCTL_H

#include <stdbool.h>
#include <stdint.h>

struct pass_cache;

/* From the top-level VERSION file (userspace/Makefile). */
#ifndef VAULTCTL_VERSION
#error "VAULTCTL_VERSION is not defined: build with userspace/Makefile"
#endif

#define DEFAULT_CIPHER		"aes-xts-plain64"
#define DEFAULT_KEY_BITS	512
#define UUID_PREFIX		"VAULT-"
#define UUID_PREFIX_PLAIN	"VAULT-PLAIN-"
#define UUID_PREFIX_LUKS2	"VAULT-LUKS2-"
#define DEFAULT_TRIES		3

/* One bit per option, to say which options an action accepts. */
enum vault_opt {
	OPT_TYPE,
	OPT_CIPHER,
	OPT_KEY_SIZE,
	OPT_KEY_FILE,
	OPT_KEYFILE_OFFSET,
	OPT_OFFSET,
	OPT_IV_OFFSET,
	OPT_SECTOR_SIZE,
	OPT_IV_LARGE_SECTORS,
	OPT_ALLOW_DISCARDS,
	OPT_SAME_CPU_CRYPT,
	OPT_NO_READ_WORKQUEUE,
	OPT_NO_WRITE_WORKQUEUE,
	OPT_READONLY,
	OPT_SIZE,
	OPT_KEYFILE_SIZE,
	OPT_PBKDF,
	OPT_HASH,
	OPT_ITER_TIME,
	OPT_PBKDF_MEMORY,
	OPT_PBKDF_PARALLEL,
	OPT_PBKDF_FORCE_ITERATIONS,
	OPT_LABEL,
	OPT_UUID,
	OPT_METADATA_SIZE,
	OPT_KEY_SLOT,
	OPT_TRIES,
	OPT_ALL,
	OPT_VAULTTAB,
	OPT_BATCH_MODE,
	OPT_FORCE,
	OPT_TOKEN_ID,
	OPT_TOKEN_TYPE,
	OPT_TOKEN_ONLY,
	OPT_TOKEN_PIN_AGENT,
	OPT_DISABLE_TOKENS,
	OPT_TEST_PASSPHRASE,
	OPT_RECOVERY_KEY,
	OPT_RECOVERY_KEY_FILE,
	OPT_QRCODE,
	OPT_WIPE_SLOT,
	OPT_TPM2_DEVICE,
	OPT_TPM2_PCRS,
	OPT_TPM2_WITH_PIN,
	OPT_TPM2_MEASURE_PCR,
	OPT_CLEVIS,
	OPT_CLEVIS_TRUST,
	OPT_TOKEN_TIMEOUT,
	OPT_PKCS11_TOKEN_URI,
	OPT_SUBSYSTEM,
	OPT_DUMP_JSON,
	OPT_DUMP_VOLUME_KEY,
	OPT_VOLUME_KEY_FILE,
	OPT_JSON_FILE,
	OPT_DEVICE_SIZE,
	OPT_INIT_ONLY,
	OPT_RESILIENCE,
	OPT_REDUCE_DEVICE_SIZE,
	OPT_RESUME_ONLY,
	OPT_HEADER,
	OPT_HOTZONE_SIZE,
	OPT_MAX_RATE,
	OPT_PROGRESS_FREQUENCY,
	OPT_VERBOSE,
	OPT_DEBUG,
	OPT_HELP,
	OPT_VERSION,
	OPT_COUNT
};

/* One bit per option; 128 leave room as commands and tokens arrive. */
typedef unsigned __int128 opt_mask;
#define OPTB(o)	((opt_mask)1 << (o))
_Static_assert(OPT_COUNT <= 128, "vault_opts.set has one bit per option");
#define OPTS_GLOBAL	(OPTB(OPT_VERBOSE) | OPTB(OPT_DEBUG) | OPTB(OPT_HELP))

struct vault_opts {
	opt_mask set;			/* OPTB() of every option given */
	const char *type;
	const char *cipher;
	unsigned int key_bits;
	const char *key_file;
	uint64_t keyfile_offset;	/* bytes */
	uint64_t offset;		/* 512-byte sectors */
	uint64_t iv_offset;		/* 512-byte sectors (or sector_size units) */
	unsigned int sector_size;
	bool iv_large_sectors;
	bool allow_discards;
	bool same_cpu_crypt;
	bool no_read_workqueue;
	bool no_write_workqueue;
	bool readonly;
	uint64_t size;			/* 512-byte sectors, 0 = whole device */
	uint64_t device_size;		/* resize --device-size, in 512-byte sectors */

	/* LUKS2 */
	uint64_t keyfile_size;		/* bytes of a passphrase file, 0 = all */
	const char *pbkdf;		/* "argon2id", "argon2i", "pbkdf2" */
	const char *hash;		/* pbkdf2 hash */
	unsigned int iter_time_ms;
	unsigned int pbkdf_memory_kb;
	unsigned int pbkdf_parallel;
	unsigned int pbkdf_iterations;	/* --pbkdf-force-iterations */
	const char *label;
	const char *subsystem;		/* config --subsystem */
	const char *uuid;
	uint64_t metadata_size;		/* bytes per header copy */
	int key_slot;			/* -1: any / first free */
	unsigned int tries;		/* passphrase prompts on a terminal, 0: no limit */
	bool batch_mode;		/* ask nothing */
	bool force;			/* overwrite signatures */

	/* tokens (token/token.h), cryptsetup's names and meanings */
	int token_id;			/* --token-id, -1: any */
	const char *token_type;		/* --token-type */
	bool token_only;		/* no passphrase prompt after the tokens */
	bool token_pin_agent;		/* no terminal: a PIN via systemd-ask-password */
	bool disable_tokens;		/* passphrase only */
	bool test_passphrase;		/* open: check the key, map nothing */

	/* day-2 header commands (cmd_dump.c, cmd_token.c), cryptsetup's names */
	bool dump_json;			/* dump --dump-json-metadata */
	bool dump_volume_key;		/* dump --dump-volume-key */
	const char *volume_key_file;	/* ... written to this new file (0600) */
	const char *json_file;		/* token import/export: the JSON file */

	/* reencrypt (cmd_reencrypt.c), cryptsetup's names */
	bool init_only;			/* --init-only: write the metadata, move no data */
	const char *resilience;		/* checksum, journal, none */
	bool resume_only;		/* --resume-only: finish a job, start none */
	uint64_t hotzone_size;		/* --hotzone-size, bytes; 0: the default */
	unsigned int max_rate_mib;	/* --max-rate MiB/s; 0: no limit */
	unsigned int progress_frequency;	/* --progress-frequency seconds; 0: default */

	/* encrypt / decrypt (cmd_encrypt.c, cmd_decrypt.c), cryptsetup's names */
	uint64_t reduce_size;		/* --reduce-device-size, bytes */
	const char *header;		/* open, encrypt, decrypt --header FILE */

	/* enroll */
	bool recovery_key;		/* --recovery-key */
	const char *recovery_key_file;	/* also write it there (0600, new file) */
	int qrcode;			/* --qrcode: 1 always, 0 never, -1 auto */
	const char *wipe_slot;		/* --wipe-slot list, parsed by enroll */

	/* TPM2 (token/tpm2*.c), systemd-cryptenroll's names and meanings */
	const char *tpm2_device;	/* auto, a path or a TCTI; NULL: auto */
	uint32_t tpm2_pcr_mask;		/* --tpm2-pcrs (PCR 15 is always added) */
	uint16_t tpm2_pcr_bank;		/* its bank prefix, 0: the best bank */
	bool tpm2_with_pin;
	bool tpm2_no_measure;		/* open: --tpm2-measure-pcr=no */

	/* clevis (token/clevis*.c): enroll --clevis PIN CONFIG */
	const char *clevis_pin;		/* a clevis pin: tang, sss, tpm2, ... */
	const char *clevis_config;	/* its JSON configuration (an object) */
	bool clevis_trust;		/* --clevis-trust: clevis encrypt -y */
	/* PKCS#11 (token/pkcs11*.c), systemd-cryptenroll's name and meaning */
	const char *pkcs11_token_uri;	/* enroll: auto or a pkcs11: URI; NULL: none */

	/* --all */
	const char *vaulttab;		/* --vaulttab FILE */
	const char *volume;		/* the vaulttab NAME being opened: prompts name it */

	/* a vaulttab entry's crypttab options (systemd's meanings) */
	bool headless;			/* never ask (passphrase, PIN): a key file or a token */
	uint64_t prompt_timeout_us;	/* timeout=: a prompt gives up after it; 0: never */
	uint64_t token_timeout_us;	/* token-timeout= / --token-timeout: wait for the
					   TPM, give clevis decrypt that long; 0: for ever */
	/* (tpm2-device=, tpm2-pcrs=, tpm2-pin= go to the TPM2 fields above) */
	/*
	 * open --all: the typed passphrases that opened earlier volumes,
	 * tried on each later one before its prompt (wiped when it ends).
	 */
	struct pass_cache *pass_cache;
};

struct vault_action {
	const char *name;		/* "open", "key add", "open --all" */
	int (*handler)(const struct vault_opts *o, int argc, char **argv);
	int min_args, max_args;
	opt_mask allowed;		/* OPTB() bits beyond OPTS_GLOBAL */
	opt_mask required;
	bool needs_admin;		/* refuse without CAP_SYS_ADMIN */
	const char *args;		/* "DEVICE NAME" */
	const char *summary;
};

/* The result of parsing a command line. */
struct vault_cli {
	struct vault_opts opts;
	const struct vault_action *action;	/* NULL: no command */
	int argc;				/* positional arguments after the command */
	char **argv;
	bool help;
	bool version;
};

/* Parses ARGV (permuting it).  0, or -EINVAL after printing why. */
int vault_cli_parse(int argc, char **argv, struct vault_cli *cli);

/* Parses and runs; returns the exit code. */
int vaultctl_main(int argc, char **argv);

const struct vault_action *vault_action_find(const char *name);

/* Handlers (open.c, plain.c, device.c, keycmd.c, luks.c, luks_keys.c). */
int cmd_open(const struct vault_opts *o, int argc, char **argv);
int cmd_answer(const struct vault_opts *o, int argc, char **argv);	/* cmd_answer.c */
int plain_open(const struct vault_opts *o, const char *device, const char *name);
int luks_open(const struct vault_opts *o, const char *device, const char *name);
int luks_test_passphrase(const struct vault_opts *o, const char *device);
int cmd_format(const struct vault_opts *o, int argc, char **argv);
int cmd_add_key(const struct vault_opts *o, int argc, char **argv);
int cmd_remove_key(const struct vault_opts *o, int argc, char **argv);
int cmd_change_key(const struct vault_opts *o, int argc, char **argv);
int cmd_kill_slot(const struct vault_opts *o, int argc, char **argv);
int cmd_enroll(const struct vault_opts *o, int argc, char **argv);	/* enroll.c */
int cmd_dump(const struct vault_opts *o, int argc, char **argv);
int cmd_header_backup(const struct vault_opts *o, int argc, char **argv);
int cmd_header_restore(const struct vault_opts *o, int argc, char **argv);
int cmd_uuid(const struct vault_opts *o, int argc, char **argv);
int cmd_is_luks(const struct vault_opts *o, int argc, char **argv);
int cmd_reencrypt(const struct vault_opts *o, int argc, char **argv);	/* cmd_reencrypt.c */
int cmd_encrypt(const struct vault_opts *o, int argc, char **argv);	/* cmd_encrypt.c */
int cmd_decrypt(const struct vault_opts *o, int argc, char **argv);	/* cmd_decrypt.c */
int cmd_revoke(const struct vault_opts *o, int argc, char **argv);	/* cmd_reencrypt.c */
int cmd_erase(const struct vault_opts *o, int argc, char **argv);
int cmd_repair(const struct vault_opts *o, int argc, char **argv);
int cmd_close(const struct vault_opts *o, int argc, char **argv);
int cmd_status(const struct vault_opts *o, int argc, char **argv);
int cmd_suspend(const struct vault_opts *o, int argc, char **argv);
int cmd_resume(const struct vault_opts *o, int argc, char **argv);
int cmd_resize(const struct vault_opts *o, int argc, char **argv);
int cmd_key_add(const struct vault_opts *o, int argc, char **argv);
int cmd_key_remove(const struct vault_opts *o, int argc, char **argv);
int cmd_key_list(const struct vault_opts *o, int argc, char **argv);
int cmd_version(const struct vault_opts *o, int argc, char **argv);
int cmd_config(const struct vault_opts *o, int argc, char **argv);	/* cmd_config.c */
/* cmd_token.c: "token import", "token export", "token remove" */
int cmd_token_import(const struct vault_opts *o, int argc, char **argv);
int cmd_token_export(const struct vault_opts *o, int argc, char **argv);
int cmd_token_remove(const struct vault_opts *o, int argc, char **argv);
/* tabcmd.c: "open --all", "close --all", "tab-check" */
int cmd_open_all(const struct vault_opts *o, int argc, char **argv);
int cmd_close_all(const struct vault_opts *o, int argc, char **argv);
int cmd_tab_check(const struct vault_opts *o, int argc, char **argv);

#endif
