// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: the vaulttab parser (vaulttab.c): fields, every option, every
 * error message, files with comments, long lines, NULs and random bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ktap.h"
#include "vaultctl.h"
#include "vaulttab.h"

static char dir[] = "/tmp/vaultctl-tab-XXXXXX";
static char err[VAULTTAB_ERR_MAX];

/* Parses LINE; returns parse_line's result; E is filled (free it) on 1. */
static int parse(const char *line, struct vt_entry *e)
{
	char *bad = NULL;
	int r;

	err[0] = '\0';
	r = vaulttab_parse_line(line, strlen(line), 7, e, err, sizeof(err), &bad);
	free(bad);
	return r;
}

/* LINE must be refused with exactly WANT as the message. */
#define EXPECT_ERR(line, want) do {					\
	struct vt_entry _e;						\
	int _r = parse(line, &_e);					\
	EXPECT_INT(_r, -1);						\
	if (_r == 1)							\
		vt_entry_free(&_e);					\
	EXPECT_STR(err, want);						\
} while (0)

static void minimal_entry(void)
{
	struct vt_entry e;

	EXPECT_INT(parse("root /dev/sda2", &e), 1);
	EXPECT_STR(e.name, "root");
	EXPECT_STR(e.device, "/dev/sda2");
	EXPECT(!e.key_file);
	EXPECT_INT(e.type, VT_AUTO);
	EXPECT_INT(e.tries, DEFAULT_TRIES);
	EXPECT_INT(e.key_slot, -1);
	EXPECT_INT(e.line, 7);
	EXPECT(!e.discard && !e.readonly && !e.noauto && !e.nofail && !e.initramfs);
	vt_entry_free(&e);
}

static void key_file_field(void)
{
	struct vt_entry e;

	EXPECT_INT(parse("a /dev/x none", &e), 1);
	EXPECT(!e.key_file);
	vt_entry_free(&e);
	EXPECT_INT(parse("a /dev/x -", &e), 1);
	EXPECT(!e.key_file);
	vt_entry_free(&e);
	EXPECT_INT(parse("a\t/dev/x \t /etc/keys/a.key\t", &e), 1);
	EXPECT_STR(e.key_file, "/etc/keys/a.key");
	vt_entry_free(&e);
	EXPECT_ERR("a /dev/x keys/a.key",
		   "key file 'keys/a.key' is not an absolute path (or none, or -, to ask for a passphrase)");
}

static void device_tags(void)
{
	static const char *const good[] = { "UUID=0d7e-11", "LABEL=root", "PARTUUID=abc",
					    "PARTLABEL=data", "/dev/disk/by-id/x" };
	char line[128];
	struct vt_entry e;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "v %s", good[i]);
		EXPECT_INT(parse(line, &e), 1);
		EXPECT_STR(e.device, good[i]);
		EXPECT_INT(vt_device_is_tag(good[i]), good[i][0] != '/');
		vt_entry_free(&e);
	}
	EXPECT_ERR("v UUID=",
		   "device 'UUID=' is neither an absolute path nor UUID=, LABEL=, PARTUUID= or PARTLABEL=");
	EXPECT_ERR("v ID=x",
		   "device 'ID=x' is neither an absolute path nor UUID=, LABEL=, PARTUUID= or PARTLABEL=");
	EXPECT_ERR("v sda2",
		   "device 'sda2' is neither an absolute path nor UUID=, LABEL=, PARTUUID= or PARTLABEL=");
}

static void comments_and_blanks(void)
{
	struct vt_entry e;

	EXPECT_INT(parse("", &e), 0);
	EXPECT_INT(parse("   \t  ", &e), 0);
	EXPECT_INT(parse("# root /dev/sda2", &e), 0);
	EXPECT_INT(parse("  \t# indented comment", &e), 0);
	EXPECT_INT(parse("#", &e), 0);
	/* a '#' later on the line is part of a field, as in crypttab */
	EXPECT_INT(parse("a# /dev/x", &e), 1);
	EXPECT_STR(e.name, "a#");
	vt_entry_free(&e);
	/* CRLF line ends are tolerated */
	EXPECT_INT(parse("a /dev/x none discard\r", &e), 1);
	EXPECT(e.discard);
	vt_entry_free(&e);
}

static void field_counts(void)
{
	EXPECT_ERR("lonely", "missing DEVICE: expected NAME DEVICE [KEYFILE [OPTIONS]]");
	EXPECT_ERR("a /dev/x none luks discard",
		   "too many fields: expected NAME DEVICE [KEYFILE [OPTIONS]] (no blanks inside OPTIONS)");
	EXPECT_ERR("a /dev/x none luks, discard",
		   "too many fields: expected NAME DEVICE [KEYFILE [OPTIONS]] (no blanks inside OPTIONS)");
}

