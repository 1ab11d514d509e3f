// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: the binary headers, their checksums, choosing a copy, writing both.
 *
 * Layout of one 4096-byte binary header (integers big-endian):
 *   0 magic[6]  6 version u16  8 hdr_size u64  16 seqid u64  24 label[48]
 *   72 csum_alg[32]  104 salt[64]  168 uuid[40]  208 subsystem[48]
 *   256 hdr_offset u64  448 csum[64]; the JSON area follows, hdr_size - 4096
 *   bytes.  The secondary copy starts at hdr_size.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "luks2_internal.h"

#define OFF_MAGIC	0
#define OFF_VERSION	6
#define OFF_HDR_SIZE	8
#define OFF_SEQID	16
#define OFF_LABEL	24
#define OFF_CSUM_ALG	72
#define OFF_SALT	104
#define OFF_UUID	168
#define OFF_SUBSYSTEM	208
#define OFF_HDR_OFFSET	256
#define OFF_CSUM	448

static const unsigned char magic1[L2_MAGIC_LEN] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };
static const unsigned char magic2[L2_MAGIC_LEN] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };

static bool hdr_size_ok(uint64_t s)
{
	return s >= L2_MIN_HDR_SIZE && s <= L2_MAX_HDR_SIZE && !(s & (s - 1));
}

