// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: command line parsing and the action table.
 */
#include <errno.h>
#include <stdio.h>

#include "ktap.h"
#include "util.h"
#include "vaultctl.h"

#define MAXARGS 40

/* Parses a space-separated command line (no quoting needed in these tests). */
static int parse(const char *line, struct vault_cli *cli)
{
	static char buf[1024];
	static char *argv[MAXARGS];
	int argc = 0;
	char *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "vaultctl %s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < MAXARGS - 1;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return vault_cli_parse(argc, argv, cli);
}

static void open_defaults(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("open --type plain --key-file /k /dev/loop0 vol", &c), 0);
	EXPECT(c.action && !strcmp(c.action->name, "open"));
	EXPECT_INT(c.argc, 2);
	EXPECT_STR(c.argv[0], "/dev/loop0");
	EXPECT_STR(c.argv[1], "vol");
	EXPECT_STR(c.opts.type, "plain");
	EXPECT_STR(c.opts.key_file, "/k");
	EXPECT(c.opts.cipher == NULL);
	EXPECT_INT(c.opts.key_bits, 0);
	EXPECT_INT(c.opts.sector_size, 512);
	EXPECT_INT(c.opts.offset, 0);
	EXPECT_INT(c.opts.iv_offset, 0);
	EXPECT_INT(c.opts.size, 0);
	EXPECT(!c.opts.readonly && !c.opts.allow_discards && !c.help);
}

static void open_all_options(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("open /dev/sdb --type plain --cipher aes-cbc-essiv:sha256 "
			 "--key-size 256 --key-file - --keyfile-offset 10 --offset 2048 "
			 "--iv-offset 7 --sector-size 4096 --iv-large-sectors --allow-discards "
			 "--same-cpu-crypt --no-read-workqueue --no-write-workqueue --readonly "
			 "--size 1M v2", &c), 0);
	EXPECT_STR(c.argv[0], "/dev/sdb");
	EXPECT_STR(c.argv[1], "v2");
	EXPECT_STR(c.opts.cipher, "aes-cbc-essiv:sha256");
	EXPECT_INT(c.opts.key_bits, 256);
	EXPECT_STR(c.opts.key_file, "-");
	EXPECT_INT(c.opts.keyfile_offset, 10);
	EXPECT_INT(c.opts.offset, 2048);
	EXPECT_INT(c.opts.iv_offset, 7);
	EXPECT_INT(c.opts.sector_size, 4096);
	EXPECT(c.opts.iv_large_sectors && c.opts.allow_discards && c.opts.same_cpu_crypt);
	EXPECT(c.opts.no_read_workqueue && c.opts.no_write_workqueue && c.opts.readonly);
	EXPECT_INT(c.opts.size, 2048);
}

static void short_options_and_aliases(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("-v open -M plain -c serpent-xts-plain64 -s 512 -d /k -o 8 -p 9 "
			 "-b 16 -r d n", &c), 0);
	EXPECT_STR(c.opts.type, "plain");
	EXPECT_STR(c.opts.cipher, "serpent-xts-plain64");
	EXPECT_INT(c.opts.key_bits, 512);
	EXPECT_INT(c.opts.offset, 8);
	EXPECT_INT(c.opts.iv_offset, 9);
	EXPECT_INT(c.opts.size, 16);
	EXPECT(c.opts.readonly);
	EXPECT_INT(parse("open --type=plain --key-file=/k --skip=33 d n", &c), 0);
	EXPECT_INT(c.opts.iv_offset, 33);
	log_verbose_level = 0;
}

static void bad_values(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("open --type plain --key-file k --key-size 7 d n", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "--key-size"));
	EXPECT_INT(parse("open --type plain --key-file k --key-size 0 d n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k --key-size 1032 d n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k --key-size abc d n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k --key-size 1024 d n", &c), 0);
	EXPECT_INT(parse("open --type plain --key-file k --sector-size 1000 d n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k --sector-size 8192 d n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k --size 0 d n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k --offset -5 d n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k --offset 1000B d n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k --keyfile-offset 1K d n", &c), -EINVAL);
}