static void names(void)
{
	char line[256];
	struct vt_entry e;

	EXPECT_INT(parse("a-b_c.d:e@f+g=h#i /dev/x", &e), 1);
	vt_entry_free(&e);
	EXPECT_ERR("a/b /dev/x", "invalid name 'a/b': use 1 to 100 of A-Z a-z 0-9 # + - . : = @ _");
	EXPECT_ERR(".. /dev/x", "invalid name '..': '.' and '..' are reserved by device-mapper (not a node name in /dev/mapper)");
	EXPECT_ERR("control /dev/x", "invalid name 'control': 'control' is reserved by device-mapper (/dev/mapper/control)");
	memset(line, 'n', 101);
	snprintf(line + 101, sizeof(line) - 101, " /dev/x");
	EXPECT_INT(parse(line, &e), -1);
	EXPECT(strstr(err, "invalid name 'nnnn") != NULL);
}

static void luks_options(void)
{
	struct vt_entry e;

	EXPECT_INT(parse("r UUID=1 /k luks,discard,readonly,tries=5,keyfile-offset=16,"
			 "keyfile-size=32,keyslot=3,initramfs,noauto,nofail,same-cpu-crypt,"
			 "no-read-workqueue,no-write-workqueue,headless", &e), 1);
	EXPECT_INT(e.type, VT_LUKS);
	EXPECT(e.discard && e.readonly && e.initramfs && e.noauto && e.nofail);
	EXPECT(e.same_cpu_crypt && e.no_read_workqueue && e.no_write_workqueue && e.headless);
	EXPECT_INT(e.tries, 5);
	EXPECT_INT(e.keyfile_offset, 16);
	EXPECT_INT(e.keyfile_size, 32);
	EXPECT_INT(e.key_slot, 3);
	vt_entry_free(&e);
	/* the other spellings */
	EXPECT_INT(parse("r /dev/x none read-only,key-slot=31,tries=0", &e), 1);
	EXPECT(e.readonly);
	EXPECT_INT(e.key_slot, 31);
	EXPECT_INT(e.tries, 0);
	vt_entry_free(&e);
}

static void plain_options(void)
{
	struct vt_entry e;

	EXPECT_INT(parse("p /dev/x /k plain,cipher=aes-cbc-essiv:sha256,size=256,hash=plain,"
			 "offset=2048,skip=16,sector-size=4096,iv-large-sectors", &e), 1);
	EXPECT_INT(e.type, VT_PLAIN);
	EXPECT_STR(e.cipher, "aes-cbc-essiv:sha256");
	EXPECT_INT(e.key_bits, 256);
	EXPECT_INT(e.offset, 2048);
	EXPECT_INT(e.skip, 16);
	EXPECT_INT(e.sector_size, 4096);
	EXPECT(e.iv_large_sectors);
	vt_entry_free(&e);
	/* keyfile-size gives the key size of a plain key file */
	EXPECT_INT(parse("p /dev/x /k plain,keyfile-size=32", &e), 1);
	EXPECT_INT(e.key_bits, 256);
	vt_entry_free(&e);
	EXPECT_INT(parse("p /dev/x /k plain,keyfile-size=64,size=512", &e), 1);
	EXPECT_INT(e.key_bits, 512);
	vt_entry_free(&e);
}

static void ignored_options(void)
{
	struct vt_entry e;

	EXPECT_INT(parse("a /dev/x none _netdev,x-systemd.device-timeout=10s,x-initrd.attach,"
			 "x-systemd.after=foo.service", &e), 1);
	vt_entry_free(&e);
}

