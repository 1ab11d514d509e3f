// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2-unit: unit tests of the luks2 library's internals (KTAP output).
 * The interoperability tests with cryptsetup are in tests/run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "luks2_internal.h"

static int failed_here;

#define CHECK(cond) do {							\
	if (!(cond)) {								\
		printf("# %s:%d: expected: %s\n", __FILE__, __LINE__, #cond);	\
		failed_here = 1;						\
	}									\
} while (0)

static void t_base64(void)
{
	unsigned char out[16];
	char *s;

	s = l2_b64_encode("foobar", 6);
	CHECK(s && !strcmp(s, "Zm9vYmFy"));
	free(s);
	s = l2_b64_encode("fooba", 5);
	CHECK(s && !strcmp(s, "Zm9vYmE="));
	free(s);
	s = l2_b64_encode("f", 1);
	CHECK(s && !strcmp(s, "Zg=="));
	free(s);
	CHECK(l2_b64_decode("Zm9vYmE=", 8, out, sizeof(out)) == 5 && !memcmp(out, "fooba", 5));
	CHECK(l2_b64_decode("Zg==", 4, out, sizeof(out)) == 1 && out[0] == 'f');
	CHECK(l2_b64_decode("Zg=", 3, out, sizeof(out)) < 0);
	CHECK(l2_b64_decode("Z===", 4, out, sizeof(out)) < 0);
	CHECK(l2_b64_decode("Zg==Zg==", 8, out, sizeof(out)) < 0);
	CHECK(l2_b64_decode("Zm9v\n", 5, out, sizeof(out)) < 0);
	CHECK(l2_b64_decode("Zm9vYmFy", 8, out, 5) < 0);	/* too long for buffer */
}

static void t_parse_u64(void)
{
	uint64_t v;

	CHECK(l2_parse_u64("0", &v) && v == 0);
	CHECK(l2_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
	CHECK(!l2_parse_u64("18446744073709551616", &v));
	CHECK(!l2_parse_u64("-1", &v));
	CHECK(!l2_parse_u64("", &v));
	CHECK(!l2_parse_u64(" 1", &v));
	CHECK(!l2_parse_u64("1e3", &v));
	CHECK(!l2_parse_u64(NULL, &v));
}

static void t_af_roundtrip(void)
{
	static const char *const hashes[] = { "sha1", "sha256", "sha512" };
	static const size_t sizes[] = { 16, 32, 33, 64, 100 };
	unsigned char key[128], back[128], *mat = malloc(128 * L2_STRIPES);
	size_t h, s;

	CHECK(mat != NULL);
	if (!mat)
		return;
	for (h = 0; h < 3; h++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			l2_random(key, sizes[s]);
			CHECK(!l2_af_split(key, sizes[s], L2_STRIPES, hashes[h], mat));
			CHECK(!l2_af_merge(mat, sizes[s], L2_STRIPES, hashes[h], back));
			CHECK(!memcmp(key, back, sizes[s]));
			mat[17] ^= 1;	/* any flipped bit changes the key */
			CHECK(!l2_af_merge(mat, sizes[s], L2_STRIPES, hashes[h], back));
			CHECK(memcmp(key, back, sizes[s]));
		}
	}
	free(mat);
}

/* RFC 6070: PBKDF2-HMAC-SHA1("password", "salt", 2, 20). */
static void t_pbkdf2_vector(void)
{
	static const unsigned char want[20] = {
		0xea, 0x6c, 0x01, 0x4d, 0xc7, 0x2d, 0x6f, 0x8c, 0xcd, 0x1e,
		0xd9, 0x2a, 0xce, 0x1d, 0x41, 0xf0, 0xd8, 0xde, 0x89, 0x57,
	};
	struct l2_kdf k = { .type = LUKS2_KDF_PBKDF2, .hash = "sha1", .iterations = 2 };
	unsigned char out[20];

	CHECK(!l2_kdf_derive(&k, "password", 8, (const unsigned char *)"salt", 4, out, 20));
	CHECK(!memcmp(out, want, 20));
}

