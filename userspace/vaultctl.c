// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the table of actions, option parsing and dispatch.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include <json-c/json.h>

#include "control.h"
#include "dm.h"
#include "luks2.h"
#include "passphrase.h"
#include "secure_mem.h"
#include "table.h"
#include "token/clevis.h"
#include "token/tpm2.h"
#include "util.h"
#include "vaultctl.h"
#include "vaulttab.h"

#define KEY_BITS_MAX	(VAULT_KEY_SIZE_MAX * 8)

struct opt_desc {
	const char *name;
	int short_name;		/* 0: long only */
	int has_arg;
	enum vault_opt id;
	const char *arg;
	const char *help;
};

/*
 * help is N_(): printed through gettext.  A msgid is one literal, so the
 * defaults of --cipher (DEFAULT_CIPHER) and --vaulttab (VAULTTAB_DEFAULT)
 * are spelled out (tests/i18n.sh checks that they still agree).
 */
static const struct opt_desc opt_descs[] = {
	{ "type", 'M', required_argument, OPT_TYPE, "TYPE",
	  N_("device type: luks2 (default when the device holds LUKS2) or plain") },
	{ "cipher", 'c', required_argument, OPT_CIPHER, "SPEC",
	  N_("cipher specification (default aes-xts-plain64)") },
	{ "key-size", 's', required_argument, OPT_KEY_SIZE, "BITS",
	  N_("key size in bits, a multiple of 8 (default 512)") },
	{ "key-file", 'd', required_argument, OPT_KEY_FILE, "FILE",
	  N_("plain: the raw key; LUKS2: the passphrase (whole file); - is stdin") },
	{ "keyfile-offset", 0, required_argument, OPT_KEYFILE_OFFSET, "BYTES",
	  N_("skip BYTES bytes of the key file first") },
	{ "offset", 'o', required_argument, OPT_OFFSET, "SECTORS",
	  N_("start of the data on the device, in 512-byte sectors") },
	{ "iv-offset", 'p', required_argument, OPT_IV_OFFSET, "SECTORS",
	  N_("IV sector offset (cryptsetup's --skip)") },
	{ "skip", 0, required_argument, OPT_IV_OFFSET, "SECTORS",
	  N_("same as --iv-offset") },
	{ "sector-size", 0, required_argument, OPT_SECTOR_SIZE, "BYTES",
	  N_("encryption sector size: 512, 1024, 2048 or 4096") },
	{ "iv-large-sectors", 0, no_argument, OPT_IV_LARGE_SECTORS, NULL,
	  N_("count IVs in sector-size units, not 512-byte sectors") },
	{ "allow-discards", 0, no_argument, OPT_ALLOW_DISCARDS, NULL,
	  N_("pass discard requests to the device") },
	{ "same-cpu-crypt", 0, no_argument, OPT_SAME_CPU_CRYPT, NULL,
	  N_("encrypt on the CPU that submitted the I/O") },
	{ "no-read-workqueue", 0, no_argument, OPT_NO_READ_WORKQUEUE, NULL,
	  N_("decrypt reads without the read workqueue") },
	{ "no-write-workqueue", 0, no_argument, OPT_NO_WRITE_WORKQUEUE, NULL,
	  N_("encrypt writes without the write workqueue") },
	{ "readonly", 'r', no_argument, OPT_READONLY, NULL,
	  N_("create a read-only mapping") },
	{ "size", 'b', required_argument, OPT_SIZE, "SECTORS",
	  N_("size of the mapping in 512-byte sectors (default: all)") },
	{ "keyfile-size", 'l', required_argument, OPT_KEYFILE_SIZE, "BYTES",
	  N_("LUKS2: use only BYTES bytes of the key file") },
	{ "pbkdf", 0, required_argument, OPT_PBKDF, "TYPE",
	  N_("argon2id (default), argon2i or pbkdf2") },
	{ "hash", 0, required_argument, OPT_HASH, "HASH",
	  N_("pbkdf2 and volume key digest hash (default sha256)") },
	{ "iter-time", 'i', required_argument, OPT_ITER_TIME, "MS",
	  N_("KDF time to aim for, in milliseconds (default 2000)") },
	{ "pbkdf-memory", 0, required_argument, OPT_PBKDF_MEMORY, "KIB",
	  N_("argon2 memory cost limit in KiB (default 1 GiB, at most half the RAM)") },
	{ "pbkdf-parallel", 0, required_argument, OPT_PBKDF_PARALLEL, "N",
	  N_("argon2 threads (default up to 4)") },
	{ "pbkdf-force-iterations", 0, required_argument, OPT_PBKDF_FORCE_ITERATIONS, "N",
	  N_("no calibration: pbkdf2 iterations or argon2 time cost") },
	{ "label", 0, required_argument, OPT_LABEL, "LABEL",
	  N_("LUKS2 label (up to 47 bytes)") },
	{ "uuid", 0, required_argument, OPT_UUID, "UUID",
	  N_("LUKS2 UUID instead of a random one") },
	{ "luks2-metadata-size", 0, required_argument, OPT_METADATA_SIZE, "BYTES",
	  N_("size of each header copy: 16k (default), 32k, ... 4m") },
	{ "key-slot", 'S', required_argument, OPT_KEY_SLOT, "N",
	  N_("the keyslot to use (0 to 31)") },
	{ "tries", 'T', required_argument, OPT_TRIES, "N",
	  N_("passphrase prompts on a terminal (default 3)") },
	{ "all", 0, no_argument, OPT_ALL, NULL,
	  N_("open or close the volumes the vaulttab lists (see vaulttab(5))") },
	{ "vaulttab", 0, required_argument, OPT_VAULTTAB, "FILE",
	  N_("the vaulttab to use (default /etc/vaulttab)") },
	{ "batch-mode", 'q', no_argument, OPT_BATCH_MODE, NULL,
	  N_("ask no questions (confirmations are taken as given)") },
	{ "force", 0, no_argument, OPT_FORCE, NULL,
	  N_("format over an existing signature; restore over another volume") },
	{ "token-id", 0, required_argument, OPT_TOKEN_ID, "N",
	  N_("try only token N (then the passphrase)") },
	{ "token-type", 0, required_argument, OPT_TOKEN_TYPE, "TYPE",
	  N_("try only tokens of TYPE, e.g. systemd-tpm2") },
	{ "token-only", 0, no_argument, OPT_TOKEN_ONLY, NULL,
	  N_("unlock with a token or fail: no passphrase prompt") },
	{ "token-pin-agent", 0, no_argument, OPT_TOKEN_PIN_AGENT, NULL,
	  N_("without a terminal, ask a token's PIN through systemd-ask-password (vault-unlock)") },
	{ "disable-tokens", 0, no_argument, OPT_DISABLE_TOKENS, NULL,
	  N_("do not try tokens: passphrase only") },
	{ "test-passphrase", 0, no_argument, OPT_TEST_PASSPHRASE, NULL,
	  N_("only check that the passphrase or a token opens a keyslot; map nothing") },
	{ "recovery-key", 0, no_argument, OPT_RECOVERY_KEY, NULL,
	  N_("enroll a recovery key (systemd's format) and print it once") },
	{ "recovery-key-file", 0, required_argument, OPT_RECOVERY_KEY_FILE, "FILE",
	  N_("also write the recovery key to FILE, a new file, mode 0600") },
	{ "qrcode", 0, required_argument, OPT_QRCODE, "WHEN",
	  N_("show the recovery key as a QR code: auto (on a terminal), always, never") },
	{ "wipe-slot", 0, required_argument, OPT_WIPE_SLOT, "LIST",
	  N_("remove keyslots: all, empty, password, recovery, tpm2, pkcs11, fido2, N[,...]") },
	{ "tpm2-device", 0, required_argument, OPT_TPM2_DEVICE, "DEV",
	  N_("TPM2: auto, a device path or a TCTI such as swtpm:path=SOCKET") },
	{ "tpm2-pcrs", 0, required_argument, OPT_TPM2_PCRS, "[BANK:]N+N",
	  N_("enroll: PCRs to seal to, e.g. 7 or sha256:0+7 (default 7; 15 is always added)") },
	{ "tpm2-with-pin", 0, optional_argument, OPT_TPM2_WITH_PIN, NULL,
	  N_("enroll: require a PIN too (asked twice, or $NEWPIN); =no: without") },
	{ "tpm2-measure-pcr", 0, required_argument, OPT_TPM2_MEASURE_PCR, "yes|no",
	  N_("open: after the unlock, extend PCR 15 so that a TPM2 token bound to it cannot unseal again until reboot (default yes)") },
	{ "clevis", 0, required_argument, OPT_CLEVIS, "PIN CONFIG",
	  N_("enroll: bind a new keyslot with clevis PIN (tang, sss, tpm2) and its JSON CONFIG") },
	{ "clevis-trust", 0, no_argument, OPT_CLEVIS_TRUST, NULL,
	  N_("enroll --clevis: trust the tang server's keys without asking (clevis encrypt -y)") },
	{ "token-timeout", 0, required_argument, OPT_TOKEN_TIMEOUT, "SPAN",
	  N_("open: how long a token may take (clevis decrypt asking tang), e.g. 30s (default), 0: no limit") },
	{ "pkcs11-token-uri", 0, required_argument, OPT_PKCS11_TOKEN_URI, "URI",
	  N_("enroll: a PKCS#11 token (smartcard): auto (the one token with a certificate) or a pkcs11: URI") },
	{ "subsystem", 0, required_argument, OPT_SUBSYSTEM, "NAME",
	  N_("config: LUKS2 subsystem (up to 47 bytes; what is not given is cleared, as cryptsetup)") },
	{ "dump-json-metadata", 0, no_argument, OPT_DUMP_JSON, NULL,
	  N_("dump: print the LUKS2 JSON metadata, as cryptsetup luksDump does") },
	{ "dump-volume-key", 0, no_argument, OPT_DUMP_VOLUME_KEY, NULL,
	  N_("dump: print the volume key (asks a passphrase, then YES unless --batch-mode)") },
	{ "volume-key-file", 0, required_argument, OPT_VOLUME_KEY_FILE, "FILE",
	  N_("dump --dump-volume-key: write the key to FILE, a new file, mode 0600") },
	{ "json-file", 0, required_argument, OPT_JSON_FILE, "FILE",
	  N_("token import: read the token from FILE; export: write it there (default: stdin/stdout)") },
	{ "device-size", 0, required_argument, OPT_DEVICE_SIZE, "BYTES",
	  N_("resize: the new size in bytes (a multiple of 512; units K, M, G, T)") },
	{ "init-only", 0, no_argument, OPT_INIT_ONLY, NULL,
	  N_("reencrypt: write the re-encryption metadata (new key), move no data") },
	{ "resilience", 0, required_argument, OPT_RESILIENCE, "TYPE",
	  N_("reencrypt: hotzone protection: checksum (default), journal, none") },
	{ "reduce-device-size", 0, required_argument, OPT_REDUCE_DEVICE_SIZE, "SIZE",
	  N_("encrypt: room taken from the end for the header (e.g. 32M; the filesystem shrunk first)") },
	{ "header", 0, required_argument, OPT_HEADER, "FILE",
	  N_("open: the volume's detached header; encrypt, decrypt: the detached header file (a new file, or one holding the job to finish)") },
	{ "resume-only", 0, no_argument, OPT_RESUME_ONLY, NULL,
	  N_("reencrypt, encrypt, decrypt: finish an interrupted job (vaultctl's or cryptsetup's), start none") },
	{ "hotzone-size", 0, required_argument, OPT_HOTZONE_SIZE, "SIZE",
	  N_("reencrypt, encrypt/decrypt in place: bytes per step (units K, M; at most 64M)") },
	{ "max-rate", 0, required_argument, OPT_MAX_RATE, "MIB",
	  N_("reencrypt: at most MIB MiB/s (pauses between steps; default: no limit)") },
	{ "progress-frequency", 0, required_argument, OPT_PROGRESS_FREQUENCY, "SECONDS",
	  N_("reencrypt: progress line every SECONDS (default 1 on a terminal)") },
	{ "verbose", 'v', no_argument, OPT_VERBOSE, NULL,
	  N_("say more") },
	{ "debug", 0, no_argument, OPT_DEBUG, NULL,
	  N_("print debug messages (never key bytes)") },
	{ "help", 'h', no_argument, OPT_HELP, NULL,
	  N_("show help (of a command, after its name)") },
	{ "version", 'V', no_argument, OPT_VERSION, NULL,
	  N_("same as the version command") },
};

