// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2-tool: a thin command line over the luks2 library for its host-side
 * tests (not installed; vaultctl is the product).  Passphrases come from key
 * files, volume keys go to files (mode 0600), never to the terminal.
 *
 * Exit status: 0 ok, 1 error, 2 no key available with this passphrase.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "luks2.h"

#define MAX_KEYFILE	(8 * 1024 * 1024)

struct secret {
	char *p;
	size_t len, cap;
};

static void secret_free(struct secret *s)
{
	if (s->p) {
		explicit_bzero(s->p, s->cap);
		munlock(s->p, s->cap);
		free(s->p);
	}
	memset(s, 0, sizeof(*s));
}

/* Reads FILE whole (as cryptsetup --key-file does) into locked memory. */
static int read_secret(const char *file, struct secret *s)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	if (fd < 0 || fstat(fd, &st) || st.st_size > MAX_KEYFILE) {
		fprintf(stderr, "%s: cannot read key file\n", file);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	s->cap = (size_t)st.st_size + 1;
	s->p = calloc(1, s->cap);
	if (!s->p || mlock(s->p, s->cap)) {
		fprintf(stderr, "cannot lock memory\n");
		close(fd);
		free(s->p);
		s->p = NULL;
		return -1;
	}
	while (s->len < (size_t)st.st_size) {
		n = read(fd, s->p + s->len, (size_t)st.st_size - s->len);
		if (n <= 0)
			break;
		s->len += (size_t)n;
	}
	close(fd);
	return 0;
}

static int write_file(const char *file, const void *buf, size_t len)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd)) {
		fprintf(stderr, "%s: cannot write\n", file);
		return -1;
	}
	return 0;
}

static struct {
	struct luks2_pbkdf pbkdf;
	struct luks2_format_params fmt;
	int slot;
	const char *vk_out, *vk_in, *resilience;
	bool force, ignore_req;
} o;

static const struct option longopts[] = {
	{ "pbkdf", 1, NULL, 'p' }, { "hash", 1, NULL, 'h' }, { "iter", 1, NULL, 'i' },
	{ "memory", 1, NULL, 'm' }, { "parallel", 1, NULL, 'P' }, { "iter-time", 1, NULL, 't' },
	{ "sector-size", 1, NULL, 's' }, { "metadata-size", 1, NULL, 'M' },
	{ "key-size", 1, NULL, 'k' }, { "cipher", 1, NULL, 'c' }, { "label", 1, NULL, 'l' },
	{ "uuid", 1, NULL, 'u' }, { "slot", 1, NULL, 'S' }, { "vk-out", 1, NULL, 'o' },
	{ "vk-in", 1, NULL, 'I' }, { "force", 0, NULL, 'f' }, { "ignore-req", 0, NULL, 'R' },
	{ "data-offset", 1, NULL, 'd' }, { "subsystem", 1, NULL, 'y' },
	{ "resilience", 1, NULL, 'r' },
	{ NULL, 0, NULL, 0 }
};

static int parse_opts(int argc, char **argv)
{
	int c;

	o.slot = -1;
	o.fmt.keyslot = -1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!strcmp(optarg, "pbkdf2"))
				o.pbkdf.type = LUKS2_KDF_PBKDF2;
			else if (!strcmp(optarg, "argon2i"))
				o.pbkdf.type = LUKS2_KDF_ARGON2I;
			else if (!strcmp(optarg, "argon2id"))
				o.pbkdf.type = LUKS2_KDF_ARGON2ID;
			else
				return -1;
			break;
		case 'h': o.pbkdf.hash = optarg; break;
		case 'i': o.pbkdf.iterations = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'm': o.pbkdf.memory_kb = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'P': o.pbkdf.parallel = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 't': o.pbkdf.iter_time_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 's': o.fmt.sector_size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'M': o.fmt.metadata_size = strtoull(optarg, NULL, 0); break;
		case 'd': o.fmt.data_offset = strtoull(optarg, NULL, 0); break;
		case 'k': o.fmt.key_size = (uint32_t)strtoul(optarg, NULL, 0) / 8; break;
		case 'c': o.fmt.cipher = optarg; break;
		case 'l': o.fmt.label = optarg; break;
		case 'y': o.fmt.subsystem = optarg; break;
		case 'u': o.fmt.uuid = optarg; break;
		case 'S': o.slot = atoi(optarg); break;
		case 'o': o.vk_out = optarg; break;
		case 'I': o.vk_in = optarg; break;
		case 'f': o.force = true; break;
		case 'R': o.ignore_req = true; break;
		case 'r': o.resilience = optarg; break;
		default: return -1;
		}
	}
	return 0;
}