static void t_area_crypt(void)
{
	static const char *const specs[] = {
		"aes-xts-plain64", "aes-xts-plain", "aes-cbc-essiv:sha256", "aes-cbc-plain64",
	};
	static const size_t klen[] = { 64, 32, 32, 16 };
	unsigned char key[64], buf[2048], orig[2048];
	size_t i;

	l2_random(key, sizeof(key));
	for (i = 0; i < 4; i++) {
		l2_random(orig, sizeof(orig));
		memcpy(buf, orig, sizeof(buf));
		CHECK(!l2_area_crypt(specs[i], key, klen[i], buf, sizeof(buf), true));
		CHECK(memcmp(buf, orig, sizeof(buf)));
		/* sectors differ: the IV depends on the sector number */
		CHECK(memcmp(buf, buf + 512, 16));
		CHECK(!l2_area_crypt(specs[i], key, klen[i], buf, sizeof(buf), false));
		CHECK(!memcmp(buf, orig, sizeof(buf)));
	}
	CHECK(l2_area_crypt("cipher_null-ecb", key, 16, buf, 512, true) < 0);
	CHECK(l2_area_crypt("aes-xts-plain64", key, 48, buf, 512, true) < 0);
	CHECK(l2_area_crypt("aes-xts-plain64", key, 64, buf, 100, true) < 0);
}

/* A valid JSON area for 16 KiB metadata, with %s spliced into keyslot 0. */
static const char *const good_json =
	"{\"keyslots\":{\"0\":{\"type\":\"luks2\",\"key_size\":64,"
	"\"af\":{\"type\":\"luks1\",\"stripes\":4000,\"hash\":\"sha256\"},"
	"\"area\":{\"type\":\"raw\",\"offset\":\"32768\",\"size\":\"258048\","
	"\"encryption\":\"aes-xts-plain64\",\"key_size\":64},"
	"\"kdf\":{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":1000,"
	"\"salt\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}}},"
	"\"tokens\":{},"
	"\"segments\":{\"0\":{\"type\":\"crypt\",\"offset\":\"16777216\",\"size\":\"dynamic\","
	"\"iv_tweak\":\"0\",\"encryption\":\"aes-xts-plain64\",\"sector_size\":4096}},"
	"\"digests\":{\"0\":{\"type\":\"pbkdf2\",\"keyslots\":[\"0\"],\"segments\":[\"0\"],"
	"\"hash\":\"sha256\",\"iterations\":1000,"
	"\"salt\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
	"\"digest\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}},"
	"\"config\":{\"json_size\":\"12288\",\"keyslots_size\":\"16744448\"}}";

/* Parses GOOD_JSON with FROM replaced by TO; returns the error or "". */
static const char *parse_variant(const char *from, const char *to)
{
	static struct luks2 l;
	char area[12288];
	const char *p;
	json_object *j = NULL;

	memset(area, 0, sizeof(area));
	p = from ? strstr(good_json, from) : NULL;
	if (from && !p)
		return "(test bug: pattern not found)";
	if (p) {
		size_t pre = (size_t)(p - good_json);

		snprintf(area, sizeof(area), "%.*s%s%s", (int)pre, good_json, to,
			 p + strlen(from));
	} else {
		snprintf(area, sizeof(area), "%s", good_json);
	}
	l.err[0] = 0;
	if (!l2_json_parse(&l, area, sizeof(area), 16384, 0, &j)) {
		json_object_put(j);
		return "";
	}
	return l.err;
}

#define REFUSED(from, to, msg) do {						\
	const char *e = parse_variant(from, to);				\
	if (!strstr(e, msg)) {							\
		printf("# %s -> %s: got \"%s\", wanted \"%s\"\n", from, to, e, msg); \
		failed_here = 1;						\
	}									\
} while (0)