#define NR_OPTS (sizeof(opt_descs) / sizeof(opt_descs[0]))

#define OPTS_KEYFILE	(OPTB(OPT_KEY_FILE) | OPTB(OPT_KEYFILE_OFFSET) | OPTB(OPT_KEY_SIZE))
#define OPTS_OPEN	(OPTB(OPT_TYPE) | OPTB(OPT_CIPHER) | OPTS_KEYFILE | OPTB(OPT_OFFSET) | \
			 OPTB(OPT_IV_OFFSET) | OPTB(OPT_SECTOR_SIZE) |			\
			 OPTB(OPT_IV_LARGE_SECTORS) | OPTB(OPT_ALLOW_DISCARDS) |	\
			 OPTB(OPT_SAME_CPU_CRYPT) | OPTB(OPT_NO_READ_WORKQUEUE) |	\
			 OPTB(OPT_NO_WRITE_WORKQUEUE) | OPTB(OPT_READONLY) | OPTB(OPT_SIZE))

#define OPTS_PASS	(OPTB(OPT_KEY_FILE) | OPTB(OPT_KEYFILE_OFFSET) | OPTB(OPT_KEYFILE_SIZE) | \
			 OPTB(OPT_TRIES))
#define OPTS_PBKDF	(OPTB(OPT_PBKDF) | OPTB(OPT_HASH) | OPTB(OPT_ITER_TIME) |		\
			 OPTB(OPT_PBKDF_MEMORY) | OPTB(OPT_PBKDF_PARALLEL) |			\
			 OPTB(OPT_PBKDF_FORCE_ITERATIONS))