static void option_errors(void)
{
	EXPECT_ERR("a /dev/x none foo", "unknown option 'foo'");
	EXPECT_ERR("a /dev/x none luks,foo=1", "unknown option 'foo=1'");
	EXPECT_ERR("a /dev/x none Luks", "unknown option 'Luks'");
	EXPECT_ERR("a /dev/x none luks,,discard",
		   "empty option (two commas in a row, or a comma at an end)");
	EXPECT_ERR("a /dev/x none luks,", "empty option (two commas in a row, or a comma at an end)");
	EXPECT_ERR("a /dev/x none ,luks", "empty option (two commas in a row, or a comma at an end)");
	EXPECT_ERR("a /dev/x none discard=1", "option 'discard' takes no value");
	EXPECT_ERR("a /dev/x none luks=", "option 'luks' takes no value");
	EXPECT_ERR("a /dev/x none tries", "option 'tries' needs a value (tries=...)");
	EXPECT_ERR("a /dev/x none tries=", "option 'tries' needs a value (tries=...)");
	EXPECT_ERR("a /dev/x none tries=x", "invalid value 'x' for option 'tries': 0 (no limit) to 100");
	EXPECT_ERR("a /dev/x none tries=101", "invalid value '101' for option 'tries': 0 (no limit) to 100");
	EXPECT_ERR("a /dev/x none tries=-1", "invalid value '-1' for option 'tries': 0 (no limit) to 100");
	EXPECT_ERR("a /dev/x none keyslot=32", "invalid value '32' for option 'keyslot': 0 to 31");
	EXPECT_ERR("a /dev/x none key-slot=a", "invalid value 'a' for option 'key-slot': 0 to 31");
	EXPECT_ERR("a /dev/x none keyfile-offset=1k",
		   "invalid value '1k' for option 'keyfile-offset': a number of bytes");
	EXPECT_ERR("a /dev/x none keyfile-size=0",
		   "invalid value '0' for option 'keyfile-size': 1 to 8388608 bytes");
	EXPECT_ERR("a /dev/x none keyfile-size=8388609",
		   "invalid value '8388609' for option 'keyfile-size': 1 to 8388608 bytes");
	EXPECT_ERR("a /dev/x /k plain,size=7",
		   "invalid value '7' for option 'size': a key size in bits, a multiple of 8 from 8 to 1024");
	EXPECT_ERR("a /dev/x /k plain,size=1032",
		   "invalid value '1032' for option 'size': a key size in bits, a multiple of 8 from 8 to 1024");
	EXPECT_ERR("a /dev/x /k plain,sector-size=1000",
		   "invalid value '1000' for option 'sector-size': 512, 1024, 2048 or 4096");
	EXPECT_ERR("a /dev/x /k plain,offset=x",
		   "invalid value 'x' for option 'offset': a number of 512-byte sectors");
	EXPECT_ERR("a /dev/x /k plain,skip=99999999999999999999",
		   "invalid value '99999999999999999999' for option 'skip': a number of 512-byte sectors");
	EXPECT_ERR("a /dev/x /k plain,cipher=0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789",
		   "invalid value '0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789' for option 'cipher': 1 to 127 printable characters");
	EXPECT_ERR("a /dev/x /k plain,hash=sha256",
		   "hash=sha256 is not supported: plain mode takes a raw key file, not a passphrase to hash (use hash=plain or leave it out)");
}

static void combination_errors(void)
{
	EXPECT_ERR("a /dev/x none luks,plain", "options 'luks' and 'plain' exclude each other");
	EXPECT_ERR("a /dev/x none plain,luks", "options 'luks' and 'plain' exclude each other");
	EXPECT_ERR("a /dev/x none cipher=aes-xts-plain64",
		   "option 'cipher' is for plain mode: add 'plain' (a LUKS2 header says how its volume is encrypted)");
	EXPECT_ERR("a /dev/x none luks,offset=8",
		   "option 'offset' is for plain mode: add 'plain' (a LUKS2 header says how its volume is encrypted)");
	EXPECT_ERR("a /dev/x none iv-large-sectors,luks",
		   "option 'iv-large-sectors' is for plain mode: add 'plain' (a LUKS2 header says how its volume is encrypted)");
	EXPECT_ERR("a /dev/x none plain", "plain mode needs a key file holding the raw key, not 'none'");
	EXPECT_ERR("a /dev/x - plain", "plain mode needs a key file holding the raw key, not 'none'");
	EXPECT_ERR("a /dev/x /k plain,keyslot=1", "option 'keyslot' is for LUKS2, not plain mode");
	EXPECT_ERR("a /dev/x /k plain,keyfile-size=32,size=512",
		   "keyfile-size=32 (256 bits) does not match size=512");
	EXPECT_ERR("a /dev/x /k plain,keyfile-size=129",
		   "keyfile-size=129: a plain key has at most 128 bytes");
	EXPECT_ERR("a /dev/x /k plain,iv-large-sectors",
		   "iv-large-sectors needs sector-size= larger than 512");
	EXPECT_ERR("a /dev/x /k plain,iv-large-sectors,sector-size=4096,skip=3",
		   "with iv-large-sectors, skip= must be a multiple of 8 (sector-size= in 512-byte sectors)");
	EXPECT_ERR("a /dev/x /k plain,tpm2-device=auto",
		   "TPM2 options are for LUKS2 volumes (their token is in the header), not plain mode");
	EXPECT_ERR("a /dev/x /k plain,tpm2-pin=no",
		   "TPM2 options are for LUKS2 volumes (their token is in the header), not plain mode");
}