static void t_json_validation(void)
{
	CHECK(!strcmp(parse_variant(NULL, NULL), ""));
	REFUSED("\"offset\":\"32768\"", "\"offset\":\"16384\"", "inside the metadata");
	REFUSED("\"size\":\"258048\"", "\"size\":\"18446744073709551615\"", "overflows");
	REFUSED("\"size\":\"258048\"", "\"size\":\"18446744073709551616\"", "64-bit decimal");
	REFUSED("\"size\":\"258048\"", "\"size\":\"25804\"", "too small");
	REFUSED("\"encryption\":\"aes-xts-plain64\",\"key_size\"",
		"\"encryption\":\"cipher_null-ecb\",\"key_size\"", "null cipher");
	REFUSED("\"encryption\":\"aes-xts-plain64\",\"sector_size\"",
		"\"encryption\":\"cipher_null-ecb\",\"sector_size\"", "null cipher");
	REFUSED("\"size\":\"dynamic\"", "\"size\":\"18446744073692774400\"", "overflows");
	REFUSED("\"iv_tweak\":\"0\"", "\"iv_tweak\":\"-1\"", "iv_tweak");
	REFUSED("\"sector_size\":4096", "\"sector_size\":4095", "power of two");
	REFUSED("\"sector_size\":4096", "\"sector_size\":8192", "out of range");
	REFUSED("\"json_size\":\"12288\"", "\"json_size\":\"12289\"", "does not match");
	REFUSED("\"keyslots_size\":\"16744448\"", "\"keyslots_size\":\"16744449\"",
		"keyslots_size");
	REFUSED("\"keyslots_size\":\"16744448\"", "\"keyslots_size\":\"16777216\"",
		"data segment 0 (bytes 16777216 to the end of the device) overlaps the keyslots area");
	/* never data over the header: offset 0 (a detached header) included */
	REFUSED("\"offset\":\"16777216\"", "\"offset\":\"0\"",
		"data segment 0 (bytes 0 to the end of the device) overlaps the metadata (bytes 0-32767");
	REFUSED("\"offset\":\"16777216\",\"size\":\"dynamic\"", "\"offset\":\"36864\",\"size\":\"4096\"",
		"data segment 0 (bytes 36864-40959) overlaps keyslot 0's area (bytes 32768-290815)");
	REFUSED("\"keyslots_size\":\"16744448\"}",
		"\"keyslots_size\":\"16744448\",\"requirements\":{\"mandatory\":[\"online-reencrypt-v2\"]}}",
		"online reencryption");
	REFUSED("\"keyslots\":[\"0\"]", "\"keyslots\":[\"1\"]", "does not exist");
	REFUSED("\"tokens\":{}", "\"tokens\":{\"0\":{\"type\":\"x\",\"keyslots\":[\"7\"]}}",
		"does not exist");
	REFUSED("\"stripes\":4000", "\"stripes\":4001", "stripes");
	REFUSED("\"iterations\":1000,\"salt\"", "\"iterations\":99999999999999999999,\"salt\"",
		"iterations");
	REFUSED("\"type\":\"pbkdf2\",\"hash\"", "\"type\":\"pbkdf3\",\"hash\"", "unknown kdf");
	REFUSED("{\"keyslots\"", "[{\"keyslots\"", "malformed");
	REFUSED("\"config\":{", "\"config\":{\"x\":", "malformed");
	REFUSED("\"digests\":{\"0\"", "\"digests\":{\"00\"", "invalid digest id");
	REFUSED("\"keyslots\":{\"0\"", "\"keyslots\":{\"32\"", "invalid keyslot id");
	REFUSED("\"tokens\":{},", "", "\"tokens\"");
	REFUSED("\"size\":\"dynamic\"", "\"size\":\"0\"", "size");
	REFUSED("\"offset\":\"16777216\"", "\"offset\":\"16777217\"", "aligned");
	/* two keyslots sharing an area */
	REFUSED("}}},\"tokens\"",
		"}},\"1\":{\"type\":\"luks2\",\"key_size\":64,"
		"\"af\":{\"type\":\"luks1\",\"stripes\":4000,\"hash\":\"sha256\"},"
		"\"area\":{\"type\":\"raw\",\"offset\":\"286720\",\"size\":\"258048\","
		"\"encryption\":\"aes-xts-plain64\",\"key_size\":64},"
		"\"kdf\":{\"type\":\"pbkdf2\",\"hash\":\"sha256\",\"iterations\":1000,"
		"\"salt\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}}},\"tokens\"",
		"overlapping");
	REFUSED("\"type\":\"luks2\"", "\"type\":\"reencrypt\"", "reencryption");
	REFUSED("\"16744448\"}}", "\"16744448\"}} x", "trailing data");
}

static void t_json_unterminated(void)
{
	struct luks2 l = { .fd = -1 };
	char area[64];
	json_object *j = NULL;

	memset(area, '{', sizeof(area));
	CHECK(l2_json_parse(&l, area, sizeof(area), 16384, 0, &j) == -EINVAL);
	CHECK(strstr(l.err, "NUL-terminated") != NULL);
	/* nesting deeper than the tokener limit */
	memset(area, '[', sizeof(area) - 1);
	area[sizeof(area) - 1] = 0;
	CHECK(l2_json_parse(&l, area, sizeof(area), 16384, 0, &j) == -EINVAL);
	CHECK(j == NULL);
}

static unsigned char *read_head(const char *path, size_t len)
{
	unsigned char *b = malloc(len);
	FILE *f = fopen(path, "rb");

	if (!b || !f || fread(b, 1, len, f) != len) {
		free(b);
		b = NULL;
	}
	if (f)
		fclose(f);
	return b;
}