#define OPTS_FORMAT	(OPTS_PASS | OPTS_PBKDF | OPTB(OPT_TYPE) | OPTB(OPT_CIPHER) |		\
			 OPTB(OPT_KEY_SIZE) | OPTB(OPT_SECTOR_SIZE) | OPTB(OPT_LABEL) |		\
			 OPTB(OPT_UUID) | OPTB(OPT_METADATA_SIZE) | OPTB(OPT_KEY_SLOT) |	\
			 OPTB(OPT_BATCH_MODE) | OPTB(OPT_FORCE))

#define OPTS_TOKEN	(OPTB(OPT_TOKEN_ID) | OPTB(OPT_TOKEN_TYPE) | OPTB(OPT_TOKEN_ONLY) |	\
			 OPTB(OPT_TOKEN_PIN_AGENT) | OPTB(OPT_DISABLE_TOKENS))
#define OPTS_TPM2_ENROLL (OPTB(OPT_TPM2_DEVICE) | OPTB(OPT_TPM2_PCRS) | OPTB(OPT_TPM2_WITH_PIN))
#define OPTS_ENROLL	(OPTB(OPT_RECOVERY_KEY) | OPTB(OPT_RECOVERY_KEY_FILE) | OPTB(OPT_QRCODE) | \
			 OPTB(OPT_WIPE_SLOT) | OPTS_TPM2_ENROLL | OPTB(OPT_CLEVIS) |		\
			 OPTB(OPT_CLEVIS_TRUST) | OPTB(OPT_PKCS11_TOKEN_URI))

/* The --all commands check root themselves, after reading the vaulttab. */
#define OPTS_TAB	(OPTB(OPT_ALL) | OPTB(OPT_VAULTTAB))

