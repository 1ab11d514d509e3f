// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A test helper around userspace/token/tpm2*.c, for tests/tpm2.sh:
 *   tpm2_tool seal DEVICE PCRS [PIN]   prints the token JSON, then on a
 *                                      second line the keyslot passphrase
 *   tpm2_tool unseal DEVICE [PIN]      reads a token JSON on stdin, prints
 *                                      the keyslot passphrase
 *   tpm2_tool extend DEVICE PCR TEXT   extends PCR with hash(TEXT)
 * Exit status: 0, or the TPM2_E_* code - 1000 + 10 (e.g. 11 = policy).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <tss2/tss2_tpm2_types.h>

#include "token/tpm2.h"
#include "util.h"

static int status(int r)
{
	if (r <= -TPM2_E_NODEV)
		return -r - TPM2_E_NODEV + 10;
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct tpm2_token t;
	struct tpm2_ctx *c = NULL;
	uint8_t secret[TPM2_SECRET_MAX];
	char pass[TPM2_SECRET_MAX * 2], buf[65536];
	size_t len = 0;
	int r;

	if (argc < 3)
		return 2;
	if (getenv("TPM2_TOOL_DEBUG"))
		log_debug_level = 1;
	r = tpm2_open(argv[2], &c);
	if (r) {
		fprintf(stderr, "%s\n", tpm2_last_error());
		return status(r);
	}
	if (!strcmp(argv[1], "seal") && argc >= 4) {
		uint32_t mask;
		uint16_t bank = 0;
		json_object *j;

		if (tpm2_parse_pcrs(argv[3], &mask, &bank))
			return 2;
		r = tpm2_seal(c, mask, bank, argc > 4 ? argv[4] : NULL, &t, secret);
		if (!r) {
			j = tpm2_token_to_json(&t, 1);
			tpm2_secret_to_passphrase(secret, TPM2_SECRET_SIZE, pass);
			printf("%s\n%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN),
			       pass);
			json_object_put(j);
		}
	} else if (!strcmp(argv[1], "unseal")) {
		const char *why = NULL;
		json_object *j;

		len = fread(buf, 1, sizeof(buf) - 1, stdin);
		buf[len] = '\0';
		j = json_tokener_parse(buf);
		if (!j) {
			fprintf(stderr, "not JSON\n");
			return 2;
		}
		r = tpm2_token_from_json(j, &t, &why);
		json_object_put(j);
		if (r) {
			fprintf(stderr, "malformed token: %s\n", why);
			tpm2_close(c);
			return status(r);
		} else {
			r = tpm2_unseal(c, &t, argc > 3 ? argv[3] : NULL, secret, &len);
			if (!r) {
				tpm2_secret_to_passphrase(secret, len, pass);
				printf("%s\n", pass);
			} else if (r == -TPM2_E_BADPIN || r == -TPM2_E_LOCKOUT) {
				struct tpm2_da da;

				tpm2_da_state(c, &da);
				tpm2_da_describe(&da, buf, sizeof(buf));
				fprintf(stderr, "wrong PIN: %s\n", buf);
			}
		}
	} else if (!strcmp(argv[1], "extend") && argc == 5) {
		r = tpm2_extend_pcr(c, (unsigned int)atoi(argv[3]), argv[4]);
	} else {
		r = -EINVAL;
	}
	if (r && r != -TPM2_E_BADPIN && r != -TPM2_E_LOCKOUT)
		fprintf(stderr, "%s\n", tpm2_last_error());
	tpm2_close(c);
	return status(r);
}
