// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: luksDump-like text and the data segment for a dm table.
 *
 * no-i18n-file: the dump's layout is cryptsetup luksDump's (untranslated
 * there too), read by scripts and compared with cryptsetup's in the tests.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "luks2_internal.h"

static void hexdump_b64(FILE *f, const char *b64)
{
	unsigned char buf[256];
	long n = b64 ? l2_b64_decode(b64, strlen(b64), buf, sizeof(buf)) : -1;
	long i;

	if (n < 0) {
		fprintf(f, "(invalid)\n");
		return;
	}
	for (i = 0; i < n; i++) {
		if (i && !(i % 16))
			fprintf(f, "\n\t            ");
		fprintf(f, "%02x ", buf[i]);
	}
	fprintf(f, "\n");
}

/* PREFIX, then S escaped (header strings are untrusted), then a newline. */
static void put(FILE *f, const char *prefix, const char *s)
{
	fputs(prefix, f);
	luks2_fputs_escaped(f, s ? s : "(missing)");
	fputc('\n', f);
}

/* "  ID: TYPE" of a keyslot, segment, token or digest (ID is a number). */
static void put_type(FILE *f, const char *id, const char *type)
{
	fprintf(f, "  %s: ", id);
	put(f, "", type);
}

static void print_str_array(FILE *f, json_object *arr)
{
	size_t i, n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n; i++) {
		fputs(i ? " " : "", f);
		luks2_fputs_escaped(f, json_object_get_string(json_object_array_get_idx(arr, i)));
	}
}

/* cryptsetup luksDump's lines for the reencrypt keyslot (format checked). */
static void dump_reencrypt_keyslot(FILE *f, struct luks2 *l, const char *id, json_object *ks)
{
	json_object *area = l2_obj(ks, "area");
	const char *did = NULL;
	int64_t v;
	uint64_t u;

	fprintf(f, "\tKey:        8 bits\n");
	fprintf(f, "\tPriority:   ignored\n");
	put(f, "\tMode:       ", l2_str(ks, "mode"));
	put(f, "\tDirection:  ", l2_str(ks, "direction"));
	put(f, "\tResilience: ", l2_str(area, "type"));
	if (l2_str(area, "hash")) {
		put(f, "\tHash:       ", l2_str(area, "hash"));
		if (l2_int(area, "sector_size", &v))
			fprintf(f, "\tHash data:  %" PRId64 " [bytes]\n", v);
	}
	if (l2_u64(area, "shift_size", &u))
		fprintf(f, "\tShift size: %" PRIu64 " [bytes]\n", u);
	if (l2_u64(area, "offset", &u))
		fprintf(f, "\tArea offset:%" PRIu64 " [bytes]\n", u);
	if (l2_u64(area, "size", &u))
		fprintf(f, "\tArea length:%" PRIu64 " [bytes]\n", u);
	if (l2_digest_for_keyslot(l->jobj, id, &did))
		fprintf(f, "\tDigest ID:  %s\n", did);
}

/*
 * vaultctl's summary of a re-encryption in progress, after the
 * requirements (cryptsetup shows only the keyslot and the segments).
 */
static void dump_reencrypt(FILE *f, struct luks2 *l)
{
	struct luks2_reencrypt r;
	int e = luks2_reencrypt_status(l, &r);

	if (e == -ENOENT)
		return;
	if (e) {
		fprintf(f, "Reencryption:\tinconsistent metadata: ");
		put(f, "", luks2_error(l));
		return;
	}
	fprintf(f, "Reencryption:\tin progress (keyslot %d)\n", r.keyslot);
	put(f, "\tMode:       ", r.mode);
	put(f, "\tDirection:  ", r.direction);
	fprintf(f, "\tResilience: ");
	luks2_fputs_escaped(f, r.resilience);
	if (*r.hash) {
		fprintf(f, " (");
		luks2_fputs_escaped(f, r.hash);
		fprintf(f, ", %" PRIu32 "-byte blocks)", r.hash_sector_size);
	}
	if (r.shift_size)
		fprintf(f, " (shift %" PRIu64 " bytes)", r.shift_size);
	fprintf(f, "\n\tProgress:   %" PRIu64 " of %" PRIu64 " bytes (%.1f%%)%s\n", r.progress,
		r.data_size, r.data_size ? 100.0 * (double)r.progress / (double)r.data_size : 0.0,
		r.hotzone ? ", a hotzone is being moved" : "");
	if (r.version >= 2)
		fprintf(f, "\tMetadata:   version %d, protected by a volume-key digest\n", r.version);
	else
		fprintf(f, "\tMetadata:   version 1, NOT authenticated (before cryptsetup 2.4)\n");
}