static void unknown_and_misplaced_options(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("open --type plain --key-file k --frob d n", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "unknown option '--frob'"));
	EXPECT_INT(parse("open --type plain --key-file k -z d n", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "unknown option '-z'"));
	EXPECT_INT(parse("close --cipher aes-xts-plain64 n", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "--cipher is not valid for 'close'"));
	EXPECT_INT(parse("status --key-file k n", &c), -EINVAL);
	EXPECT_INT(parse("key remove --size 5 n", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain d n --key-file", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "needs a value"));
}

static void arguments_and_required_options(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "no command"));
	EXPECT_INT(parse("frob", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "unknown command 'frob'"));
	EXPECT_INT(parse("open --type plain --key-file k d", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain --key-file k d n x", &c), -EINVAL);
	EXPECT_INT(parse("open --type plain d n", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "needs option --key-file"));
	/* Without --type, open is LUKS2 (the handler says so if it is not). */
	EXPECT_INT(parse("open --key-file k d n", &c), 0);
	EXPECT(c.opts.type == NULL);
	EXPECT_INT(parse("open d n", &c), 0);
	EXPECT_INT(parse("close", &c), -EINVAL);
	EXPECT_INT(parse("close a b", &c), -EINVAL);
	EXPECT_INT(parse("resume n", &c), 0);	/* LUKS2: asks for the passphrase */
	EXPECT_INT(parse("resize n", &c), 0);	/* LUKS2: tokens, then the passphrase */
	EXPECT_INT(parse("resize --device-size 1000 n", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "a multiple of 512"));
	EXPECT_INT(parse("resize --device-size 1M n", &c), 0);
	EXPECT(c.opts.device_size == 2048);
	EXPECT_INT(parse("resize --device-size 1048576 n", &c), 0);
	EXPECT(c.opts.device_size == 2048);
	EXPECT_INT(parse("token import --json-file f --token-id 3 --key-slot 1 d", &c), 0);
	EXPECT_STR(c.action->name, "token import");
	EXPECT(c.opts.token_id == 3 && c.opts.key_slot == 1 && !strcmp(c.opts.json_file, "f"));
	EXPECT_INT(parse("token export d", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "needs option --token-id"));
	EXPECT_INT(parse("token", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "import, export or remove"));
	EXPECT_INT(parse("token remove --token-id 2 d", &c), 0);
	EXPECT_INT(parse("config --label L --subsystem S d", &c), 0);
	EXPECT(!strcmp(c.opts.label, "L") && !strcmp(c.opts.subsystem, "S"));
	EXPECT_INT(parse("dump --dump-volume-key -q --volume-key-file k d", &c), 0);
	EXPECT(c.opts.dump_volume_key && c.opts.batch_mode && !strcmp(c.opts.volume_key_file, "k"));
	EXPECT_INT(parse("uuid --uuid 12345678-9abc-def0-1234-56789abcdefg d", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "groups 8-4-4-4-12"));
	EXPECT_INT(parse("format", &c), -EINVAL);
	EXPECT_INT(parse("kill-slot d", &c), -EINVAL);
	EXPECT_INT(parse("header-backup d", &c), -EINVAL);
	EXPECT_INT(parse("add-key d f g", &c), -EINVAL);
	EXPECT_INT(parse("key add n --key-file k", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "needs option --key-size"));
	EXPECT_INT(parse("key", &c), -EINVAL);
	EXPECT_INT(parse("key frob", &c), -EINVAL);
	EXPECT_INT(parse("key list x", &c), -EINVAL);
	EXPECT_INT(parse("version x", &c), -EINVAL);
}

static void every_command_parses(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("close n", &c), 0);
	EXPECT_STR(c.action->name, "close");
	EXPECT_INT(parse("status n", &c), 0);
	EXPECT_STR(c.action->name, "status");
	EXPECT_INT(parse("suspend n", &c), 0);
	EXPECT_STR(c.action->name, "suspend");
	EXPECT_INT(parse("resume n --key-file k", &c), 0);
	EXPECT_STR(c.action->name, "resume");
	EXPECT_INT(parse("resume n --key-file k --key-size 256", &c), 0);
	EXPECT_INT(parse("resize n --key-file k --size 100", &c), 0);
	EXPECT_STR(c.action->name, "resize");
	EXPECT_INT(c.opts.size, 100);
	EXPECT_INT(parse("key add mykey --key-file k --key-size 256", &c), 0);
	EXPECT_STR(c.action->name, "key add");
	EXPECT_INT(c.argc, 1);
	EXPECT_STR(c.argv[0], "mykey");
	EXPECT_INT(parse("key remove mykey", &c), 0);
	EXPECT_STR(c.action->name, "key remove");
	EXPECT_INT(parse("key list", &c), 0);
	EXPECT_STR(c.action->name, "key list");
	EXPECT_INT(parse("version", &c), 0);
	EXPECT_STR(c.action->name, "version");
	EXPECT_INT(parse("--debug --verbose status n", &c), 0);
	EXPECT(log_debug_level > 0 && log_verbose_level > 0);
	log_debug_level = 0;
	log_verbose_level = 0;
}