/* The public API end to end on a temporary image, without cryptsetup. */
static void t_api_roundtrip(void)
{
	struct luks2_format_params p = {
		.keyslot = -1, .sector_size = 512, .label = "unit",
		.pbkdf = { .type = LUKS2_KDF_PBKDF2, .iterations = 1000 },
	};
	struct luks2_pbkdf fast = { .type = LUKS2_KDF_ARGON2I, .iterations = 4,
				    .memory_kb = 32, .parallel = 1 };
	char path[] = "/tmp/luks2-unit.XXXXXX", err[256];
	unsigned char vk[64], out[LUKS2_VK_MAX], *before, *after;
	const size_t head = 1 << 20;
	struct luks2 *l;
	size_t len = 0;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(!ftruncate(fd, 17 << 20));
	close(fd);
	l2_random(vk, sizeof(vk));
	CHECK(!luks2_format(path, &p, vk, sizeof(vk), "pw", 2, NULL, err, sizeof(err)));

	/* read-only: every write is refused, nothing changes */
	before = read_head(path, head);
	l = luks2_new();
	CHECK(l && !luks2_load(l, path, 0));
	CHECK(!strcmp(luks2_label(l), "unit"));
	CHECK(luks2_unlock(l, -1, "pw", 2, out, sizeof(out), &len) == 0);
	CHECK(len == sizeof(vk) && !memcmp(out, vk, sizeof(vk)));
	CHECK(luks2_unlock(l, -1, "px", 2, out, sizeof(out), &len) == -EPERM);
	CHECK(luks2_unlock(l, 3, "pw", 2, out, sizeof(out), &len) == -ENOENT);
	CHECK(luks2_add_keyslot(l, -1, vk, sizeof(vk), "new", 3, &fast) == -EROFS);
	CHECK(luks2_kill_slot(l, 0) == -EROFS);
	CHECK(luks2_erase(l) == -EROFS);
	CHECK(luks2_repair(l) == -EROFS);
	luks2_free(l);
	after = read_head(path, head);
	CHECK(before && after && !memcmp(before, after, head));
	free(before);
	free(after);

	l = luks2_new();
	CHECK(l && !luks2_load(l, path, LUKS2_RDWR));
	CHECK(luks2_add_keyslot(l, -1, vk, sizeof(vk), "new", 3, &fast) == 1);
	out[0] ^= 1;
	CHECK(luks2_add_keyslot(l, -1, out, sizeof(vk), "x", 1, &fast) == -EPERM);
	CHECK(luks2_add_keyslot(l, 1, vk, sizeof(vk), "x", 1, &fast) == -EEXIST);
	CHECK(luks2_change_key(l, -1, "new", 3, "newer", 5, &fast) == 1);
	CHECK(luks2_unlock(l, -1, "new", 3, out, sizeof(out), &len) == -EPERM);
	CHECK(luks2_unlock(l, -1, "newer", 5, out, sizeof(out), &len) == 1);
	CHECK(!memcmp(out, vk, sizeof(vk)));
	CHECK(luks2_remove_key(l, "pw", 2) == 0);
	CHECK(luks2_keyslots_in_use(l) == 2);
	CHECK(luks2_unlock(l, -1, "newer", 5, out, 8, &len) == -ENOSPC);
	CHECK(!luks2_erase(l));
	CHECK(luks2_keyslots_in_use(l) == 0);
	CHECK(luks2_unlock(l, -1, "newer", 5, out, sizeof(out), &len) < 0);
	luks2_free(l);
	unlink(path);
}