static void dump_keyslot(FILE *f, struct luks2 *l, const char *id, json_object *ks)
{
	json_object *area = l2_obj(ks, "area"), *kdf = l2_obj(ks, "kdf"), *af = l2_obj(ks, "af");
	const char *type = l2_str(ks, "type"), *kt, *did = NULL;
	int64_t v, prio = 1;
	uint64_t u;

	put_type(f, id, type);
	if (!strcmp(type, "reencrypt")) {
		dump_reencrypt_keyslot(f, l, id, ks);
		return;
	}
	if (strcmp(type, "luks2")) {
		if (l2_u64(area, "offset", &u))
			fprintf(f, "\tArea offset:%" PRIu64 " [bytes]\n", u);
		if (l2_u64(area, "size", &u))
			fprintf(f, "\tArea length:%" PRIu64 " [bytes]\n", u);
		return;
	}
	l2_int(ks, "key_size", &v);
	fprintf(f, "\tKey:        %" PRId64 " bits\n", v * 8);
	l2_int(ks, "priority", &prio);
	fprintf(f, "\tPriority:   %s\n", prio == 0 ? "ignored" : prio == 2 ? "high" : "normal");
	put(f, "\tCipher:     ", l2_str(area, "encryption"));
	l2_int(area, "key_size", &v);
	fprintf(f, "\tCipher key: %" PRId64 " bits\n", v * 8);
	kt = l2_str(kdf, "type");
	put(f, "\tPBKDF:      ", kt);
	if (!strcmp(kt, "pbkdf2")) {
		put(f, "\tHash:       ", l2_str(kdf, "hash"));
		l2_int(kdf, "iterations", &v);
		fprintf(f, "\tIterations: %" PRId64 "\n", v);
	} else {
		l2_int(kdf, "time", &v);
		fprintf(f, "\tTime cost:  %" PRId64 "\n", v);
		l2_int(kdf, "memory", &v);
		fprintf(f, "\tMemory:     %" PRId64 "\n", v);
		l2_int(kdf, "cpus", &v);
		fprintf(f, "\tThreads:    %" PRId64 "\n", v);
	}
	fprintf(f, "\tSalt:       ");
	hexdump_b64(f, l2_str(kdf, "salt"));
	l2_int(af, "stripes", &v);
	fprintf(f, "\tAF stripes: %" PRId64 "\n", v);
	put(f, "\tAF hash:    ", l2_str(af, "hash"));
	l2_u64(area, "offset", &u);
	fprintf(f, "\tArea offset:%" PRIu64 " [bytes]\n", u);
	l2_u64(area, "size", &u);
	fprintf(f, "\tArea length:%" PRIu64 " [bytes]\n", u);
	if (l2_digest_for_keyslot(l->jobj, id, &did))
		fprintf(f, "\tDigest ID:  %s\n", did);
}

/* Members of SECTION in numeric order. */
#define FOR_EACH_NUMBERED(section, i, id, val)					\
	for (i = 0; i < 256; i++)						\
		if (snprintf(id, sizeof(id), "%d", i) > 0 &&			\
		    (val = l2_obj(section, id)) != NULL)

int luks2_dump(struct luks2 *l, FILE *f)
{
	return luks2_dump_ex(l, f, NULL);
}