static const struct vault_action actions[] = {
	{ "open", cmd_open, 1, 2, OPTS_OPEN | OPTS_PASS | OPTB(OPT_KEY_SLOT) | OPTS_TOKEN |
	  OPTB(OPT_TEST_PASSPHRASE) | OPTB(OPT_TPM2_DEVICE) | OPTB(OPT_TPM2_MEASURE_PCR) |
	  OPTB(OPT_HEADER) | OPTB(OPT_TOKEN_TIMEOUT), 0, true,
	  "DEVICE NAME", N_("map DEVICE as /dev/mapper/NAME: LUKS2 with a token or passphrase, or plain") },
	{ "close", cmd_close, 1, 1, 0, 0, true,
	  "NAME", N_("remove the mapping NAME") },
	{ "status", cmd_status, 1, 1, 0, 0, true,
	  "NAME", N_("show the state of the mapping NAME") },
	{ "suspend", cmd_suspend, 1, 1, 0, 0, true,
	  "NAME", N_("suspend NAME and wipe its key from the kernel") },
	{ "resume", cmd_resume, 1, 1, OPTS_KEYFILE | OPTS_PASS | OPTB(OPT_KEY_SLOT), 0, true,
	  "NAME", N_("give a suspended NAME its key again (LUKS2: passphrase) and resume it") },
	{ "resize", cmd_resize, 1, 1, OPTS_KEYFILE | OPTS_PASS | OPTB(OPT_KEY_SLOT) | OPTS_TOKEN |
	  OPTB(OPT_SIZE) | OPTB(OPT_DEVICE_SIZE) | OPTB(OPT_TPM2_DEVICE), 0, true,
	  "NAME", N_("change the size of NAME (default: all of its device; LUKS2: asks the key again)") },
	{ "key add", cmd_key_add, 1, 1, OPTS_KEYFILE, OPTB(OPT_KEY_FILE) | OPTB(OPT_KEY_SIZE), true,
	  "KEYNAME", N_("load a persistent key into dm-vault") },
	{ "key remove", cmd_key_remove, 1, 1, 0, 0, true,
	  "KEYNAME", N_("remove a loaded key") },
	{ "key list", cmd_key_list, 0, 0, 0, 0, true,
	  "", N_("list loaded keys (names and sizes only)") },
	{ "format", cmd_format, 1, 1, OPTS_FORMAT, 0, false,
	  "DEVICE", N_("make DEVICE a LUKS2 volume protected by a passphrase") },
	{ "add-key", cmd_add_key, 1, 2, OPTS_PASS | OPTS_PBKDF | OPTB(OPT_KEY_SLOT), 0, false,
	  "DEVICE [NEW_KEY_FILE]", N_("add a passphrase (a keyslot) to a LUKS2 volume") },
	{ "remove-key", cmd_remove_key, 1, 2, OPTS_PASS | OPTB(OPT_BATCH_MODE), 0, false,
	  "DEVICE [KEY_FILE]", N_("remove the keyslot the given passphrase opens") },
	{ "change-key", cmd_change_key, 1, 2, OPTS_PASS | OPTS_PBKDF | OPTB(OPT_KEY_SLOT), 0, false,
	  "DEVICE [NEW_KEY_FILE]", N_("change a passphrase, keeping its keyslot number") },
	{ "kill-slot", cmd_kill_slot, 2, 2, OPTS_PASS | OPTB(OPT_BATCH_MODE), 0, false,
	  "DEVICE N", N_("remove keyslot N (asks for a remaining passphrase)") },
	{ "enroll", cmd_enroll, 1, 1, OPTS_PASS | OPTS_ENROLL | OPTB(OPT_BATCH_MODE), 0, false,
	  "DEVICE", N_("add a recovery key keyslot and its token; --wipe-slot removes keyslots") },
	{ "dump", cmd_dump, 1, 1, OPTB(OPT_DUMP_JSON) | OPTB(OPT_DUMP_VOLUME_KEY) |
	  OPTB(OPT_VOLUME_KEY_FILE) | OPTS_PASS | OPTB(OPT_KEY_SLOT) | OPTB(OPT_BATCH_MODE), 0, false,
	  "DEVICE", N_("show the LUKS2 header (no secrets unless --dump-volume-key)") },
	{ "header-backup", cmd_header_backup, 2, 2, 0, 0, false,
	  "DEVICE FILE", N_("save the LUKS2 header and keyslots to a new FILE") },
	{ "header-restore", cmd_header_restore, 2, 2, OPTB(OPT_BATCH_MODE) | OPTB(OPT_FORCE), 0, false,
	  "DEVICE FILE", N_("write a header backup back to DEVICE") },
	{ "uuid", cmd_uuid, 1, 1, OPTB(OPT_UUID) | OPTB(OPT_BATCH_MODE), 0, false,
	  "DEVICE", N_("print the UUID of a LUKS2 volume; --uuid sets it (cloned images)") },
	{ "config", cmd_config, 1, 1, OPTB(OPT_LABEL) | OPTB(OPT_SUBSYSTEM), 0, false,
	  "DEVICE", N_("set the LUKS2 label and subsystem (--label, --subsystem)") },
	{ "token import", cmd_token_import, 1, 1, OPTB(OPT_JSON_FILE) | OPTB(OPT_TOKEN_ID) |
	  OPTB(OPT_KEY_SLOT), 0, false,
	  "DEVICE", N_("add a token from its JSON (--json-file, else stdin)") },
	{ "token export", cmd_token_export, 1, 1, OPTB(OPT_JSON_FILE) | OPTB(OPT_TOKEN_ID),
	  OPTB(OPT_TOKEN_ID), false,
	  "DEVICE", N_("print the JSON of token --token-id (or write it to --json-file)") },
	{ "token remove", cmd_token_remove, 1, 1, OPTB(OPT_TOKEN_ID), OPTB(OPT_TOKEN_ID), false,
	  "DEVICE", N_("remove token --token-id (its keyslots stay)") },
	{ "reencrypt", cmd_reencrypt, 1, 1, OPTS_PASS | OPTS_PBKDF | OPTB(OPT_INIT_ONLY) |
	  OPTB(OPT_RESILIENCE) | OPTB(OPT_RESUME_ONLY) | OPTB(OPT_HOTZONE_SIZE) |
	  OPTB(OPT_MAX_RATE) | OPTB(OPT_PROGRESS_FREQUENCY) | OPTB(OPT_BATCH_MODE) |
	  OPTB(OPT_CIPHER) | OPTB(OPT_KEY_SIZE) | OPTB(OPT_SECTOR_SIZE), 0, false,
	  "DEVICE|NAME", N_("re-encrypt with a new volume key, online when open (cryptsetup's metadata)") },
	{ "revoke", cmd_revoke, 1, 1, OPTS_PASS | OPTS_PBKDF | OPTB(OPT_KEY_SLOT) |
	  OPTB(OPT_HOTZONE_SIZE) | OPTB(OPT_MAX_RATE) | OPTB(OPT_PROGRESS_FREQUENCY) |
	  OPTB(OPT_BATCH_MODE), OPTB(OPT_KEY_SLOT), false,
	  "DEVICE|NAME", N_("remove keyslot --key-slot N and re-encrypt with a new volume key") },
	{ "encrypt", cmd_encrypt, 1, 1, OPTS_PASS | OPTS_PBKDF | OPTB(OPT_REDUCE_DEVICE_SIZE) |
	  OPTB(OPT_RESUME_ONLY) | OPTB(OPT_KEY_SIZE) | OPTB(OPT_LABEL) | OPTB(OPT_UUID) |
	  OPTB(OPT_HEADER) | OPTB(OPT_HOTZONE_SIZE) |
	  OPTB(OPT_BATCH_MODE), 0, false,
	  "DEVICE", N_("encrypt a plain device in place (cryptsetup reencrypt --encrypt)") },
	{ "decrypt", cmd_decrypt, 1, 1, OPTS_PASS | OPTB(OPT_HEADER) | OPTB(OPT_RESUME_ONLY) |
	  OPTB(OPT_KEY_SLOT) | OPTB(OPT_HOTZONE_SIZE) | OPTB(OPT_BATCH_MODE), 0, false,
	  "DEVICE", N_("decrypt a LUKS2 device in place, its header moved to --header FILE") },
	{ "is-luks", cmd_is_luks, 1, 1, 0, 0, false,
	  "DEVICE", N_("exit 0 when DEVICE holds a LUKS2 volume") },
	{ "erase", cmd_erase, 1, 1, OPTB(OPT_BATCH_MODE), 0, false,
	  "DEVICE", N_("wipe every keyslot of a LUKS2 volume") },
	{ "repair", cmd_repair, 1, 1, 0, 0, false,
	  "DEVICE", N_("rewrite a damaged LUKS2 header copy from the good one") },
	/* "--all" variants: chosen by vault_cli_parse when --all is given */
	{ "open --all", cmd_open_all, 0, VAULTTAB_ENTRIES_MAX,
	  OPTS_TAB | OPTB(OPT_TPM2_MEASURE_PCR) | OPTB(OPT_TOKEN_ONLY) | OPTB(OPT_TOKEN_PIN_AGENT),
	  0, false,
	  "[NAME...]", N_("open the vaulttab's volumes (without NAMEs: all but noauto ones)") },
	{ "close --all", cmd_close_all, 0, VAULTTAB_ENTRIES_MAX, OPTS_TAB, 0, false,
	  "[NAME...]", N_("close the vaulttab's open volumes, last listed first") },
	{ "tab-check", cmd_tab_check, 0, 0, OPTB(OPT_VAULTTAB), 0, false,
	  "", N_("check the vaulttab; with -v print each entry normalized") },
	{ "answer", cmd_answer, 0, 1, 0, 0, false,
	  "[NAME]", N_("answer another vaultctl's pending passphrase prompt (remote unlock over SSH)") },
	{ "version", cmd_version, 0, 0, 0, 0, false,
	  "", N_("show the versions of vaultctl and of the dm-vault module") },
};