/* systemd 252's crypttab options for tokens and prompts, with its meanings. */
static void token_and_prompt_options(void)
{
	struct vt_entry e;
	uint64_t us;

	/* defaults: token-timeout=30s (systemd's), no prompt timeout, nothing set */
	EXPECT_INT(parse("r /dev/x", &e), 1);
	EXPECT_INT(e.token_timeout_us, 30000000);
	EXPECT_INT(e.timeout_us, 0);
	EXPECT(!e.headless && !e.tpm2_device && !e.tpm2_pcrs_set);
	EXPECT_INT(e.tpm2_pin, -1);
	vt_entry_free(&e);

	/* headless without a key file: a TPM2 token may open it (systemd's use) */
	EXPECT_INT(parse("r /dev/x none luks,headless", &e), 1);
	EXPECT(e.headless);
	vt_entry_free(&e);
	EXPECT_INT(parse("r /dev/x none headless=true,tpm2-device=auto,tpm2-pcrs=0+7+15,"
			 "tpm2-pin=no,token-timeout=0,timeout=1min30s", &e), 1);
	EXPECT(e.headless);
	EXPECT_STR(e.tpm2_device, "auto");
	EXPECT(e.tpm2_pcrs_set);
	EXPECT_INT(e.tpm2_pcrs, (1U << 0) | (1U << 7) | (1U << 15));
	EXPECT_INT(e.tpm2_pin, 0);
	EXPECT_INT(e.token_timeout_us, 0);
	EXPECT_INT(e.timeout_us, 90000000);
	vt_entry_free(&e);
	EXPECT_INT(parse("r /dev/x none headless=0,headless=off,tpm2-pin=YES,tpm2-pcrs=", &e), 1);
	EXPECT(!e.headless);
	EXPECT_INT(e.tpm2_pin, 1);
	EXPECT(e.tpm2_pcrs_set);
	EXPECT_INT(e.tpm2_pcrs, 0);
	vt_entry_free(&e);
	EXPECT_INT(parse("r /dev/x none tpm2-device=/dev/tpmrm0,timeout=10", &e), 1);
	EXPECT_STR(e.tpm2_device, "/dev/tpmrm0");
	EXPECT_INT(e.timeout_us, 10000000);
	vt_entry_free(&e);
	/* header=: a detached LUKS2 header file; the last one given counts */
	EXPECT_INT(parse("r /dev/x /k luks,header=/a.hdr,header=/etc/vault/r.hdr", &e), 1);
	EXPECT_STR(e.header, "/etc/vault/r.hdr");
	vt_entry_free(&e);
	EXPECT_INT(parse("r /dev/x none", &e), 1);
	EXPECT(e.header == NULL);
	vt_entry_free(&e);
	EXPECT_INT(parse("r /dev/x none tpm2-device=swtpm:path=/run/s,tpm2-pcrs=23", &e), 1);
	EXPECT_STR(e.tpm2_device, "swtpm:path=/run/s");
	EXPECT_INT(e.tpm2_pcrs, 1U << 23);
	vt_entry_free(&e);

	/* time spans as systemd.time(7) writes them */
	EXPECT_INT(vt_parse_timespan("0", &us), 0);
	EXPECT_INT(us, 0);
	EXPECT_INT(vt_parse_timespan("infinity", &us), 0);
	EXPECT_INT(us, 0);
	EXPECT_INT(vt_parse_timespan("500ms", &us), 0);
	EXPECT_INT(us, 500000);
	EXPECT_INT(vt_parse_timespan("2min", &us), 0);
	EXPECT_INT(us, 120000000);
	EXPECT_INT(vt_parse_timespan("1h5m3s", &us), 0);
	EXPECT_INT(us, 3903000000ULL);
	EXPECT_INT(vt_parse_timespan("7us", &us), 0);
	EXPECT_INT(us, 7);
	EXPECT_INT(vt_parse_timespan("1d", &us), 0);
	EXPECT_INT(us, 86400000000ULL);
	EXPECT_INT(vt_parse_timespan("", &us), -EINVAL);
	EXPECT_INT(vt_parse_timespan("s", &us), -EINVAL);
	EXPECT_INT(vt_parse_timespan("5x", &us), -EINVAL);
	EXPECT_INT(vt_parse_timespan("1.5s", &us), -EINVAL);
	EXPECT_INT(vt_parse_timespan("-5", &us), -EINVAL);
	EXPECT_INT(vt_parse_timespan("5 s", &us), -EINVAL);
	EXPECT_INT(vt_parse_timespan("5s6", &us), 0);	/* trailing bare number: seconds */
	EXPECT_INT(us, 11000000);
	EXPECT_INT(vt_parse_timespan("99999999999999999999", &us), -ERANGE);
	EXPECT_INT(vt_parse_timespan("999999999999w", &us), -ERANGE);

	/* precise errors */
	EXPECT_ERR("a /dev/x none timeout=1.5s",
		   "invalid value '1.5s' for option 'timeout': a time span such as 30 (seconds), 30s, 500ms, 2min or 1min30s; 0 for no limit");
	EXPECT_ERR("a /dev/x none token-timeout=soon",
		   "invalid value 'soon' for option 'token-timeout': a time span such as 30 (seconds), 30s, 500ms, 2min or 1min30s; 0 for no limit");
	EXPECT_ERR("a /dev/x none timeout", "option 'timeout' needs a value (timeout=...)");
	EXPECT_ERR("a /dev/x none headless=", "option 'headless' needs a value (headless=...)");
	EXPECT_ERR("a /dev/x none headless=maybe",
		   "invalid value 'maybe' for option 'headless': yes or no (or 1/0, true/false, on/off)");
	EXPECT_ERR("a /dev/x none tpm2-pin", "option 'tpm2-pin' needs a value (tpm2-pin=...)");
	EXPECT_ERR("a /dev/x none tpm2-pin=2",
		   "invalid value '2' for option 'tpm2-pin': yes or no (or 1/0, true/false, on/off)");
	EXPECT_ERR("a /dev/x none tpm2-device=",
		   "option 'tpm2-device' needs a value (tpm2-device=...)");
	EXPECT_ERR("a /dev/x none tpm2-device=tpmrm0",
		   "invalid value 'tpmrm0' for option 'tpm2-device': auto, a device path such as /dev/tpmrm0, or a TCTI such as device:/dev/tpmrm0");
	EXPECT_ERR("a /dev/x none tpm2-device=Dev:x",
		   "invalid value 'Dev:x' for option 'tpm2-device': auto, a device path such as /dev/tpmrm0, or a TCTI such as device:/dev/tpmrm0");
	EXPECT_ERR("a /dev/x none tpm2-pcrs=24",
		   "invalid value '24' for option 'tpm2-pcrs': PCR 24 is out of range (0 to 23)");
	EXPECT_ERR("a /dev/x none tpm2-pcrs=7+99999999999999999999",
		   "invalid value '7+99999999999999999999' for option 'tpm2-pcrs': PCR 99999999999999999999 is out of range (0 to 23)");
	EXPECT_ERR("a /dev/x none tpm2-pcrs=7+",
		   "invalid value '7+' for option 'tpm2-pcrs': it ends with '+'");
	EXPECT_ERR("a /dev/x none tpm2-pcrs=+7",
		   "invalid value '+7' for option 'tpm2-pcrs': PCR numbers 0 to 23 joined by '+', e.g. 7 or 0+7");
	EXPECT_ERR("a /dev/x none tpm2-pcrs=secure-boot-policy",
		   "invalid value 'secure-boot-policy' for option 'tpm2-pcrs': PCR numbers 0 to 23 joined by '+', e.g. 7 or 0+7");
	EXPECT_ERR("a /dev/x none tpm2-pcrs=7 x", "too many fields: expected NAME DEVICE [KEYFILE [OPTIONS]] (no blanks inside OPTIONS)");
	EXPECT_ERR("a /dev/x none tpm2-pcrs=0,7",
		   "unknown option '7' (a ',' splits options: tpm2-pcrs= joins PCRs with '+', e.g. tpm2-pcrs=7+11)");
	EXPECT_ERR("a /dev/x none tpm2-signature=/etc/sig.json",
		   "option 'tpm2-signature' is not supported by vaultctl (TPM2 with tpm2-device=, PKCS#11 with pkcs11-uri=auto, key files and passphrases are)");
	EXPECT_ERR("a /dev/x none fido2-device=auto",
		   "option 'fido2-device' is not supported by vaultctl (TPM2 with tpm2-device=, PKCS#11 with pkcs11-uri=auto, key files and passphrases are)");
	EXPECT_ERR("a /dev/x none pkcs11-uri=pkcs11:token=card",
		   "invalid value 'pkcs11:token=card' for option 'pkcs11-uri': auto (the volume's systemd-pkcs11 token; a URI with an encrypted key file is not supported)");
	EXPECT_ERR("a /dev/x none pkcs11-uri", "option 'pkcs11-uri' needs a value (pkcs11-uri=...)");
	EXPECT_ERR("a /dev/x /k plain,pkcs11-uri=auto",
		   "pkcs11-uri= is for LUKS2 volumes (their token is in the header), not plain mode");
	EXPECT_ERR("a /dev/x none header", "option 'header' needs a value (header=...)");
	EXPECT_ERR("a /dev/x none header=", "option 'header' needs a value (header=...)");
	EXPECT_ERR("a /dev/x none header=a.hdr",
		   "invalid value 'a.hdr' for option 'header': the absolute path of a detached LUKS2 header file");
	EXPECT_ERR("a /dev/x none header=/a.hdr:/dev/sdb1",
		   "header=/a.hdr:/dev/sdb1: a header on another device (header=PATH:DEVICE) is not supported; give the absolute path of a detached header file (header=/etc/vault/NAME.hdr)");
	EXPECT_ERR("a /dev/x none header=/a.hdr:UUID=1234",
		   "header=/a.hdr:UUID=1234: a header on another device (header=PATH:DEVICE) is not supported; give the absolute path of a detached header file (header=/etc/vault/NAME.hdr)");
	EXPECT_ERR("a /dev/x /k plain,header=/a.hdr",
		   "header= is for LUKS2 volumes with a detached header, not plain mode (which has no header)");
}

