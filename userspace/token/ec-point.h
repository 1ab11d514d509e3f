/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vaultctl: EC point encodings for the systemd-pkcs11 token (token/ec-point.c).
 */
#ifndef VAULTCTL_EC_POINT_H
#define VAULTCTL_EC_POINT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The compressed SEC1 form (02/03 || X) of POINT (uncompressed, 04 || X ||
 * Y) on the curve PARAMS names (DER ECParameters, a token's CKA_EC_PARAMS)
 * into OUT (CAP bytes); *OUT_LEN bytes.  -EINVAL: unknown parameters, or a
 * point not on the curve; -ENOSPC: OUT too small.
 */
int ec_point_compress(const uint8_t *params, size_t params_len, const uint8_t *point,
		      size_t point_len, uint8_t *out, size_t cap, size_t *out_len);

#endif