#define NR_ACTIONS (sizeof(actions) / sizeof(actions[0]))

const struct vault_action *vault_action_find(const char *name)
{
	size_t i;

	for (i = 0; i < NR_ACTIONS; i++)
		if (!strcmp(actions[i].name, name))
			return &actions[i];
	return NULL;
}

static const struct opt_desc *opt_by_id(enum vault_opt id)
{
	size_t i;

	for (i = 0; i < NR_OPTS; i++)
		if (opt_descs[i].id == id)
			return &opt_descs[i];
	return NULL;
}

static void print_option(FILE *f, const struct opt_desc *d)
{
	char left[64];

	if (d->short_name)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", d->short_name, d->name,
			 d->arg ? " " : "", d->arg ? d->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", d->name,
			 d->arg ? " " : "", d->arg ? d->arg : "");
	fprintf(f, "  %-30s %s\n", left, _(d->help));
}

/*
 * S with its first character in upper case: a summary starts a sentence in
 * a command's help.  A translation may start with a multibyte letter ("ánh
 * xạ"), hence the wide-character round trip in the locale's encoding.
 */
static void put_capitalized(FILE *f, const char *s)
{
	char first[MB_LEN_MAX];
	mbstate_t st = { 0 };
	wchar_t wc;
	size_t n = mbrtowc(&wc, s, strlen(s), &st), m;

	if (n == 0 || n > strlen(s)) {	/* empty, or not valid in this locale */
		fputs(s, f);
		return;
	}
	memset(&st, 0, sizeof(st));
	m = wcrtomb(first, (wchar_t)towupper((wint_t)wc), &st);
	if (m == (size_t)-1) {
		fputs(s, f);
		return;
	}
	fwrite(first, 1, m, f);
	fputs(s + n, f);
}

static void usage_action(FILE *f, const struct vault_action *a)
{
	const char *summary;
	size_t i;

	fprintf(f, _("Usage: vaultctl %s"), a->name);
	for (i = 0; i < NR_OPTS; i++) {
		const struct opt_desc *d = &opt_descs[i];

		if ((a->required & OPTB(d->id)) && opt_by_id(d->id) == d)
			fprintf(f, " --%s %s", d->name,
				d->id == OPT_TYPE ? "plain" : d->arg);
	}
	summary = _(a->summary);
	fprintf(f, " [OPTIONS]%s%s\n\n", *a->args ? " " : "", a->args);
	put_capitalized(f, summary);
	fputs(".\n", f);
	if (a->handler == cmd_open)
		fprintf(f, _("\n  LUKS2: vaultctl open [--key-file FILE] [--key-slot N] DEVICE NAME\n"
			"         (the tokens first, then the passphrase: FILE, else the terminal,\n"
			"         else one line of stdin; a recovery key is a passphrase)\n"
			"  test:  vaultctl open --test-passphrase [--key-file FILE] DEVICE\n"
			"  plain: vaultctl open --type plain --key-file FILE [OPTIONS] DEVICE NAME\n"
			"         (FILE holds the raw key)\n"
			"  vaulttab: vaultctl open --all [--vaulttab FILE] [NAME...]\n"));
	fprintf(f, _("\nOptions:\n"));
	for (i = 0; i < NR_OPTS; i++) {
		if ((a->allowed | OPTS_GLOBAL) & OPTB(opt_descs[i].id))
			print_option(f, &opt_descs[i]);
	}
}

static void usage_global(FILE *f)
{
	size_t i;

	fprintf(f, _("Usage: vaultctl [OPTIONS] COMMAND [ARGS]\n\n"
		"Sets up dm-vault encrypted block devices.\n\nCommands:\n"));
	for (i = 0; i < NR_ACTIONS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "%s %s", actions[i].name, actions[i].args);
		fprintf(f, "  %-22s %s\n", left, _(actions[i].summary));
	}
	fprintf(f, "  %-22s %s\n", "help [COMMAND]", _("show help"));
	fprintf(f, _("\nGlobal options:\n"));
	for (i = 0; i < NR_OPTS; i++)
		if ((OPTS_GLOBAL | OPTB(OPT_VERSION)) & OPTB(opt_descs[i].id))
			print_option(f, &opt_descs[i]);
	fprintf(f, _("\n\"vaultctl COMMAND --help\" shows the options of a command.\n"
		"Exit codes: 0 success, 1 wrong parameters, 2 no permission,\n"
		"3 out of memory, 4 wrong device, 5 device busy or exists.\n"));
}

/* WHY is a msgid (bad_value is an xgettext keyword: userspace/Makefile). */
static int bad_value(const char *opt, const char *val, const char *why)
{
	log_err("invalid value '%s' for --%s: %s", val, opt, gettext(why));
	return -EINVAL;
}