static int fail(struct luks2 *l, int r)
{
	fprintf(stderr, "error: %s\n", luks2_error(l));
	return r == -EPERM ? 2 : 1;
}

static struct luks2 *load(const char *img, bool rw, int *rc)
{
	struct luks2 *l = luks2_new();

	if (!l) {
		*rc = 1;
		return NULL;
	}
	if (luks2_load(l, img, (rw ? LUKS2_RDWR : 0) |
		       (o.ignore_req ? LUKS2_IGNORE_REQUIREMENTS : 0))) {
		fprintf(stderr, "error: %s\n", luks2_error(l));
		luks2_free(l);
		*rc = 1;
		return NULL;
	}
	if (luks2_health(l))
		fprintf(stderr, "warning: %s\n", luks2_health_text(l));
	return l;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: luks2-tool CMD ARGS [options]\n"
		"  load IMG | dump IMG | segment IMG | repair IMG | erase IMG\n"
		"  unlock IMG KEYFILE [--slot N] [--vk-out FILE]\n"
		"  format IMG KEYFILE [--pbkdf T --iter N --memory K --parallel P --hash H\n"
		"         --sector-size B --metadata-size B --key-size BITS --cipher C\n"
		"         --label L --uuid U --vk-in FILE --slot N]\n"
		"  add-key IMG KEYFILE NEWKEYFILE [--slot N] [pbkdf options]\n"
		"  change-key IMG KEYFILE NEWKEYFILE [--slot N] [pbkdf options]\n"
		"  remove-key IMG KEYFILE | kill IMG SLOT\n"
		"  backup IMG FILE | restore IMG FILE [--force]\n"
		"  reencrypt-status IMG | reencrypt-verify IMG KEYFILE\n"
		"  reencrypt-init IMG KEYFILE [--resilience R] [pbkdf options]\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct secret k1 = { 0 }, k2 = { 0 }, vkin = { 0 };
	unsigned char *vk = NULL;
	struct luks2 *l = NULL;
	const char *cmd, *img;
	int rc = 0, r, nargs;
	size_t vk_len;

	if (parse_opts(argc, argv) || argc - optind < 2)
		return usage();
	cmd = argv[optind];
	img = argv[optind + 1];
	nargs = argc - optind - 2;
	vk = mmap(NULL, LUKS2_VK_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vk == MAP_FAILED || mlock(vk, LUKS2_VK_MAX))
		return 1;