static void bad_bytes(void)
{
	char line[VAULTTAB_LINE_MAX + 10], *bad = NULL;
	struct vt_entry e;

	EXPECT_INT(vaulttab_parse_line("a /dev/x\0none", 13, 1, &e, err, sizeof(err), &bad), -1);
	EXPECT_STR(err, "NUL byte at column 9");
	EXPECT_INT(vaulttab_parse_line("\0", 1, 1, &e, err, sizeof(err), &bad), -1);
	EXPECT_STR(err, "NUL byte at column 1");
	EXPECT_ERR("a /dev/\x01x", "control character 0x01 at column 8");
	EXPECT_ERR("a /dev/x\x7f", "control character 0x7f at column 9");
	EXPECT_ERR("a\v/dev/x", "control character 0x0b at column 2");
	/* bytes above 0x7f are not control characters: UTF-8 labels work */
	EXPECT_INT(parse("a LABEL=d\xc3\xa9j\xc3\xa0", &e), 1);
	vt_entry_free(&e);
	memset(line, 'a', sizeof(line));
	EXPECT_INT(vaulttab_parse_line(line, VAULTTAB_LINE_MAX, 1, &e, err, sizeof(err), &bad), -1);
	EXPECT_STR(err, "line too long (more than 4095 bytes)");
	EXPECT(!bad);
}