int luks2_dump_ex(struct luks2 *l, FILE *f, void (*describe)(struct json_object *token, FILE *f))
{
	json_object *cfg, *sec, *val, *o;
	char id[12];
	uint64_t u;
	int64_t v;
	int i;

	if (!l->jobj) {
		l2_err(l, "no header loaded");
		return -EINVAL;
	}
	cfg = l2_obj(l->jobj, "config");
	fprintf(f, "LUKS header information\n");
	fprintf(f, "Version:       \t2\n");
	fprintf(f, "Epoch:         \t%" PRIu64 "\n", l->seqid);
	fprintf(f, "Metadata area: \t%" PRIu64 " [bytes]\n", l->hdr_size);
	fprintf(f, "Keyslots area: \t%" PRIu64 " [bytes]\n", l->keyslots_size);
	put(f, "UUID:          \t", l->uuid);
	put(f, "Label:         \t", *l->label ? l->label : "(no label)");
	put(f, "Subsystem:     \t", *l->subsystem ? l->subsystem : "(no subsystem)");
	fprintf(f, "Flags:       \t");
	o = l2_obj(cfg, "flags");
	if (o && json_object_array_length(o))
		print_str_array(f, o);
	else
		fprintf(f, "(no flags)");
	fprintf(f, "\n");
	o = l2_obj(l2_obj(cfg, "requirements"), "mandatory");
	if (o && json_object_array_length(o)) {
		fprintf(f, "Requirements:\t");
		print_str_array(f, o);
		fprintf(f, "\n");
	}
	dump_reencrypt(f, l);

	fprintf(f, "\nData segments:\n");
	sec = l2_obj(l->jobj, "segments");
	FOR_EACH_NUMBERED(sec, i, id, val) {
		const char *size = l2_str(val, "size");

		put_type(f, id, l2_str(val, "type"));
		l2_u64(val, "offset", &u);
		fprintf(f, "\toffset: %" PRIu64 " [bytes]\n", u);
		if (!strcmp(size, "dynamic"))
			fprintf(f, "\tlength: (whole device)\n");
		else
			fprintf(f, "\tlength: %s [bytes]\n", size);	/* digits: validated */
		if (!strcmp(l2_str(val, "type"), "crypt")) {
			put(f, "\tcipher: ", l2_str(val, "encryption"));
			l2_int(val, "sector_size", &v);
			fprintf(f, "\tsector: %" PRId64 " [bytes]\n", v);
		}
		if ((o = l2_obj(val, "flags")) && json_object_array_length(o)) {
			fprintf(f, "\tflags : ");
			print_str_array(f, o);
			fprintf(f, "\n");
		}
	}

	fprintf(f, "\nKeyslots:\n");
	sec = l2_obj(l->jobj, "keyslots");
	FOR_EACH_NUMBERED(sec, i, id, val)
		dump_keyslot(f, l, id, val);

	fprintf(f, "Tokens:\n");
	sec = l2_obj(l->jobj, "tokens");
	FOR_EACH_NUMBERED(sec, i, id, val) {
		o = l2_obj(val, "keyslots");
		put_type(f, id, l2_str(val, "type"));
		if (o && json_object_array_length(o)) {
			fprintf(f, "\tKeyslot:    ");
			print_str_array(f, o);
			fprintf(f, "\n");
		}
		if (describe)
			describe(val, f);
	}

	fprintf(f, "Digests:\n");
	sec = l2_obj(l->jobj, "digests");
	FOR_EACH_NUMBERED(sec, i, id, val) {
		put_type(f, id, l2_str(val, "type"));
		if (strcmp(l2_str(val, "type"), "pbkdf2"))
			continue;
		put(f, "\tHash:       ", l2_str(val, "hash"));
		l2_int(val, "iterations", &v);
		fprintf(f, "\tIterations: %" PRId64 "\n", v);
		fprintf(f, "\tSalt:       ");
		hexdump_b64(f, l2_str(val, "salt"));
		fprintf(f, "\tDigest:     ");
		hexdump_b64(f, l2_str(val, "digest"));
	}
	return ferror(f) ? -EIO : 0;
}

int luks2_get_segment(struct luks2 *l, struct luks2_segment *seg)
{
	json_object *segs, *s, *dig, *ks;
	const char *did, *enc;
	uint64_t off, size = 0;
	int64_t ss, ksz;
	size_t i, n;

	int r;

	memset(seg, 0, sizeof(*seg));
	r = l2_usable(l);
	if (r)
		return r;
	segs = l2_obj(l->jobj, "segments");
	if (json_object_object_length(segs) != 1 || !(s = l2_obj(segs, "0"))) {
		l2_err(l, "unsupported segment layout (exactly one segment \"0\" expected)");
		return -ENOTSUP;
	}
	if (strcmp(l2_str(s, "type"), "crypt")) {
		l2_err(l, "segment 0 has unsupported type \"%s\"", l2_str(s, "type"));
		return -ENOTSUP;
	}
	if (l2_obj(s, "flags") && json_object_array_length(l2_obj(s, "flags"))) {
		l2_err(l, "segment 0 has flags (reencryption leftovers?): refusing");
		return -ENOTSUP;
	}
	enc = l2_str(s, "encryption");
	l2_u64(s, "offset", &off);
	if (strcmp(l2_str(s, "size"), "dynamic"))
		l2_u64(s, "size", &size);
	l2_u64(s, "iv_tweak", &seg->iv_tweak);
	l2_int(s, "sector_size", &ss);
	if (l2_cipher_is_null(enc) || strlen(enc) >= sizeof(seg->cipher)) {
		l2_err(l, "segment 0: refusing cipher \"%s\"", enc);
		return -EINVAL;
	}
	snprintf(seg->cipher, sizeof(seg->cipher), "%s", enc);
	seg->offset = off / 512;
	seg->size = size / 512;
	seg->sector_size = (uint32_t)ss;
	/* the key size is the one of the keyslots bound to the segment's digest */
	dig = l2_digest_for_segment(l->jobj, "0", &did);
	n = dig ? json_object_array_length(l2_obj(dig, "keyslots")) : 0;
	for (i = 0; i < n; i++) {
		const char *kid = json_object_get_string(
			json_object_array_get_idx(l2_obj(dig, "keyslots"), i));

		ks = l2_obj(l2_obj(l->jobj, "keyslots"), kid);
		if (ks && l2_int(ks, "key_size", &ksz)) {
			seg->key_size = (uint32_t)ksz;
			break;
		}
	}
	return 0;
}