static int set_option(struct vault_opts *o, const struct opt_desc *d, const char *val)
{
	unsigned int u;

	o->set |= OPTB(d->id);
	switch (d->id) {
	case OPT_TYPE:
		o->type = val;
		break;
	case OPT_CIPHER:
		if (table_cipher_valid(val))
			return bad_value(d->name, val, "1 to 127 printable characters without blanks");
		o->cipher = val;
		break;
	case OPT_KEY_SIZE:
		if (parse_uint(val, &u) || !u || u % 8 || u > KEY_BITS_MAX)
			return bad_value(d->name, val, "a multiple of 8 from 8 to 1024 bits");
		o->key_bits = u;
		break;
	case OPT_KEY_FILE:
		if (!*val)
			return bad_value(d->name, val, "empty file name");
		o->key_file = val;
		break;
	case OPT_KEYFILE_OFFSET:
		if (parse_u64(val, &o->keyfile_offset))
			return bad_value(d->name, val, "a number of bytes");
		break;
	case OPT_OFFSET:
		if (parse_sectors(val, &o->offset))
			return bad_value(d->name, val, "512-byte sectors, or bytes with a unit (K, M, G, T)");
		break;
	case OPT_IV_OFFSET:
		if (parse_sectors(val, &o->iv_offset))
			return bad_value(d->name, val, "512-byte sectors, or bytes with a unit (K, M, G, T)");
		break;
	case OPT_SIZE:
		if (parse_sectors(val, &o->size) || !o->size)
			return bad_value(d->name, val,
					 "a non-zero number of 512-byte sectors, or bytes with a unit");
		break;
	case OPT_SECTOR_SIZE:
		if (parse_uint(val, &u) || table_sector_size_valid(u))
			return bad_value(d->name, val, "512, 1024, 2048 or 4096");
		o->sector_size = u;
		break;
	case OPT_IV_LARGE_SECTORS:
		o->iv_large_sectors = true;
		break;
	case OPT_ALLOW_DISCARDS:
		o->allow_discards = true;
		break;
	case OPT_SAME_CPU_CRYPT:
		o->same_cpu_crypt = true;
		break;
	case OPT_NO_READ_WORKQUEUE:
		o->no_read_workqueue = true;
		break;
	case OPT_NO_WRITE_WORKQUEUE:
		o->no_write_workqueue = true;
		break;
	case OPT_READONLY:
		o->readonly = true;
		break;
	case OPT_KEYFILE_SIZE:
		if (parse_u64(val, &o->keyfile_size) || !o->keyfile_size)
			return bad_value(d->name, val, "a non-zero number of bytes");
		break;
	case OPT_PBKDF:
		if (strcmp(val, "argon2id") && strcmp(val, "argon2i") && strcmp(val, "pbkdf2"))
			return bad_value(d->name, val, "argon2id, argon2i or pbkdf2");
		o->pbkdf = val;
		break;
	case OPT_HASH:
		if (!*val || strlen(val) > 31)
			return bad_value(d->name, val, "a hash name such as sha256");
		o->hash = val;
		break;
	case OPT_ITER_TIME:
		if (parse_uint(val, &o->iter_time_ms) || !o->iter_time_ms)
			return bad_value(d->name, val, "a non-zero number of milliseconds");
		break;
	case OPT_PBKDF_MEMORY:
		if (parse_uint(val, &o->pbkdf_memory_kb) || o->pbkdf_memory_kb < 32 ||
		    o->pbkdf_memory_kb > 4194304)
			return bad_value(d->name, val, "32 to 4194304 KiB");
		break;
	case OPT_PBKDF_PARALLEL:
		if (parse_uint(val, &o->pbkdf_parallel) || !o->pbkdf_parallel ||
		    o->pbkdf_parallel > 16)
			return bad_value(d->name, val, "1 to 16 threads");
		break;
	case OPT_PBKDF_FORCE_ITERATIONS:
		if (parse_uint(val, &o->pbkdf_iterations) || !o->pbkdf_iterations ||
		    o->pbkdf_iterations > 0x7fffffff)
			return bad_value(d->name, val, "a positive number");
		break;
	case OPT_LABEL:
		if (strlen(val) > 47)
			return bad_value(d->name, val, "at most 47 bytes");
		o->label = val;
		break;
	case OPT_UUID:
		if (!luks2_uuid_valid(val))
			return bad_value(d->name, val, "a UUID like 12345678-9abc-def0-1234-56789abcdef0 (hexadecimal digits in groups 8-4-4-4-12)");
		o->uuid = val;
		break;
	case OPT_METADATA_SIZE: {
		uint64_t sectors;

		if (parse_sectors(val, &sectors) || sectors < 32 || sectors > 8192 ||
		    (sectors & (sectors - 1)))
			return bad_value(d->name, val, "16k, 32k, 64k, ... 4m (a power of two)");
		o->metadata_size = sectors * SECTOR_SIZE;
		break;
	}
	case OPT_KEY_SLOT:
		if (parse_uint(val, &u) || u > 31)
			return bad_value(d->name, val, "0 to 31");
		o->key_slot = (int)u;
		break;
	case OPT_TRIES:
		if (parse_uint(val, &u) || !u || u > 100)
			return bad_value(d->name, val, "1 to 100");
		o->tries = u;
		break;
	case OPT_ALL:
		break;
	case OPT_VAULTTAB:
		if (!*val)
			return bad_value(d->name, val, "empty file name");
		o->vaulttab = val;
		break;
	case OPT_BATCH_MODE:
		o->batch_mode = true;
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case OPT_TOKEN_ID:
		if (parse_uint(val, &u) || u >= LUKS2_TOKENS_MAX)
			return bad_value(d->name, val, "0 to 31");
		o->token_id = (int)u;
		break;
	case OPT_TOKEN_TYPE:
		if (!*val)
			return bad_value(d->name, val, "a token type such as systemd-tpm2");
		o->token_type = val;
		break;
	case OPT_TOKEN_ONLY:
		o->token_only = true;
		break;
	case OPT_TOKEN_PIN_AGENT:
		o->token_pin_agent = true;
		break;
	case OPT_DISABLE_TOKENS:
		o->disable_tokens = true;
		break;
	case OPT_TEST_PASSPHRASE:
		o->test_passphrase = true;
		break;
	case OPT_RECOVERY_KEY:
		o->recovery_key = true;
		break;
	case OPT_RECOVERY_KEY_FILE:
		if (!*val)
			return bad_value(d->name, val, "empty file name");
		o->recovery_key_file = val;
		o->recovery_key = true;
		break;
	case OPT_QRCODE:
		if (!strcmp(val, "auto"))
			o->qrcode = -1;
		else if (!strcmp(val, "always"))
			o->qrcode = 1;
		else if (!strcmp(val, "never"))
			o->qrcode = 0;
		else
			return bad_value(d->name, val, "auto, always or never");
		break;
	case OPT_WIPE_SLOT:
		if (!*val)
			return bad_value(d->name, val, "a list such as password or 0,2");
		o->wipe_slot = val;
		break;
	case OPT_TPM2_DEVICE:
		if (!*val)
			return bad_value(d->name, val, "auto, a device path or a TCTI string");
		o->tpm2_device = val;
		break;
	case OPT_TPM2_PCRS:
		if (tpm2_parse_pcrs(val, &o->tpm2_pcr_mask, &o->tpm2_pcr_bank))
			return bad_value(d->name, val, "PCR numbers 0-23 joined by + or , with an optional bank prefix (sha256:7+11)");
		break;
	case OPT_TPM2_WITH_PIN:
		o->tpm2_with_pin = true;
		if (val && tpm2_parse_bool(val, &o->tpm2_with_pin))
			return bad_value(d->name, val, "yes or no");
		break;
	case OPT_TPM2_MEASURE_PCR: {
		bool yes;

		if (tpm2_parse_bool(val, &yes))
			return bad_value(d->name, val, "yes or no");
		o->tpm2_no_measure = !yes;
		break;
	}
	case OPT_CLEVIS:
		/* the pin here, its CONFIG the next argument (vault_cli_parse) */
		if (!clevis_pin_installed(val))
			return bad_value(d->name, val,
					 "an installed clevis pin such as tang, sss or tpm2 (no clevis-encrypt-PIN found)");
		o->clevis_pin = val;
		break;
	case OPT_CLEVIS_TRUST:
		o->clevis_trust = true;
		break;
	case OPT_TOKEN_TIMEOUT:
		if (vt_parse_timespan(val, &o->token_timeout_us))
			return bad_value(d->name, val, "a time span such as 30 (seconds), 30s, 500ms or 2min; 0 for no limit");
		break;
	case OPT_PKCS11_TOKEN_URI:
		if (strcmp(val, "auto") && strncmp(val, "pkcs11:", 7))
			return bad_value(d->name, val, "auto or a pkcs11: URI (p11tool --list-token-urls)");
		o->pkcs11_token_uri = val;
		break;
	case OPT_SUBSYSTEM:
		if (strlen(val) > 47)
			return bad_value(d->name, val, "at most 47 bytes");
		o->subsystem = val;
		break;
	case OPT_DUMP_JSON:
		o->dump_json = true;
		break;
	case OPT_INIT_ONLY:
		o->init_only = true;
		break;
	case OPT_RESILIENCE:
		if (strcmp(val, "checksum") && strcmp(val, "journal") && strcmp(val, "none"))
			return bad_value(d->name, val, "checksum, journal or none");
		o->resilience = val;
		break;
	case OPT_REDUCE_DEVICE_SIZE: {
		uint64_t sectors;

		/* cryptsetup: a multiple of 4096 bytes, at most 1 GiB */
		if (parse_sectors(val, &sectors) || !sectors || sectors % 8 ||
		    sectors > 2 * 1024 * 1024)
			return bad_value(d->name, val, "a size up to 1G, a multiple of 4096 bytes (units K, M, G)");
		o->reduce_size = sectors * SECTOR_SIZE;
		break;
	}
	case OPT_RESUME_ONLY:
		o->resume_only = true;
		break;
	case OPT_HEADER:
		if (!*val)
			return bad_value(d->name, val, "empty file name");
		o->header = val;
		break;
	case OPT_HOTZONE_SIZE: {
		uint64_t sectors = 0, bytes = 0;
		/* cryptsetup's: bytes, or with a unit */
		bool bad = val[strspn(val, "0123456789")] ? parse_sectors(val, &sectors) != 0 :
			   parse_u64(val, &bytes) || bytes % SECTOR_SIZE;

		if (!bad && bytes)
			sectors = bytes / SECTOR_SIZE;
		if (bad || !sectors || sectors > 131072 || sectors % 8)
			return bad_value(d->name, val, "4K to 64M, a multiple of 4096 bytes (units K, M)");
		o->hotzone_size = sectors * SECTOR_SIZE;
		break;
	}
	case OPT_MAX_RATE:
		if (parse_uint(val, &o->max_rate_mib) || !o->max_rate_mib)
			return bad_value(d->name, val, "a positive number of MiB/s");
		break;
	case OPT_PROGRESS_FREQUENCY:
		if (parse_uint(val, &o->progress_frequency) || !o->progress_frequency)
			return bad_value(d->name, val, "a positive number of seconds");
		break;
	case OPT_DUMP_VOLUME_KEY:
		o->dump_volume_key = true;
		break;
	case OPT_VOLUME_KEY_FILE:
		if (!*val)
			return bad_value(d->name, val, "empty file name");
		o->volume_key_file = val;
		break;
	case OPT_JSON_FILE:
		if (!*val)
			return bad_value(d->name, val, "empty file name");
		o->json_file = val;
		break;
	case OPT_DEVICE_SIZE: {
		uint64_t bytes = 0;
		/* cryptsetup's: bytes, or with a unit; whole 512-byte sectors */
		bool bad = val[strspn(val, "0123456789")] ?
			   parse_sectors(val, &o->device_size) != 0 :
			   parse_u64(val, &bytes) || bytes % SECTOR_SIZE;

		if (!bad && bytes)
			o->device_size = bytes / SECTOR_SIZE;
		if (bad || !o->device_size)
			return bad_value(d->name, val, "a non-zero number of bytes, a multiple of 512 (or with a unit: K, M, G, T)");
		break;
	}
	case OPT_VERBOSE:
		log_verbose_level++;
		break;
	case OPT_DEBUG:
		log_debug_level++;
		break;
	case OPT_HELP:
	case OPT_VERSION:
	case OPT_COUNT:
		break;
	}
	return 0;
}