static void bad_name_kept(void)
{
	struct vt_entry e;
	char *bad = NULL;
	const char *l = "data /dev/x none luks,bogus";

	EXPECT_INT(vaulttab_parse_line(l, strlen(l), 3, &e, err, sizeof(err), &bad), -1);
	EXPECT_STR(bad, "data");
	free(bad);
}

/* Normalized lines parse back to the same entry, and print the same. */
static void format_round_trip(void)
{
	static const char *const lines[] = {
		"r UUID=1 /k luks,discard,readonly,keyfile-offset=16,keyfile-size=32,keyslot=3,tries=5,headless,initramfs,noauto,nofail",
		"p /dev/x /k plain,cipher=aes-xts-plain64,size=512,offset=8,skip=8,sector-size=4096,iv-large-sectors,same-cpu-crypt,no-read-workqueue,no-write-workqueue",
		"m LABEL=x none",
		"n /dev/y none tries=0",
		"t /dev/z none luks,headless,timeout=90s,token-timeout=0s,tpm2-device=auto,tpm2-pcrs=0+7+15,tpm2-pin=yes",
		"u /dev/z none timeout=1500ms,token-timeout=7us,tpm2-device=device:/dev/tpmrm0,tpm2-pcrs=,tpm2-pin=no",
		"s /dev/z none luks,headless,pkcs11-uri=auto,initramfs",
		"h /dev/z /k luks,tpm2-device=auto,header=/etc/vault/headers/h.hdr,initramfs",
	};
	char out[VAULTTAB_LINE_MAX], out2[VAULTTAB_LINE_MAX];
	struct vt_entry e, e2;
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		EXPECT_INT(parse(lines[i], &e), 1);
		EXPECT_INT(vt_entry_format(&e, out, sizeof(out)), 0);
		EXPECT_STR(out, lines[i]);
		EXPECT_INT(parse(out, &e2), 1);
		EXPECT_INT(vt_entry_format(&e2, out2, sizeof(out2)), 0);
		EXPECT_STR(out2, out);
		vt_entry_free(&e2);
		EXPECT_INT(vt_entry_format(&e, out, 10), -ENOSPC);
		vt_entry_free(&e);
	}
	/* read-only, key-slot, hash=plain and "-" come out in their usual form */
	EXPECT_INT(parse("q /dev/z - luks,read-only,key-slot=2,_netdev", &e), 1);
	EXPECT_INT(vt_entry_format(&e, out, sizeof(out)), 0);
	EXPECT_STR(out, "q /dev/z none luks,readonly,keyslot=2");
	vt_entry_free(&e);
	/* systemd's spellings come out in one form; token-timeout=30s is the default */
	EXPECT_INT(parse("q /dev/z - headless=yes,timeout=2min,token-timeout=30,tpm2-pcrs=7,tpm2-pin=1", &e), 1);
	EXPECT_INT(vt_entry_format(&e, out, sizeof(out)), 0);
	EXPECT_STR(out, "q /dev/z none headless,timeout=120s,tpm2-pcrs=7,tpm2-pin=yes");
	vt_entry_free(&e);
}