/* The token API: ids, validation, ordering, no overwrite, kept fields. */
static void t_tokens(void)
{
	struct luks2_format_params p = {
		.keyslot = -1, .sector_size = 512,
		.pbkdf = { .type = LUKS2_KDF_PBKDF2, .iterations = 1000 },
	};
	struct luks2_pbkdf fast = { .type = LUKS2_KDF_PBKDF2, .iterations = 1000 };
	const char *odd = "{\"type\":\"x-odd\",\"keyslots\":[\"1\"],\"n\":[1,{\"a\":null}],\"s\":\"\\u00e9\"}";
	char path[] = "/tmp/luks2-unit.XXXXXX", err[256], *text;
	unsigned char vk[64];
	struct luks2 *l;
	int fd = mkstemp(path), id, seen[4], n = 0;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(!ftruncate(fd, 17 << 20));
	close(fd);
	l2_random(vk, sizeof(vk));
	CHECK(!luks2_format(path, &p, vk, sizeof(vk), "pw", 2, NULL, err, sizeof(err)));
	l = luks2_new();
	CHECK(l && !luks2_load(l, path, LUKS2_RDWR));
	CHECK(luks2_add_keyslot(l, -1, vk, sizeof(vk), "two", 3, &fast) == 1);
	CHECK(luks2_token_count(l) == 0 && luks2_token_next(l, -1) == -ENOENT);
	CHECK(luks2_token_add(l, -1, "{\"type\":\"a\",\"keyslots\":[\"0\"]}") == 0);
	CHECK(luks2_token_add(l, 5, odd) == 5);
	CHECK(luks2_token_add(l, 5, "{\"type\":\"b\",\"keyslots\":[]}") == -EEXIST);
	CHECK(luks2_token_add(l, -1, "{\"type\":\"b\",\"keyslots\":[]}") == 1);
	/* refused: no type, empty type, no keyslots, a missing keyslot, not JSON */
	CHECK(luks2_token_add(l, -1, "{\"keyslots\":[]}") == -EINVAL);
	CHECK(luks2_token_add(l, -1, "{\"type\":\"\",\"keyslots\":[]}") == -EINVAL);
	CHECK(luks2_token_add(l, -1, "{\"type\":\"c\"}") == -EINVAL);
	CHECK(luks2_token_add(l, -1, "{\"type\":\"c\",\"keyslots\":[\"7\"]}") == -EINVAL);
	CHECK(strstr(luks2_error(l), "\"7\"") != NULL);
	CHECK(luks2_token_add(l, -1, "{\"type\":\"c\",\"keyslots\":[1]}") == -EINVAL);
	CHECK(luks2_token_add(l, -1, "{\"type\":\"c\",\"keyslots\":[]} x") == -EINVAL);
	CHECK(luks2_token_add(l, 32, "{\"type\":\"c\",\"keyslots\":[]}") == -EINVAL);
	CHECK(luks2_token_count(l) == 3);
	luks2_token_foreach(l, id)
		if (n < 4)
			seen[n++] = id;
	CHECK(n == 3 && seen[0] == 0 && seen[1] == 1 && seen[2] == 5);
	CHECK(luks2_token_keyslots(l, 5) == 2 && luks2_token_keyslots(l, 0) == 1);
	CHECK(!strcmp(luks2_token_type(l, 5), "x-odd"));
	luks2_free(l);

	/* reloaded: the same tokens, unknown fields as written */
	l = luks2_new();
	CHECK(l && !luks2_load(l, path, LUKS2_RDWR));
	text = strdup(json_object_to_json_string_ext(luks2_token_get(l, 5), JSON_C_TO_STRING_PLAIN));
	/* json-c writes the escaped e-acute as UTF-8, as cryptsetup (json-c) does */
	CHECK(text && !strcmp(text, "{\"type\":\"x-odd\",\"keyslots\":[\"1\"],\"n\":[1,{\"a\":null}],\"s\":\"\xc3\xa9\"}"));
	CHECK(!luks2_token_remove(l, 1));
	CHECK(luks2_token_remove(l, 1) == -ENOENT);
	CHECK(luks2_token_next(l, 0) == 5);
	/* killing keyslot 1 drops it from token 5, which stays */
	CHECK(!luks2_kill_slot(l, 1));
	CHECK(luks2_token_get(l, 5) && luks2_token_keyslots(l, 5) == 0);
	CHECK(luks2_token_add(l, -1, "{\"type\":\"b\",\"keyslots\":[]}") == 1);
	luks2_free(l);
	free(text);
	unlink(path);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {
		{ "base64", t_base64 },
		{ "parse_u64", t_parse_u64 },
		{ "af_roundtrip", t_af_roundtrip },
		{ "pbkdf2_rfc6070", t_pbkdf2_vector },
		{ "area_crypt", t_area_crypt },
		{ "json_validation", t_json_validation },
		{ "json_unterminated", t_json_unterminated },
		{ "api_roundtrip", t_api_roundtrip },
		{ "tokens", t_tokens },
	};
	size_t i, n = sizeof(cases) / sizeof(cases[0]), fails = 0;

	printf("KTAP version 1\n1..%zu\n", n);
	for (i = 0; i < n; i++) {
		failed_here = 0;
		cases[i].fn();
		printf("%sok %zu %s\n", failed_here ? "not " : "", i + 1, cases[i].name);
		fails += (size_t)failed_here;
	}
	printf("# %zu passed, %zu failed\n", n - fails, fails);
	return fails ? 1 : 0;
}