int l2_checksum(const char *alg, const unsigned char *bin, const unsigned char *json,
		size_t json_len, unsigned char *out, unsigned int *out_len)
{
	const EVP_MD *md = (const EVP_MD *)l2_hash(alg);
	unsigned char tmp[L2_BIN_HDR_SIZE];
	EVP_MD_CTX *ctx;
	int ok;

	if (!md || EVP_MD_get_size(md) > L2_CSUM_LEN)
		return -EINVAL;
	memcpy(tmp, bin, sizeof(tmp));
	memset(tmp + OFF_CSUM, 0, L2_CSUM_LEN);
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, tmp, sizeof(tmp)) == 1 &&
	     EVP_DigestUpdate(ctx, json, json_len) == 1 &&
	     EVP_DigestFinal_ex(ctx, out, out_len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

/* A fixed-size text field must hold a NUL. */
static bool field_ok(const unsigned char *p, size_t len)
{
	return memchr(p, 0, len) != NULL;
}

struct copy {
	unsigned char bin[L2_BIN_HDR_SIZE];
	unsigned char *json;		/* JSON area */
	json_object *jobj;
	uint64_t hdr_size, seqid;
};

static void copy_release(struct copy *c)
{
	free(c->json);
	c->json = NULL;
	json_object_put(c->jobj);
	c->jobj = NULL;
}

/* FMT is a literal (an xgettext keyword, userspace/Makefile): translated here */
#define BAD(fmt, ...) do { snprintf(st->why, sizeof(st->why), _(fmt), ##__VA_ARGS__); goto bad; } while (0)

/* Reads and checks the copy at OFF (0 or a secondary offset). */
static int read_copy(struct luks2 *l, uint64_t off, int idx, unsigned int flags, struct copy *c,
		     struct l2_copy_state *st)
{
	unsigned char csum[EVP_MAX_MD_SIZE];
	unsigned int clen;
	uint64_t hdr_offset;
	int r;

	memset(c, 0, sizeof(*c));
	st->ok = false;
	st->why[0] = 0;
	if (off + L2_BIN_HDR_SIZE > l->dev_size)
		BAD("device too small to hold it (truncated?)");
	r = l2_pread_all(l->fd, c->bin, sizeof(c->bin), off);
	if (r)
		BAD("read error: %s", strerror(-r));
	if (memcmp(c->bin + OFF_MAGIC, idx ? magic2 : magic1, L2_MAGIC_LEN))
		BAD("bad magic");
	if (c->bin[OFF_VERSION] != 0 || c->bin[OFF_VERSION + 1] != 2)
		BAD("unsupported version %u", c->bin[OFF_VERSION] << 8 | c->bin[OFF_VERSION + 1]);
	c->hdr_size = l2_be64(c->bin + OFF_HDR_SIZE);
	if (!hdr_size_ok(c->hdr_size))
		BAD("invalid header size %" PRIu64, c->hdr_size);
	hdr_offset = l2_be64(c->bin + OFF_HDR_OFFSET);
	if (hdr_offset != off)
		BAD("hdr_offset %" PRIu64 " does not match its position %" PRIu64, hdr_offset, off);
	if (idx && off != c->hdr_size)
		BAD("secondary at %" PRIu64 " but header size %" PRIu64, off, c->hdr_size);
	if (!field_ok(c->bin + OFF_CSUM_ALG, L2_CSUM_ALG_LEN) ||
	    !field_ok(c->bin + OFF_LABEL, L2_LABEL_LEN) ||
	    !field_ok(c->bin + OFF_UUID, L2_UUID_LEN) ||
	    !field_ok(c->bin + OFF_SUBSYSTEM, L2_SUBSYSTEM_LEN))
		BAD("unterminated text field");
	if (!l2_hash((const char *)c->bin + OFF_CSUM_ALG))
		BAD("unsupported checksum algorithm \"%s\"", (const char *)c->bin + OFF_CSUM_ALG);
	if (off + c->hdr_size > l->dev_size)
		BAD("JSON area beyond the end of the device (truncated?)");
	c->json = malloc(c->hdr_size - L2_BIN_HDR_SIZE);
	if (!c->json)
		BAD("out of memory");
	r = l2_pread_all(l->fd, c->json, c->hdr_size - L2_BIN_HDR_SIZE, off + L2_BIN_HDR_SIZE);
	if (r)
		BAD("read error: %s", strerror(-r));
	if (l2_checksum((const char *)c->bin + OFF_CSUM_ALG, c->bin, c->json,
			c->hdr_size - L2_BIN_HDR_SIZE, csum, &clen))
		BAD("checksum computation failed");
	if (CRYPTO_memcmp(csum, c->bin + OFF_CSUM, clen))
		BAD("checksum mismatch");
	c->seqid = l2_be64(c->bin + OFF_SEQID);
	if (l2_json_parse(l, (const char *)c->json, c->hdr_size - L2_BIN_HDR_SIZE, c->hdr_size,
			  flags, &c->jobj)) {
		snprintf(st->why, sizeof(st->why), "%.250s", l->err);
		goto bad;
	}
	st->ok = true;
	st->seqid = c->seqid;
	return 0;
bad:
	copy_release(c);
	return -EINVAL;
}

/* Same metadata apart from magic, hdr_offset, salt and checksum. */
static bool copies_equal(const struct copy *a, const struct copy *b)
{
	return a->hdr_size == b->hdr_size && a->seqid == b->seqid &&
	       !memcmp(a->bin + OFF_LABEL, b->bin + OFF_LABEL, L2_LABEL_LEN + L2_CSUM_ALG_LEN) &&
	       !memcmp(a->bin + OFF_UUID, b->bin + OFF_UUID, L2_UUID_LEN + L2_SUBSYSTEM_LEN) &&
	       !memcmp(a->json, b->json, a->hdr_size - L2_BIN_HDR_SIZE);
}

static void take_copy(struct luks2 *l, struct copy *c)
{
	json_object_put(l->jobj);
	free(l->json_area);
	l->jobj = c->jobj;
	l->json_area = c->json;
	c->jobj = NULL;
	c->json = NULL;
	l->hdr_size = c->hdr_size;
	l->seqid = c->seqid;
	memcpy(l->label, c->bin + OFF_LABEL, L2_LABEL_LEN);
	memcpy(l->subsystem, c->bin + OFF_SUBSYSTEM, L2_SUBSYSTEM_LEN);
	memcpy(l->uuid, c->bin + OFF_UUID, L2_UUID_LEN);
	memcpy(l->csum_alg, c->bin + OFF_CSUM_ALG, L2_CSUM_ALG_LEN);
	l2_u64(l2_obj(l->jobj, "config"), "keyslots_size", &l->keyslots_size);
	/* with LUKS2_IGNORE_REQUIREMENTS, a strict check tells what was ignored */
	l->inspect_only = l2_json_validate(l, l->jobj, l->hdr_size, 0) != 0;
}

int l2_usable(struct luks2 *l)
{
	if (!l->jobj) {
		l2_err(l, "no header loaded");
		return -EINVAL;
	}
	if (l->inspect_only) {
		l2_err(l, "%s has unmet requirements or reencryption metadata; "
		       "it was loaded for inspection only", l->path);
		return -EINVAL;
	}
	return 0;
}

int l2_disk_load(struct luks2 *l, unsigned int flags)
{
	struct copy c[2];
	uint64_t off;
	int r;

	r = l2_device_size(l->fd, &l->dev_size);
	if (r) {
		l2_err(l, "%s: cannot get the size: %s", l->path, strerror(-r));
		return r;
	}
	read_copy(l, 0, 0, flags, &c[0], &l->copy[0]);
	if (l->copy[0].ok) {
		read_copy(l, c[0].hdr_size, 1, flags, &c[1], &l->copy[1]);
	} else {
		/* primary unusable: look for a secondary at every legal offset */
		struct l2_copy_state st = { .ok = false };

		snprintf(st.why, sizeof(st.why), _("not found at any offset"));
		memset(&c[1], 0, sizeof(c[1]));
		for (off = L2_MIN_HDR_SIZE; off <= L2_MAX_HDR_SIZE; off <<= 1) {
			unsigned char m[L2_MAGIC_LEN];

			if (off + L2_BIN_HDR_SIZE > l->dev_size ||
			    l2_pread_all(l->fd, m, sizeof(m), off) || memcmp(m, magic2, sizeof(m)))
				continue;
			read_copy(l, off, 1, flags, &c[1], &st);
			if (st.ok)
				break;
		}
		l->copy[1] = st;
	}

	l->health = 0;
	if (!l->copy[0].ok && !l->copy[1].ok) {
		if (!strcmp(l->copy[0].why, "bad magic") &&
		    !strcmp(l->copy[1].why, "not found at any offset"))
			l2_err(l, "%s: not a LUKS2 device (no header found)", l->path);
		else if (!strcmp(l->copy[0].why, l->copy[1].why) &&
			 strstr(l->copy[0].why, "reencryption"))
			/* two valid copies refused for a re-encryption: say it once */
			l2_err(l, "%s", l->copy[0].why);
		else
			l2_err(l, "%s: no valid LUKS2 header: primary: %s; secondary: %s",
			       l->path, l->copy[0].why, l->copy[1].why);
		return -EINVAL;
	}
	if (l->copy[0].ok && l->copy[1].ok) {
		if (c[1].seqid > c[0].seqid) {
			l->health |= LUKS2_PRIMARY_STALE;
			take_copy(l, &c[1]);
		} else {
			if (!copies_equal(&c[0], &c[1]))
				l->health |= LUKS2_SECONDARY_STALE;
			take_copy(l, &c[0]);
		}
	} else if (l->copy[0].ok) {
		l->health |= LUKS2_SECONDARY_BAD;
		take_copy(l, &c[0]);
	} else {
		l->health |= LUKS2_PRIMARY_BAD;
		take_copy(l, &c[1]);
	}
	copy_release(&c[0]);
	copy_release(&c[1]);
	/* the salts are per copy; a rewritten copy gets a new one */
	l->health_text[0] = 0;
	if (l->health & LUKS2_PRIMARY_BAD)
		snprintf(l->health_text, sizeof(l->health_text),
			 _("primary header is damaged (%s); using the secondary copy"), l->copy[0].why);
	else if (l->health & LUKS2_SECONDARY_BAD)
		snprintf(l->health_text, sizeof(l->health_text),
			 _("secondary header is damaged (%s); using the primary copy"), l->copy[1].why);
	else if (l->health & LUKS2_PRIMARY_STALE)
		snprintf(l->health_text, sizeof(l->health_text),
			 _("primary header is older (seqid %" PRIu64 ") than the secondary (seqid %" PRIu64
			 "); using the secondary copy"), l->copy[0].seqid, l->copy[1].seqid);
	else if (l->health & LUKS2_SECONDARY_STALE)
		snprintf(l->health_text, sizeof(l->health_text),
			 _("secondary header differs from the primary (seqid %" PRIu64 " vs %" PRIu64
			 "); using the primary copy"), l->copy[1].seqid, l->copy[0].seqid);
	l->err[0] = 0;
	return 0;
}

/* Writes copy IDX (0 primary, 1 secondary) with SEQID and JSON area AREA. */
static int write_copy(struct luks2 *l, int idx, uint64_t seqid, const unsigned char *area)
{
	unsigned char bin[L2_BIN_HDR_SIZE];
	unsigned char csum[EVP_MAX_MD_SIZE];
	uint64_t off = idx ? l->hdr_size : 0;
	unsigned int clen;
	int r;

	memset(bin, 0, sizeof(bin));
	memcpy(bin + OFF_MAGIC, idx ? magic2 : magic1, L2_MAGIC_LEN);
	bin[OFF_VERSION + 1] = 2;
	l2_put_be64(bin + OFF_HDR_SIZE, l->hdr_size);
	l2_put_be64(bin + OFF_SEQID, seqid);
	memcpy(bin + OFF_LABEL, l->label, L2_LABEL_LEN - 1);
	memcpy(bin + OFF_CSUM_ALG, l->csum_alg, L2_CSUM_ALG_LEN - 1);
	memcpy(bin + OFF_SALT, l->salt[idx], L2_SALT_LEN);
	memcpy(bin + OFF_UUID, l->uuid, L2_UUID_LEN - 1);
	memcpy(bin + OFF_SUBSYSTEM, l->subsystem, L2_SUBSYSTEM_LEN - 1);
	l2_put_be64(bin + OFF_HDR_OFFSET, off);
	r = l2_checksum(l->csum_alg, bin, area, l->hdr_size - L2_BIN_HDR_SIZE, csum, &clen);
	if (r) {
		l2_err(l, "cannot compute the header checksum (%s)", l->csum_alg);
		return r;
	}
	memcpy(bin + OFF_CSUM, csum, clen);
	r = l2_pwrite_all(l->fd, area, l->hdr_size - L2_BIN_HDR_SIZE, off + L2_BIN_HDR_SIZE);
	if (!r)
		r = l2_pwrite_all(l->fd, bin, sizeof(bin), off);
	if (!r && fdatasync(l->fd))
		r = -errno;
	if (r && idx)
		l2_err(l, "%s: writing the secondary header failed: %s", l->path, strerror(-r));
	else if (r)
		l2_err(l, "%s: writing the primary header failed: %s", l->path, strerror(-r));
	return r;
}

static int need_rw(struct luks2 *l)
{
	int r = l2_usable(l);

	if (r)
		return r;
	if (l->fd < 0) {
		l2_err(l, "no header loaded");
		return -EINVAL;
	}
	if (!l->rw) {
		l2_err(l, "%s: opened read-only", l->path);
		return -EROFS;
	}
	return 0;
}

int l2_disk_write(struct luks2 *l)
{
	size_t area_len, len;
	unsigned char *area;
	const char *js;
	int first, r;

	r = need_rw(l);
	if (r)
		return r;
	/* never put metadata on disk that we would refuse to read (except the
	 * re-encryption requirement luks2_reencrypt_init() itself sets) */
	r = l2_json_validate(l, l->jobj, l->hdr_size,
			     l->reencrypt_write ? LUKS2_IGNORE_REQUIREMENTS : 0);
	if (r) {
		char tmp[sizeof(l->err)];

		snprintf(tmp, sizeof(tmp), "%s", l->err);
		l2_err(l, "internal error, refusing to write invalid metadata: %s", tmp);
		return r;
	}
	area_len = l->hdr_size - L2_BIN_HDR_SIZE;
	js = json_object_to_json_string_ext(l->jobj, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = js ? strlen(js) : 0;
	if (!js || len >= area_len) {
		l2_err(l, "metadata (%zu bytes) does not fit the %zu-byte JSON area", len, area_len);
		return -ENOSPC;
	}
	area = calloc(1, area_len);
	if (!area) {
		l2_err(l, "out of memory");
		return -ENOMEM;
	}
	memcpy(area, js, len);
	r = l2_write_begin(l);
	if (r) {
		free(area);
		return r;
	}
	/*
	 * Crash safety: the new seqid makes a completely written copy win.
	 * Write the damaged copy first when the other is the only good one.
	 */
	first = (l->health & (LUKS2_SECONDARY_BAD | LUKS2_SECONDARY_STALE)) ? 1 : 0;
	l->partial_write = false;
	r = write_copy(l, first, l->seqid + 1, area);
	if (r) {
		if (first)
			l2_err(l, "%s: writing the secondary header copy failed: %s; the change was not made, the "
			       "primary copy still holds the header (seqid %" PRIu64 ")", l->path,
			       strerror(-r), l->seqid);
		else
			l2_err(l, "%s: writing the primary header copy failed: %s; the change was not made, the "
			       "secondary copy still holds the header (seqid %" PRIu64 ")", l->path,
			       strerror(-r), l->seqid);
		free(area);
		l2_write_end(l);
		return r;
	}
	r = write_copy(l, !first, l->seqid + 1, area);
	if (r) {
		/* the change is on disk, in one copy: say so, keep it in memory */
		l->partial_write = true;
		if (first)
			l2_err(l, "%s: the new header (seqid %" PRIu64 ") is in the secondary copy only: writing "
			       "the primary copy failed: %s; the change is in effect, run 'vaultctl repair %s' "
			       "once the device writes again", l->path, l->seqid + 1, strerror(-r), l->path);
		else
			l2_err(l, "%s: the new header (seqid %" PRIu64 ") is in the primary copy only: writing "
			       "the secondary copy failed: %s; the change is in effect, run 'vaultctl repair %s' "
			       "once the device writes again", l->path, l->seqid + 1, strerror(-r), l->path);
	}
	l->seqid++;
	free(l->json_area);
	l->json_area = area;
	l->health = 0;
	l->health_text[0] = 0;
	l->copy[0].ok = l->copy[1].ok = true;
	l->copy[0].seqid = l->copy[1].seqid = l->seqid;
	if (r) {
		l->health = first ? LUKS2_PRIMARY_BAD : LUKS2_SECONDARY_BAD;
		l->copy[!first].ok = false;
		snprintf(l->health_text, sizeof(l->health_text), "%s",
			 first ? _("the primary header copy could not be written") :
			 _("the secondary header copy could not be written"));
	}
	l2_write_end(l);
	return r;
}

int luks2_repair(struct luks2 *l)
{
	int idx, r;

	r = need_rw(l);
	if (r)
		return r;
	if (!l->health)
		return 0;
	idx = (l->health & (LUKS2_PRIMARY_BAD | LUKS2_PRIMARY_STALE)) ? 0 : 1;
	r = l2_write_begin(l);
	if (r)
		return r;
	/* the copy being rewritten gets a fresh salt if it had none readable */
	r = write_copy(l, idx, l->seqid, l->json_area);
	l2_write_end(l);
	if (r) {
		if (idx)
			l2_err(l, "%s: rewriting the secondary header copy failed: %s; the primary copy is unchanged "
			       "and still in use", l->path, strerror(-r));
		else
			l2_err(l, "%s: rewriting the primary header copy failed: %s; the secondary copy is unchanged "
			       "and still in use", l->path, strerror(-r));
		return r;
	}
	l->health = 0;
	l->copy[idx].ok = true;
	l->copy[idx].seqid = l->seqid;
	snprintf(l->health_text, sizeof(l->health_text), "%s",
		 idx ? _("secondary header repaired from the primary copy") :
		 _("primary header repaired from the secondary copy"));
	return 1;
}

struct luks2 *luks2_new(void)
{
	struct luks2 *l = calloc(1, sizeof(*l));

	if (l) {
		l->fd = -1;
		l->lock_fd = -1;
	}
	return l;
}

void luks2_free(struct luks2 *l)
{
	if (!l)
		return;
	l2_unlock(l);
	if (l->fd >= 0)
		close(l->fd);
	json_object_put(l->jobj);
	free(l->json_area);
	free(l->path);
	free(l);
}

const char *luks2_error(const struct luks2 *l)
{
	return l ? l->err : "out of memory";
}

const char *luks2_health_text(const struct luks2 *l)
{
	return l->health_text;
}

unsigned int luks2_health(const struct luks2 *l)
{
	return l->health;
}

int luks2_load(struct luks2 *l, const char *path, unsigned int flags)
{
	int fd, r;

	if (l->fd >= 0) {
		l2_err(l, "context already in use");
		return -EBUSY;
	}
	l->detached = flags & LUKS2_DETACHED;
	fd = open(path, ((flags & LUKS2_RDWR) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		l2_err(l, "%s: cannot open: %s", path, strerror(errno));
		return r;
	}
	r = l2_load_fd(l, fd, path, flags);
	close(fd);
	return r;
}

int l2_load_fd(struct luks2 *l, int fd, const char *path, unsigned int flags)
{
	int r;

	if (l->fd >= 0) {
		l2_err(l, "context already in use");
		return -EBUSY;
	}
	l->err[0] = 0;
	free(l->path);
	l->path = strdup(path);
	if (!l->path) {
		l2_err(l, "out of memory");
		return -ENOMEM;
	}
	l->rw = flags & LUKS2_RDWR;
	l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (l->fd < 0) {
		r = -errno;
		l2_err(l, "%s: %s", path, strerror(errno));
		return r;
	}
	/*
	 * A consistent read under cryptsetup's shared lock; the lock is not
	 * kept (prompts come next): a writer compares meta_digest later.
	 */
	r = l2_lock(l, false);
	if (r)
		goto fail;
	r = l2_disk_load(l, flags);
	if (!r)
		r = l2_meta_digest(l, l->meta_digest);
	l2_unlock(l);
	if (r)
		goto fail;
	/* salts of the copies we write: keep fresh random ones per write */
	if (l2_random(l->salt, sizeof(l->salt))) {
		l2_err(l, "random number generator failed");
		r = -EIO;
		goto fail;
	}
	return 0;
fail:
	close(l->fd);
	l->fd = -1;
	return r;
}

bool luks2_probe(const char *path)
{
	unsigned char b[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = !l2_pread_all(fd, b, sizeof(b), 0) && !memcmp(b, magic1, L2_MAGIC_LEN) &&
	     b[6] == 0 && b[7] == 2;
	close(fd);
	return ok;
}

const char *luks2_uuid(const struct luks2 *l)
{
	return l->uuid;
}

const char *luks2_label(const struct luks2 *l)
{
	return l->label;
}

uint64_t luks2_seqid(const struct luks2 *l)
{
	return l->seqid;
}

uint64_t luks2_header_area_size(const struct luks2 *l)
{
	return 2 * l->hdr_size + l->keyslots_size;
}

uint32_t luks2_keyslots_in_use(const struct luks2 *l)
{
	json_object *ks = l2_obj(l->jobj, "keyslots");
	uint32_t m = 0;
	uint64_t v;

	if (!ks)
		return 0;
	json_object_object_foreach(ks, key, val) {
		(void)val;
		if (l2_parse_u64(key, &v) && v < LUKS2_KEYSLOTS_MAX)
			m |= 1U << v;
	}
	return m;
}