static const char *write_file(const char *name, const void *data, size_t len)
{
	return ktap_write_file(dir, name, data, len);
}

static void load_file(void)
{
	static const char text[] =
		"# vaulttab\n"
		"\n"
		"root UUID=11111111-2222-3333-4444-555555555555 none luks,initramfs\n"
		"swap /dev/vdb /etc/keys/swap plain,size=256\n"
		"bad /dev/vdc none luks,bogus\n"
		"root /dev/vdd\n"
		"last /dev/vde none noauto";	/* no newline at the end */
	struct vaulttab t;
	const char *path = write_file("tab", text, sizeof(text) - 1);
	char want[256];

	EXPECT_INT(vaulttab_load(path, &t), 0);
	EXPECT_INT(t.count, 3);
	EXPECT_INT(t.errors, 2);
	EXPECT_STR(t.entries[0].name, "root");
	EXPECT_INT(t.entries[0].line, 3);
	EXPECT_STR(t.entries[1].name, "swap");
	EXPECT_STR(t.entries[2].name, "last");
	EXPECT_INT(t.entries[2].line, 7);
	EXPECT(t.entries[2].noauto);
	EXPECT(vaulttab_find(&t, "swap") == &t.entries[1]);
	EXPECT(!vaulttab_find(&t, "bad"));
	EXPECT(vaulttab_is_bad(&t, "bad"));
	EXPECT(!vaulttab_is_bad(&t, "root"));
	snprintf(want, sizeof(want), "vaultctl: %s:5: unknown option 'bogus'\n", path);
	EXPECT(strstr(ktap_stderr(), want) != NULL);
	snprintf(want, sizeof(want), "vaultctl: %s:6: duplicate name 'root' (already on line 3)\n",
		 path);
	EXPECT(strstr(ktap_stderr(), want) != NULL);
	vaulttab_free(&t);
}

static void load_long_lines_and_nuls(void)
{
	size_t big = 3 * VAULTTAB_LINE_MAX;
	char *text = malloc(big + 200), want[256];
	struct vaulttab t;
	const char *path;
	size_t n;

	if (!text) {
		ktap_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	n = (size_t)sprintf(text, "a /dev/a\n");
	memset(text + n, 'x', big);
	n += big;
	n += (size_t)sprintf(text + n, "\nb /dev/b\n");
	memcpy(text + n, "c /dev/c\0\nd /dev/d\n", 19);	/* a NUL in line 4 */
	n += 19;
	path = write_file("long", text, n);
	EXPECT_INT(vaulttab_load(path, &t), 0);
	EXPECT_INT(t.count, 3);
	EXPECT_INT(t.errors, 2);
	snprintf(want, sizeof(want), "%s:2: line too long (more than 4095 bytes)", path);
	EXPECT(strstr(ktap_stderr(), want) != NULL);
	snprintf(want, sizeof(want), "%s:4: NUL byte at column 9", path);
	EXPECT(strstr(ktap_stderr(), want) != NULL);
	EXPECT(!vaulttab_find(&t, "c"));
	EXPECT(vaulttab_find(&t, "b") && vaulttab_find(&t, "b")->line == 3);
	EXPECT(vaulttab_find(&t, "d") && vaulttab_find(&t, "d")->line == 5);
	vaulttab_free(&t);
	free(text);
}

static void load_missing_and_empty(void)
{
	struct vaulttab t;
	char path[128];

	snprintf(path, sizeof(path), "%s/nope", dir);
	EXPECT_INT(vaulttab_load(path, &t), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "cannot open ") != NULL);
	vaulttab_free(&t);
	EXPECT_INT(vaulttab_load(write_file("empty", "", 0), &t), 0);
	EXPECT_INT(t.count, 0);
	EXPECT_INT(t.errors, 0);
	vaulttab_free(&t);
	EXPECT_INT(vaulttab_load(dir, &t), -EIO);	/* a directory */
	vaulttab_free(&t);
}

