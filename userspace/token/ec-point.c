// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: EC point encodings (token/ec-point.h).  systemd saves an EC
 * token's point uncompressed; a token whose ECDH takes compressed points
 * only (CKF_EC_COMPRESS without CKF_EC_UNCOMPRESS) gets it converted, as
 * systemd 255 does.  OpenSSL's EVP interface (no deprecated EC_KEY calls).
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "token/ec-point.h"

int ec_point_compress(const uint8_t *params, size_t params_len, const uint8_t *point,
		      size_t point_len, uint8_t *out, size_t cap, size_t *out_len)
{
	const unsigned char *p = params;
	EVP_PKEY *curve = d2i_KeyParams(EVP_PKEY_EC, NULL, &p, (long)params_len);
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	char group[64];
	OSSL_PARAM fields[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, point_len),
		OSSL_PARAM_END,
	};
	size_t len = 0;
	int r = -EINVAL;

	/*
	 * The curve's name from the DER parameters, then a provider key from
	 * the name and the point (EVP_PKEY_fromdata refuses a point off the
	 * curve); the "pub" parameter follows the key's point format, where
	 * EVP_PKEY_get1_encoded_public_key() is always uncompressed.
	 */
	if (curve && pc && point_len > 0 && point[0] == 0x04 &&
	    EVP_PKEY_get_group_name(curve, group, sizeof(group), NULL) == 1) {
		fields[0].data_size = strlen(group);
		if (EVP_PKEY_fromdata_init(pc) == 1 &&
		    EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, fields) == 1 &&
		    EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
						   OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_COMPRESSED) == 1 &&
		    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, NULL, 0, &len) == 1)
			r = len > cap ? -ENOSPC :
			    EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, out, cap,
							    out_len) == 1 ? 0 : -EINVAL;
	}
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(curve);
	return r;
}
