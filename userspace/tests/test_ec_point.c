// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests: EC point compression (token/ec-point.c), for tokens whose
 * ECDH takes compressed points only.  The expected form is SEC1's
 * definition (02 for an even Y, 03 for an odd one, then X), computed here
 * from the uncompressed point itself.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ktap.h"
#include "token/ec-point.h"

/* DER OBJECT IDENTIFIER prime256v1 (a token's CKA_EC_PARAMS) */
static const uint8_t p256_params[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

/* P-256's generator G (SEC 2), uncompressed */
static const uint8_t p256_g[65] = {
	0x04,
	0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
	0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
	0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
	0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};

static void check_sec1(const uint8_t *point, size_t point_len, const uint8_t *out, size_t out_len)
{
	size_t n = (point_len - 1) / 2;

	EXPECT_INT((int)out_len, (int)(n + 1));
	EXPECT_INT(out[0], (point[point_len - 1] & 1) ? 0x03 : 0x02);
	EXPECT(!memcmp(out + 1, point + 1, n));
}

static void compresses_p256_generator(void)
{
	uint8_t out[80];
	size_t len = 0;

	EXPECT_INT(ec_point_compress(p256_params, sizeof(p256_params), p256_g, sizeof(p256_g),
				     out, sizeof(out), &len), 0);
	check_sec1(p256_g, sizeof(p256_g), out, len);
	EXPECT_INT(out[0], 0x03);	/* G's Y is odd */
}

/* fresh points on P-256, P-384 and P-521, the params as OpenSSL writes them */
static void compresses_fresh_points(void)
{
	static const char *const curves[] = { "P-256", "P-384", "P-521" };

	for (size_t c = 0; c < 3; c++) {
		for (int i = 0; i < 4; i++) {
			EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[c]);
			unsigned char *pt = NULL, *params = NULL;
			size_t pt_len = k ? EVP_PKEY_get1_encoded_public_key(k, &pt) : 0;
			int params_len = k ? i2d_KeyParams(k, &params) : 0;
			uint8_t out[80];
			size_t len = 0;

			EXPECT(pt_len > 0 && params_len > 0);
			if (pt_len > 0 && params_len > 0) {
				EXPECT_INT(ec_point_compress(params, (size_t)params_len, pt, pt_len,
							     out, sizeof(out), &len), 0);
				check_sec1(pt, pt_len, out, len);
			}
			OPENSSL_free(pt);
			OPENSSL_free(params);
			EVP_PKEY_free(k);
		}
	}
}

static void rejects_bad_input(void)
{
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	uint8_t bad[65], out[80];
	size_t len = 0;

	memcpy(bad, p256_g, sizeof(bad));
	bad[64] ^= 0x01;	/* off the curve */
	EXPECT_INT(ec_point_compress(p256_params, sizeof(p256_params), bad, sizeof(bad), out,
				     sizeof(out), &len), -EINVAL);
	/* already compressed, or truncated */
	bad[0] = 0x02;
	EXPECT_INT(ec_point_compress(p256_params, sizeof(p256_params), bad, 33, out, sizeof(out),
				     &len), -EINVAL);
	EXPECT_INT(ec_point_compress(p256_params, sizeof(p256_params), p256_g, 64, out,
				     sizeof(out), &len), -EINVAL);
	EXPECT_INT(ec_point_compress(junk, sizeof(junk), p256_g, sizeof(p256_g), out, sizeof(out),
				     &len), -EINVAL);
	EXPECT_INT(ec_point_compress(p256_params, sizeof(p256_params), p256_g, sizeof(p256_g), out,
				     32, &len), -ENOSPC);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(compresses_p256_generator),
	KTAP_CASE(compresses_fresh_points),
	KTAP_CASE(rejects_bad_input),
};

int main(void)
{
	return ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
}