	if (!strcmp(cmd, "load") || !strcmp(cmd, "dump") || !strcmp(cmd, "segment")) {
		l = load(img, false, &rc);
		if (!l)
			goto out;
		if (!strcmp(cmd, "load")) {
			printf("health=%u seqid=%llu uuid=%s keyslots=0x%x\n", luks2_health(l),
			       (unsigned long long)luks2_seqid(l), luks2_uuid(l),
			       luks2_keyslots_in_use(l));
		} else if (!strcmp(cmd, "dump")) {
			if (luks2_dump(l, stdout))
				rc = fail(l, -1);
		} else {
			struct luks2_segment s;

			r = luks2_get_segment(l, &s);
			if (r)
				rc = fail(l, r);
			else
				printf("%s %u %llu %llu %llu %u\n", s.cipher, s.key_size,
				       (unsigned long long)s.offset, (unsigned long long)s.size,
				       (unsigned long long)s.iv_tweak, s.sector_size);
		}
	} else if (!strcmp(cmd, "repair") || !strcmp(cmd, "erase")) {
		l = load(img, true, &rc);
		if (!l)
			goto out;
		r = !strcmp(cmd, "repair") ? luks2_repair(l) : luks2_erase(l);
		if (r < 0)
			rc = fail(l, r);
		else if (!strcmp(cmd, "repair"))
			printf("%s\n", r ? luks2_health_text(l) : "nothing to repair");
	} else if (!strcmp(cmd, "unlock") && nargs == 1) {
		if (read_secret(argv[optind + 2], &k1) || !(l = load(img, false, &rc))) {
			rc = 1;
			goto out;
		}
		r = luks2_unlock(l, o.slot, k1.p, k1.len, vk, LUKS2_VK_MAX, &vk_len);
		if (r < 0) {
			rc = fail(l, r);
			goto out;
		}
		printf("keyslot %d unlocked\n", r);
		if (o.vk_out && write_file(o.vk_out, vk, vk_len))
			rc = 1;
	} else if (!strcmp(cmd, "reencrypt-status") && nargs == 0) {
		struct luks2_reencrypt re;

		o.ignore_req = true;	/* a header in reencryption loads for inspection only */
		l = load(img, false, &rc);
		if (!l)
			goto out;
		r = luks2_reencrypt_status(l, &re);
		if (r == -ENOENT)
			printf("none\n");
		else if (r)
			rc = fail(l, r);
		else
			printf("v%d keyslot=%d mode=%s direction=%s resilience=%s hash=%s "
			       "hash_sector=%u shift=%llu progress=%llu size=%llu hotzone=%d\n",
			       re.version, re.keyslot, re.mode, re.direction, re.resilience,
			       *re.hash ? re.hash : "-", re.hash_sector_size,
			       (unsigned long long)re.shift_size, (unsigned long long)re.progress,
			       (unsigned long long)re.data_size, re.hotzone);
	} else if (!strcmp(cmd, "reencrypt-init") && nargs == 1) {
		struct luks2_reencrypt_params rp = { .resilience = o.resilience, .pbkdf = o.pbkdf };

		if (read_secret(argv[optind + 2], &k1) || !(l = load(img, true, &rc))) {
			rc = 1;
			goto out;
		}
		r = luks2_unlock(l, -1, k1.p, k1.len, vk, LUKS2_VK_MAX, &vk_len);
		if (r >= 0)
			r = luks2_reencrypt_init(l, vk, vk_len, k1.p, k1.len, &rp);
		if (r < 0)
			rc = fail(l, r);
		else
			printf("keyslot %d\n", r);
	} else if (!strcmp(cmd, "reencrypt-verify") && nargs == 1) {
		o.ignore_req = true;
		if (read_secret(argv[optind + 2], &k1) || !(l = load(img, false, &rc))) {
			rc = 1;
			goto out;
		}
		r = luks2_reencrypt_verify(l, k1.p, k1.len);
		if (r)
			rc = fail(l, r);
		else
			printf("reencryption metadata verified\n");
	} else if (!strcmp(cmd, "format") && nargs == 1) {
		char err[512];

		if (read_secret(argv[optind + 2], &k1) || (o.vk_in && read_secret(o.vk_in, &vkin))) {
			rc = 1;
			goto out;
		}
		o.fmt.pbkdf = o.pbkdf;
		o.fmt.keyslot = o.slot;
		if (o.vk_in && !o.fmt.key_size)
			o.fmt.key_size = (uint32_t)vkin.len;
		r = luks2_format(img, &o.fmt, o.vk_in ? vkin.p : NULL, vkin.len, k1.p, k1.len,
				 NULL, err, sizeof(err));
		if (r) {
			fprintf(stderr, "error: %s\n", err);
			rc = 1;
		}
	} else if ((!strcmp(cmd, "add-key") || !strcmp(cmd, "change-key")) && nargs == 2) {
		if (read_secret(argv[optind + 2], &k1) || read_secret(argv[optind + 3], &k2) ||
		    !(l = load(img, true, &rc))) {
			rc = 1;
			goto out;
		}
		if (!strcmp(cmd, "add-key")) {
			r = luks2_unlock(l, -1, k1.p, k1.len, vk, LUKS2_VK_MAX, &vk_len);
			if (r >= 0)
				r = luks2_add_keyslot(l, o.slot, vk, vk_len, k2.p, k2.len, &o.pbkdf);
		} else {
			r = luks2_change_key(l, o.slot, k1.p, k1.len, k2.p, k2.len, &o.pbkdf);
		}
		if (r < 0)
			rc = fail(l, r);
		else
			printf("keyslot %d\n", r);
	} else if (!strcmp(cmd, "remove-key") && nargs == 1) {
		if (read_secret(argv[optind + 2], &k1) || !(l = load(img, true, &rc))) {
			rc = 1;
			goto out;
		}
		r = luks2_remove_key(l, k1.p, k1.len);
		if (r < 0)
			rc = fail(l, r);
		else
			printf("keyslot %d removed\n", r);
	} else if (!strcmp(cmd, "kill") && nargs == 1) {
		l = load(img, true, &rc);
		if (!l)
			goto out;
		r = luks2_kill_slot(l, atoi(argv[optind + 2]));
		if (r < 0)
			rc = fail(l, r);
	} else if (!strcmp(cmd, "backup") && nargs == 1) {
		l = load(img, false, &rc);
		if (!l)
			goto out;
		r = luks2_header_backup(l, argv[optind + 2]);
		if (r < 0)
			rc = fail(l, r);
	} else if (!strcmp(cmd, "restore") && nargs == 1) {
		l = luks2_new();
		r = l ? luks2_header_restore(l, img, argv[optind + 2], o.force) : -ENOMEM;
		if (r < 0)
			rc = fail(l, r);
	} else {
		rc = usage();
	}
out:
	secret_free(&k1);
	secret_free(&k2);
	secret_free(&vkin);
	explicit_bzero(vk, LUKS2_VK_MAX);
	munmap(vk, LUKS2_VK_MAX);
	luks2_free(l);
	return rc;
}