/*
 * The CONFIG after --clevis PIN: the next argument, which getopt_long then
 * leaves behind as a processed one (it permutes only what it has not seen).
 */
static int clevis_config_arg(struct vault_opts *o, int argc, char **argv)
{
	json_object *cfg;

	if (optind >= argc) {
		log_err("option '--clevis' needs a pin and its JSON configuration, e.g. --clevis tang '{\"url\":\"http://tang.example\"}'");
		return -EINVAL;
	}
	o->clevis_config = argv[optind++];
	cfg = json_tokener_parse(o->clevis_config);
	if (!cfg || !json_object_is_type(cfg, json_type_object)) {
		json_object_put(cfg);
		log_err("invalid --clevis configuration '%s': it must be a JSON object, e.g. '{\"url\":\"http://tang.example\"}'",
			o->clevis_config);
		return -EINVAL;
	}
	json_object_put(cfg);
	return 0;
}

static int try_help(void)
{
	fprintf(stderr, _("Try 'vaultctl --help' for more information.\n"));
	return -EINVAL;
}

int vault_cli_parse(int argc, char **argv, struct vault_cli *cli)
{
	struct option longopts[NR_OPTS + 1];
	char shortopts[2 * NR_OPTS + 2];
	const struct vault_action *a;
	char name[32];
	size_t i, sp = 0;
	int c, idx, nargs, used = 1, r;
	char **pos;
	opt_mask bad;

	memset(cli, 0, sizeof(*cli));
	cli->opts.sector_size = SECTOR_SIZE;
	cli->opts.key_slot = -1;
	cli->opts.tries = DEFAULT_TRIES;
	cli->opts.token_id = -1;
	cli->opts.qrcode = -1;
	cli->opts.token_timeout_us = VT_TOKEN_TIMEOUT_DEFAULT_US;	/* systemd's 30 s */
	shortopts[sp++] = ':';
	for (i = 0; i < NR_OPTS; i++) {
		longopts[i].name = opt_descs[i].name;
		longopts[i].has_arg = opt_descs[i].has_arg;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
		if (opt_descs[i].short_name) {
			shortopts[sp++] = (char)opt_descs[i].short_name;
			if (opt_descs[i].has_arg == required_argument)
				shortopts[sp++] = ':';
		}
	}
	memset(&longopts[NR_OPTS], 0, sizeof(longopts[0]));
	shortopts[sp] = '\0';

	opterr = 0;
	optind = 0;	/* glibc: full re-initialisation */
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct opt_desc *d = NULL;

		if (c == '?') {
			if (optopt && optopt < 256)
				log_err("unknown option '-%c'", optopt);
			else
				log_err("unknown option '%s'", argv[optind - 1]);
			return try_help();
		}
		if (c == ':') {
			log_err("option '%s' needs a value", argv[optind - 1]);
			return try_help();
		}
		if (c >= 256) {
			d = &opt_descs[c - 256];
		} else {
			for (i = 0; i < NR_OPTS; i++)
				if (opt_descs[i].short_name == c)
					d = &opt_descs[i];
		}
		if (!d)
			return try_help();
		if (set_option(&cli->opts, d, optarg))
			return -EINVAL;
		/* --clevis PIN CONFIG: the one option with two values, as clevis takes them */
		if (d->id == OPT_CLEVIS && (r = clevis_config_arg(&cli->opts, argc, argv)))
			return r;
	}
	cli->help = cli->opts.set & OPTB(OPT_HELP);
	cli->version = cli->opts.set & OPTB(OPT_VERSION);

	pos = argv + optind;
	nargs = argc - optind;
	if (!nargs) {
		if (cli->help || cli->version)
			return 0;
		log_err("no command given");
		return try_help();
	}
	if (!strcmp(pos[0], "help")) {
		cli->help = true;
		pos++;
		nargs--;
		if (!nargs)
			return 0;
	}
	if (!strcmp(pos[0], "key") || !strcmp(pos[0], "token")) {
		if (nargs < 2) {
			if (cli->help)
				return 0;	/* the global usage lists them */
			log_err("'%s' needs a subcommand: %s", pos[0],
				pos[0][0] == 'k' ? _("add, remove or list") : _("import, export or remove"));
			return try_help();
		}
		snprintf(name, sizeof(name), "%s %s", pos[0], pos[1]);
		used = 2;
	} else {
		snprintf(name, sizeof(name), "%s", pos[0]);
	}
	a = vault_action_find(name);
	if (!a) {
		log_err("unknown command '%s'", name);
		return try_help();
	}
	if (cli->opts.set & OPTB(OPT_ALL)) {
		const struct vault_action *all;

		snprintf(name, sizeof(name), "%s --all", a->name);
		all = vault_action_find(name);
		if (all)
			a = all;
	}
	cli->action = a;
	cli->argv = pos + used;
	cli->argc = nargs - used;

	bad = cli->opts.set & ~(a->allowed | OPTS_GLOBAL);
	if (a->handler == cmd_version)
		bad &= ~OPTB(OPT_VERSION);
	for (i = 0; bad && i < NR_OPTS; i++) {
		if (bad & OPTB(opt_descs[i].id)) {
			log_err("option --%s is not valid for '%s'", opt_descs[i].name, a->name);
			fprintf(stderr, _("Try 'vaultctl %s --help'.\n"), a->name);
			return -EINVAL;
		}
	}
	if (cli->help)
		return 0;
	if (cli->argc < a->min_args || cli->argc > a->max_args) {
		if (a->min_args)
			if (cli->argc > a->max_args)
				log_err("'%s' needs %s, and nothing more", a->name, a->args);
			else
				log_err("'%s' needs %s", a->name, a->args);
		else
			log_err("'%s' takes no arguments", a->name);
		fprintf(stderr, _("Try 'vaultctl %s --help'.\n"), a->name);
		return -EINVAL;
	}
	for (i = 0; i < NR_OPTS; i++) {
		const struct opt_desc *d = &opt_descs[i];

		if ((a->required & OPTB(d->id)) && !(cli->opts.set & OPTB(d->id)) &&
		    opt_by_id(d->id) == d) {
			log_err("'%s' needs option --%s", a->name, d->name);
			fprintf(stderr, _("Try 'vaultctl %s --help'.\n"), a->name);
			return -EINVAL;
		}
	}
	/* Only --test-passphrase (which maps nothing) goes without a NAME. */
	if (a->handler == cmd_open && cli->argc < 2 && !cli->opts.test_passphrase) {
		log_err("'open' needs DEVICE NAME (only --test-passphrase takes DEVICE alone)");
		fprintf(stderr, _("Try 'vaultctl %s --help'.\n"), a->name);
		return -EINVAL;
	}
	/* Plain mode has no header to find a key through: it needs a key file. */
	if (a->handler == cmd_open && cli->opts.type && !strcmp(cli->opts.type, "plain") &&
	    !(cli->opts.set & OPTB(OPT_KEY_FILE))) {
		log_err("'open --type plain' needs option --key-file");
		fprintf(stderr, _("Try 'vaultctl %s --help'.\n"), a->name);
		return -EINVAL;
	}
	return 0;
}