static void load_too_many(void)
{
	size_t n = 0, i, cap = (VAULTTAB_ENTRIES_MAX + 2) * 32;
	char *text = malloc(cap);
	struct vaulttab t;

	if (!text) {
		ktap_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	for (i = 0; i < VAULTTAB_ENTRIES_MAX + 2; i++)
		n += (size_t)snprintf(text + n, cap - n, "v%zu /dev/x\n", i);
	EXPECT_INT(vaulttab_load(write_file("many", text, n), &t), 0);
	EXPECT_INT(t.count, VAULTTAB_ENTRIES_MAX);
	EXPECT_INT(t.errors, 2);
	EXPECT(strstr(ktap_stderr(), ":257: too many entries (at most 256)") != NULL);
	vaulttab_free(&t);
	free(text);
}

static void load_limits(void)
{
	size_t n = VAULTTAB_SIZE_MAX + 1, i;
	char *text = malloc(n);
	struct vaulttab t;

	if (!text) {
		ktap_fail(__FILE__, __LINE__, "out of memory");
		return;
	}
	/* a file of comments one byte too big */
	memset(text, '#', n);
	for (i = 100; i < n; i += 100)
		text[i] = '\n';
	EXPECT_INT(vaulttab_load(write_file("big", text, n), &t), -EFBIG);
	EXPECT(strstr(ktap_stderr(), "is larger than 1048576 bytes: not a vaulttab?") != NULL);
	vaulttab_free(&t);
	/* exactly the limit is fine */
	EXPECT_INT(vaulttab_load(write_file("big", text, n - 1), &t), 0);
	EXPECT_INT(t.errors, 0);
	vaulttab_free(&t);
	/* 60 bad lines: 50 reported, then a stop */
	for (i = 0, n = 0; i < 60; i++)
		n += (size_t)sprintf(text + n, "bad%zu\n", i);
	EXPECT_INT(vaulttab_load(write_file("bad", text, n), &t), 0);
	EXPECT_INT(t.errors, VAULTTAB_ERRORS_MAX);
	EXPECT(strstr(ktap_stderr(), ":50: missing DEVICE") != NULL);
	EXPECT(strstr(ktap_stderr(), ":51: missing DEVICE") == NULL);
	EXPECT(strstr(ktap_stderr(), "stopping after 50 errors") != NULL);
	vaulttab_free(&t);
	free(text);
}

/* Random lines, biased towards the syntax: no crash, no leak, sane results. */
static void random_lines(void)
{
	static const char alphabet[] = "ab/=,# \t\r\n\x01\x80" "0123456789";
	static const char *const words[] = { "luks", "plain", "UUID=", "none", "tries=", "size=",
					     ",", " ", "cipher=", "keyfile-size=", "/dev/x",
					     "sector-size=4096", "iv-large-sectors", "=" };
	char line[VAULTTAB_LINE_MAX + 64], *bad, out[VAULTTAB_LINE_MAX * 2];
	unsigned int seed = 12345, i, ok = 0, rej = 0;
	struct vt_entry e;

	for (i = 0; i < 200000; i++) {
		size_t len = 0, want = (size_t)rand_r(&seed) % 80;

		if (i % 1000 == 0)
			want = VAULTTAB_LINE_MAX - 1 + (size_t)rand_r(&seed) % 3;
		while (len < want && len < sizeof(line) - 20) {
			if (rand_r(&seed) % 3) {
				const char *w = words[(size_t)rand_r(&seed) % (sizeof(words) / sizeof(words[0]))];

				memcpy(line + len, w, strlen(w));
				len += strlen(w);
			} else {
				line[len++] = (char)(rand_r(&seed) % 7 ? alphabet[(size_t)rand_r(&seed) % (sizeof(alphabet) - 1)]
								   : rand_r(&seed) % 256);
			}
		}
		if (len > sizeof(line) - 1)
			len = sizeof(line) - 1;
		bad = NULL;
		switch (vaulttab_parse_line(line, len, i, &e, err, sizeof(err), &bad)) {
		case 1:
			ok++;
			if (vt_entry_format(&e, out, sizeof(out)) || !e.name || !e.device)
				ktap_fail(__FILE__, __LINE__, "entry %u does not format", i);
			vt_entry_free(&e);
			break;
		case 0:
			break;
		case -1:
			rej++;
			if (!err[0])
				ktap_fail(__FILE__, __LINE__, "line %u refused without a message", i);
			break;
		default:
			ktap_fail(__FILE__, __LINE__, "bad return value");
		}
		free(bad);
	}
	printf("# random lines: %u entries, %u refused\n", ok, rej);
	EXPECT(ok > 100 && rej > 100);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(minimal_entry),
	KTAP_CASE(key_file_field),
	KTAP_CASE(device_tags),
	KTAP_CASE(comments_and_blanks),
	KTAP_CASE(field_counts),
	KTAP_CASE(names),
	KTAP_CASE(luks_options),
	KTAP_CASE(plain_options),
	KTAP_CASE(ignored_options),
	KTAP_CASE(option_errors),
	KTAP_CASE(combination_errors),
	KTAP_CASE(token_and_prompt_options),
	KTAP_CASE(bad_bytes),
	KTAP_CASE(bad_name_kept),
	KTAP_CASE(format_round_trip),
	KTAP_CASE(load_file),
	KTAP_CASE(load_long_lines_and_nuls),
	KTAP_CASE(load_missing_and_empty),
	KTAP_CASE(load_too_many),
	KTAP_CASE(load_limits),
	KTAP_CASE(random_lines),
};

int main(void)
{
	char cmd[128];
	int r;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	r = ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	return r;
}