static void luks2_options(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("format /dev/sdb", &c), 0);
	EXPECT_STR(c.action->name, "format");
	EXPECT(c.opts.pbkdf == NULL && c.opts.key_slot == -1 && c.opts.tries == 3);
	EXPECT(!c.opts.batch_mode && !c.opts.force && !c.opts.metadata_size);
	EXPECT_INT(parse("format d --pbkdf pbkdf2 --hash sha512 --iter-time 100 "
			 "--pbkdf-force-iterations 1000 --label L --uuid "
			 "12345678-9abc-def0-1234-56789abcdef0 --luks2-metadata-size 64k "
			 "-S 3 --key-file f --keyfile-size 20 -q --force --sector-size 512", &c), 0);
	EXPECT_STR(c.opts.pbkdf, "pbkdf2");
	EXPECT_STR(c.opts.hash, "sha512");
	EXPECT_INT(c.opts.iter_time_ms, 100);
	EXPECT_INT(c.opts.pbkdf_iterations, 1000);
	EXPECT_STR(c.opts.label, "L");
	EXPECT_INT(c.opts.metadata_size, 65536);
	EXPECT_INT(c.opts.key_slot, 3);
	EXPECT_INT(c.opts.keyfile_size, 20);
	EXPECT(c.opts.batch_mode && c.opts.force);
	EXPECT_INT(parse("format d --pbkdf argon2id --pbkdf-memory 32 --pbkdf-parallel 1", &c), 0);
	EXPECT_INT(c.opts.pbkdf_memory_kb, 32);
	EXPECT_INT(c.opts.pbkdf_parallel, 1);
	EXPECT_INT(parse("format d --pbkdf scrypt", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "argon2id, argon2i or pbkdf2"));
	EXPECT_INT(parse("format d --pbkdf-memory 8", &c), -EINVAL);
	EXPECT_INT(parse("format d --luks2-metadata-size 20k", &c), -EINVAL);
	EXPECT_INT(parse("format d --luks2-metadata-size 8m", &c), -EINVAL);
	EXPECT_INT(parse("format d --label 123456789012345678901234567890123456789012345678", &c),
		   -EINVAL);
	EXPECT_INT(parse("open d n --key-slot 32", &c), -EINVAL);
	EXPECT_INT(parse("open d n --tries 0", &c), -EINVAL);
	EXPECT_INT(parse("open d n -T 5 -S 31", &c), 0);
	EXPECT_INT(c.opts.tries, 5);
	EXPECT_INT(c.opts.key_slot, 31);
	EXPECT_INT(parse("dump d --pbkdf pbkdf2", &c), -EINVAL);
	EXPECT(strstr(ktap_stderr(), "--pbkdf is not valid for 'dump'"));
	EXPECT_INT(parse("close n --batch-mode", &c), -EINVAL);
	EXPECT_INT(parse("kill-slot d 4 -q", &c), 0);
	EXPECT_INT(c.argc, 2);
	EXPECT_INT(parse("add-key d newfile", &c), 0);
	EXPECT_INT(parse("header-restore d f --force", &c), 0);
}

static void help_forms(void)
{
	struct vault_cli c;

	EXPECT_INT(parse("--help", &c), 0);
	EXPECT(c.help && !c.action);
	EXPECT_INT(parse("-h", &c), 0);
	EXPECT(c.help && !c.action);
	EXPECT_INT(parse("help", &c), 0);
	EXPECT(c.help && !c.action);
	/* Per command, without its required options or arguments. */
	EXPECT_INT(parse("open --help", &c), 0);
	EXPECT(c.help && c.action && !strcmp(c.action->name, "open"));
	EXPECT_INT(parse("help resume", &c), 0);
	EXPECT(c.help && !strcmp(c.action->name, "resume"));
	EXPECT_INT(parse("key add -h", &c), 0);
	EXPECT(c.help && !strcmp(c.action->name, "key add"));
	EXPECT_INT(parse("key --help", &c), 0);
	EXPECT(c.help && !c.action);
	EXPECT_INT(parse("--version", &c), 0);
	EXPECT(c.version && !c.action);
}

static void action_table(void)
{
	static const char *const names[] = {
		"open", "close", "status", "suspend", "resume", "resize",
		"key add", "key remove", "key list", "version",
	};
	static const char *const luks_names[] = {
		"format", "add-key", "remove-key", "change-key", "kill-slot", "dump",
		"header-backup", "header-restore", "uuid", "is-luks", "erase", "repair",
		"config", "token import", "token export", "token remove",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct vault_action *a = vault_action_find(names[i]);

		EXPECT(a != NULL);
		if (!a)
			continue;
		EXPECT(a->handler != NULL && a->summary && a->args);
		/* Everything but version changes or reads devices or keys. */
		EXPECT_INT(a->needs_admin, strcmp(names[i], "version") != 0);
	}
	/* Header commands work on image files too: file permissions decide. */
	for (i = 0; i < sizeof(luks_names) / sizeof(luks_names[0]); i++) {
		const struct vault_action *a = vault_action_find(luks_names[i]);

		EXPECT(a != NULL && a->handler && !a->needs_admin);
	}
	EXPECT(vault_action_find("help") == NULL);
	EXPECT(vault_action_find("key") == NULL);
	EXPECT(vault_action_find("token") == NULL);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(open_defaults),
	KTAP_CASE(open_all_options),
	KTAP_CASE(short_options_and_aliases),
	KTAP_CASE(bad_values),
	KTAP_CASE(unknown_and_misplaced_options),
	KTAP_CASE(arguments_and_required_options),
	KTAP_CASE(every_command_parses),
	KTAP_CASE(luks2_options),
	KTAP_CASE(help_forms),
	KTAP_CASE(action_table),
};

int main(void)
{
	return ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
}
