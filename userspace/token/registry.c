// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: the token methods vaultctl knows, in the order enroll runs them
 * (see token.h).  One line per method.
 */
#include <stddef.h>

#include "token.h"

const struct token_method *const token_methods[] = {
	&token_recovery,
	&token_tpm2,
	&token_clevis,
	&token_pkcs11,
	NULL
};