int vaultctl_main(int argc, char **argv)
{
	struct vault_cli cli;
	int r;

	secure_process_init();
	if (vault_cli_parse(argc, argv, &cli))
		return EXIT_WRONG_PARAMS;
	if (cli.help) {
		if (cli.action)
			usage_action(stdout, cli.action);
		else
			usage_global(stdout);
		return EXIT_OK;
	}
	if (!cli.action)	/* only --version */
		return errno_to_exit(cmd_version(&cli.opts, 0, NULL));

	/* --test-passphrase maps nothing: no privilege needed (image files) */
	if (cli.action->needs_admin && !cli.opts.test_passphrase && !have_cap_sys_admin()) {
		log_err("'%s' needs root privileges (CAP_SYS_ADMIN)", cli.action->name);
		return EXIT_NO_PERM;
	}
	r = cli.action->handler(&cli.opts, cli.argc, cli.argv);
	vdm_exit();
	if (pass_interrupted()) {
		/* secrets are wiped by now; end as the signal would have */
		signal(pass_interrupted(), SIG_DFL);
		raise(pass_interrupted());
	}
	if (r && (log_verbose_level || log_debug_level))
		fprintf(stderr, _("Command failed with code %d (%s).\n"), -r, strerror(-r));
	else if (!r && cli.action->handler != cmd_tab_check)	/* its -v output is the entries */
		log_verbose("Command successful.");
	return errno_to_exit(r);
}
