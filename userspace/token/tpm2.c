// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vaultctl: seal and unseal the TPM2 token's secret with tpm2-tss (ESYS for
 * the commands, MU for the blob, RC for messages, TCTILDR for the device).
 *
 * Compatible with systemd 252: the same primary key template (so the same
 * key is derived from the owner seed), the same sealed-object template and
 * the same policy digest, so either side unseals what the other sealed.
 * Beyond it: every session that carries the secret or the PIN-derived
 * authValue is salted with the primary key and encrypts its parameters
 * (AES-128-CFB), and PCR 15 is always in the policy with its value computed
 * as all zeros, so that extending it after unlock locks the secret away
 * until the next boot.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "secure_mem.h"
#include "token/tpm2.h"
#include "util.h"

struct tpm2_ctx {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	char device[256];
};

/* AES-128-CFB for parameter encryption, as the primary key's own symmetric. */
static const TPMT_SYM_DEF session_sym = {
	.algorithm = TPM2_ALG_AES,
	.keyBits.aes = 128,
	.mode.aes = TPM2_ALG_CFB,
};

static const TPMT_SYM_DEF_OBJECT primary_sym = {
	.algorithm = TPM2_ALG_AES,
	.keyBits.aes = 128,
	.mode.aes = TPM2_ALG_CFB,
};

/* The TPM's error code without the handle/session/parameter number. */
static TSS2_RC rc_base(TSS2_RC rc)
{
	if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER &&
	    (rc & TSS2_RC_LAYER_MASK) != TSS2_RESMGR_TPM_RC_LAYER)
		return rc;
	rc &= ~TSS2_RC_LAYER_MASK;
	if (rc & TPM2_RC_FMT1)
		return rc & (TPM2_RC_FMT1 | 0x3f);
	return rc;
}

/* Failures are recorded, not printed: the token loop reports them. */
static char last_error[512];

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), gettext(fmt), ap);
	va_end(ap);
	log_dbg("TPM2: %s", last_error);
}

const char *tpm2_last_error(void)
{
	return last_error[0] ? last_error : _("unknown TPM2 error");
}

static int tpm_fail(const char *what, TSS2_RC rc)
{
	set_error("%s failed: %s", what, Tss2_RC_Decode(rc));
	return -TPM2_E_TPM;
}

static int tcti_conf(const char *device, char *buf, size_t len)
{
	if (!device || !strcmp(device, "auto")) {
		if (!access("/dev/tpmrm0", F_OK))
			device = "/dev/tpmrm0";
		else if (!access("/dev/tpm0", F_OK))
			device = "/dev/tpm0";
		else {
			set_error("no TPM2 device found (neither /dev/tpmrm0 nor /dev/tpm0 exists)");
			return -TPM2_E_NODEV;
		}
	}
	/* A path is the kernel device; anything else is a TCTI "driver:config". */
	if ((size_t)snprintf(buf, len, "%s%s", device[0] == '/' ? "device:" : "", device) >= len) {
		set_error("TPM2 device name too long: %s", device);
		return -EINVAL;
	}
	return 0;
}

int tpm2_open(const char *device, struct tpm2_ctx **ctxp)
{
	struct tpm2_ctx *c;
	TSS2_RC rc;
	int r;

	last_error[0] = '\0';
	/*
	 * ESYS keeps copies of what it sends and computes in its own heap
	 * memory (Create's input with the secret and the PIN's hash, a
	 * session's HMAC key made of it, the decrypted Unseal response in the
	 * SYS context's buffer) and frees them unwiped, in Esys_Finalize() at
	 * the latest: vaultctl's free() wipes every block (secure_mem_heap.c).
	 */
	/* tss2 logs warnings for errors we handle and report ourselves. */
	if (!log_debug_level)
		setenv("TSS2_LOG", "all+none", 0);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	r = tcti_conf(device, c->device, sizeof(c->device));
	if (r)
		goto fail;
	rc = Tss2_TctiLdr_Initialize(c->device, &c->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		set_error("cannot open TPM2 device %s: %s", c->device, Tss2_RC_Decode(rc));
		r = -TPM2_E_NODEV;
		goto fail;
	}
	rc = Esys_Initialize(&c->esys, c->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		set_error("cannot talk to TPM2 device %s: %s", c->device, Tss2_RC_Decode(rc));
		r = -TPM2_E_NODEV;
		goto fail;
	}
	rc = Esys_Startup(c->esys, TPM2_SU_CLEAR);
	if (rc != TSS2_RC_SUCCESS && rc_base(rc) != TPM2_RC_INITIALIZE) {
		set_error("TPM2 device %s does not start: %s", c->device, Tss2_RC_Decode(rc));
		r = -TPM2_E_NODEV;
		goto fail;
	}
	log_dbg("TPM2 device %s", c->device);
	*ctxp = c;
	return 0;
fail:
	tpm2_close(c);
	return r;
}

void tpm2_close(struct tpm2_ctx *c)
{
	if (!c)
		return;
	if (c->esys)
		Esys_Finalize(&c->esys);
	if (c->tcti)
		Tss2_TctiLdr_Finalize(&c->tcti);
	free(c);
}

static void flush(struct tpm2_ctx *c, ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		Esys_FlushContext(c->esys, *h);
	*h = ESYS_TR_NONE;
}

/*
 * The storage primary key, derived again from the owner seed each time: the
 * template is systemd 252's (restricted AES-128-CFB decryption key, NIST
 * P-256 or RSA 2048), so both derive the same key.
 */
static int create_primary(struct tpm2_ctx *c, uint16_t alg, ESYS_TR *primary)
{
	TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = alg,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
				TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH,
		},
	};
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcr = { 0 };
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_CREATION_DATA *cdata = NULL;
	TPM2B_DIGEST *chash = NULL;
	TPMT_TK_CREATION *ticket = NULL;
	TSS2_RC rc;

	if (alg == TPM2_ALG_ECC) {
		tmpl.publicArea.parameters.eccDetail.symmetric = primary_sym;
		tmpl.publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		tmpl.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		tmpl.publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		tmpl.publicArea.parameters.rsaDetail.symmetric = primary_sym;
		tmpl.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		tmpl.publicArea.parameters.rsaDetail.keyBits = 2048;
	}
	rc = Esys_CreatePrimary(c->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcr, primary,
				&pub, &cdata, &chash, &ticket);
	Esys_Free(pub);
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	if (rc != TSS2_RC_SUCCESS) {
		log_dbg("TPM2: creating the %s primary key failed: %s", tpm2_alg_name(alg),
			Tss2_RC_Decode(rc));
		*primary = ESYS_TR_NONE;
		return -TPM2_E_TPM;
	}
	return 0;
}

/* A salted HMAC session (salt encrypted to PRIMARY) encrypting parameters. */
static int start_salted(struct tpm2_ctx *c, ESYS_TR primary, TPM2_SE type,
			TPMA_SESSION attrs, ESYS_TR *sess)
{
	TSS2_RC rc;

	rc = Esys_StartAuthSession(c->esys, primary, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, NULL, type, &session_sym, TPM2_ALG_SHA256, sess);
	if (rc != TSS2_RC_SUCCESS) {
		*sess = ESYS_TR_NONE;
		return tpm_fail("starting a salted session", rc);
	}
	rc = Esys_TRSess_SetAttributes(c->esys, *sess, attrs, 0xff);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("setting session attributes", rc);
	return 0;
}

static void pcr_selection(uint16_t bank, uint32_t mask, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = bank;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[0] = mask & 0xff;
	sel->pcrSelections[0].pcrSelect[1] = (mask >> 8) & 0xff;
	sel->pcrSelections[0].pcrSelect[2] = (mask >> 16) & 0xff;
}

static uint32_t selection_mask(const TPMS_PCR_SELECTION *s)
{
	uint32_t m = 0;

	for (unsigned int i = 0; i < s->sizeofSelect && i < 3; i++)
		m |= (uint32_t)s->pcrSelect[i] << (8 * i);
	return m;
}

/* Banks with all 24 PCRs allocated (a bank with fewer is useless here). */
static int allocated_banks(struct tpm2_ctx *c, TPML_PCR_SELECTION *out)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;

	rc = Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				TPM2_CAP_PCRS, 0, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("reading the PCR banks", rc);
	*out = cap->data.assignedPCR;
	Esys_Free(cap);
	return 0;
}

static bool bank_allocated(const TPML_PCR_SELECTION *banks, uint16_t bank)
{
	for (unsigned int i = 0; i < banks->count && i < TPM2_NUM_PCR_BANKS; i++)
		if (banks->pcrSelections[i].hash == bank &&
		    selection_mask(&banks->pcrSelections[i]) == 0xffffff)
			return true;
	return false;
}

static const EVP_MD *bank_md(uint16_t bank)
{
	const char *n = tpm2_bank_name(bank);

	return n ? EVP_get_digestbyname(n) : NULL;
}

/*
 * The PolicyPCR pcrDigest for MASK: the session hash (SHA-256) over the
 * PCR values in index order, read from the TPM except PCR 15, which is
 * taken as all zeros (its value before anything extended it this boot).
 */
static int expected_pcr_digest(struct tpm2_ctx *c, uint16_t bank, uint32_t mask,
			       TPM2B_DIGEST *out)
{
	TPM2B_DIGEST vals[TPM2_PCRS_MAX];
	uint32_t todo = mask & ~(1U << TPM2_PCR_CAP);
	const EVP_MD *md = bank_md(bank);
	EVP_MD_CTX *h;
	unsigned int len;
	int r = 0;

	if (!md)
		return -EINVAL;
	memset(vals, 0, sizeof(vals));
	vals[TPM2_PCR_CAP].size = (uint16_t)EVP_MD_get_size(md);
	while (todo) {
		TPML_PCR_SELECTION sel, *got_sel = NULL;
		TPML_DIGEST *got = NULL;
		UINT32 counter;
		uint32_t got_mask;
		unsigned int k = 0;
		TSS2_RC rc;

		pcr_selection(bank, todo, &sel);
		rc = Esys_PCR_Read(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
				   &counter, &got_sel, &got);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail("reading PCRs", rc);
		got_mask = got_sel->count ? selection_mask(&got_sel->pcrSelections[0]) & todo : 0;
		for (unsigned int i = 0; i < TPM2_PCRS_MAX && k < got->count; i++)
			if (got_mask & (1U << i))
				vals[i] = got->digests[k++];
		Esys_Free(got_sel);
		Esys_Free(got);
		if (!got_mask) {
			set_error("the TPM does not return PCRs of bank %s", tpm2_bank_name(bank));
			return -TPM2_E_TPM;
		}
		todo &= ~got_mask;
	}
	h = EVP_MD_CTX_new();
	if (!h || !EVP_DigestInit_ex(h, EVP_sha256(), NULL))
		r = -ENOMEM;
	for (unsigned int i = 0; !r && i < TPM2_PCRS_MAX; i++)
		if ((mask & (1U << i)) && !EVP_DigestUpdate(h, vals[i].buffer, vals[i].size))
			r = -EIO;
	if (!r && !EVP_DigestFinal_ex(h, out->buffer, &len))
		r = -EIO;
	out->size = (uint16_t)len;
	EVP_MD_CTX_free(h);
	return r;
}

/* PolicyPCR (+ PolicyAuthValue) in SESS; PCRDIGEST NULL: the current values. */
static int run_policy(struct tpm2_ctx *c, ESYS_TR sess, uint16_t bank, uint32_t mask,
		      const TPM2B_DIGEST *pcr_digest, bool pin, TPM2B_DIGEST **digest)
{
	TPM2B_DIGEST none = { 0 };
	TPML_PCR_SELECTION sel;
	TSS2_RC rc;

	pcr_selection(bank, mask, &sel);
	rc = Esys_PolicyPCR(c->esys, sess, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			    pcr_digest ? pcr_digest : &none, &sel);
	if (rc != TSS2_RC_SUCCESS)
		return rc_base(rc) == TPM2_RC_PCR_CHANGED ? -EAGAIN : tpm_fail("PolicyPCR", rc);
	if (pin) {
		rc = Esys_PolicyAuthValue(c->esys, sess, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail("PolicyAuthValue", rc);
	}
	rc = Esys_PolicyGetDigest(c->esys, sess, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				  digest);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("PolicyGetDigest", rc);
	return 0;
}

/* The PIN becomes the object's authValue as systemd 252 does: SHA-256 of it. */
static int pin_to_auth(const char *pin, TPM2B_AUTH *auth)
{
	unsigned int len = 0;

	if (!EVP_Digest(pin, strlen(pin), auth->buffer, &len, EVP_sha256(), NULL))
		return -EIO;
	auth->size = (uint16_t)len;
	return 0;
}

static int choose_bank(struct tpm2_ctx *c, uint16_t hint, uint16_t *bank)
{
	TPML_PCR_SELECTION banks;
	int r = allocated_banks(c, &banks);

	if (r)
		return r;
	if (hint) {
		if (!bank_allocated(&banks, hint)) {
			set_error("the TPM has no complete %s PCR bank", tpm2_bank_name(hint));
			return -TPM2_E_TPM;
		}
		*bank = hint;
	} else if (bank_allocated(&banks, TPM2_ALG_SHA256)) {
		*bank = TPM2_ALG_SHA256;
	} else if (bank_allocated(&banks, TPM2_ALG_SHA1)) {
		log_warn("the TPM has no SHA-256 PCR bank; sealing to the SHA-1 bank");
		*bank = TPM2_ALG_SHA1;
	} else {
		set_error("the TPM has neither a SHA-256 nor a SHA-1 PCR bank");
		return -TPM2_E_TPM;
	}
	return 0;
}

int tpm2_seal(struct tpm2_ctx *c, uint32_t pcr_mask, uint16_t bank_hint, const char *pin,
	      struct tpm2_token *t, uint8_t *secret)
{
	ESYS_TR primary = ESYS_TR_NONE, trial = ESYS_TR_NONE, enc = ESYS_TR_NONE;
	TPM2B_SENSITIVE_CREATE *sens = NULL;
	TPM2B_DIGEST pcr_digest, *policy = NULL;
	TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = TPM2_ALG_KEYEDHASH,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT,
			.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
		},
	};
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcr = { 0 };
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_CREATION_DATA *cdata = NULL;
	TPM2B_DIGEST *chash = NULL;
	TPMT_TK_CREATION *ticket = NULL;
	size_t off = 0;
	TSS2_RC rc;
	int r;

	memset(t, 0, sizeof(*t));
	pcr_mask |= 1U << TPM2_PCR_CAP;
	r = choose_bank(c, bank_hint, &t->pcr_bank);
	if (r)
		return r;
	t->primary_alg = TPM2_ALG_ECC;
	if (create_primary(c, TPM2_ALG_ECC, &primary)) {
		log_warn("the TPM does not create an ECC primary key; using RSA (slower)");
		t->primary_alg = TPM2_ALG_RSA;
		if (create_primary(c, TPM2_ALG_RSA, &primary)) {
			set_error("cannot create a primary key (neither ECC nor RSA)");
			return -TPM2_E_TPM;
		}
	}

	/* The policy digest, computed in a trial session: no PCR 15 read. */
	r = expected_pcr_digest(c, t->pcr_bank, pcr_mask, &pcr_digest);
	if (r)
		goto out;
	rc = Esys_StartAuthSession(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_TRIAL,
				   &(TPMT_SYM_DEF){ .algorithm = TPM2_ALG_NULL },
				   TPM2_ALG_SHA256, &trial);
	if (rc != TSS2_RC_SUCCESS) {
		trial = ESYS_TR_NONE;
		r = tpm_fail("starting a trial session", rc);
		goto out;
	}
	r = run_policy(c, trial, t->pcr_bank, pcr_mask, &pcr_digest, pin != NULL, &policy);
	if (r)
		goto out;
	flush(c, &trial);
	if (policy->size > sizeof(t->policy_hash)) {
		r = -TPM2_E_TPM;
		goto out;
	}
	memcpy(t->policy_hash, policy->buffer, policy->size);
	t->policy_hash_size = policy->size;
	tmpl.publicArea.authPolicy = *policy;

	/* Secret and authValue go in encrypted: a salted session with decrypt. */
	sens = secure_alloc(sizeof(*sens));
	if (!sens) {
		r = -ENOMEM;
		goto out;
	}
	sens->sensitive.data.size = TPM2_SECRET_SIZE;
	if (RAND_priv_bytes(sens->sensitive.data.buffer, TPM2_SECRET_SIZE) != 1) {
		set_error("cannot get random bytes for the TPM2 secret");
		r = -EIO;
		goto out;
	}
	if (pin && pin_to_auth(pin, &sens->sensitive.userAuth)) {
		r = -EIO;
		goto out;
	}
	r = start_salted(c, primary, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT |
			 TPMA_SESSION_CONTINUESESSION, &enc);
	if (r)
		goto out;
	rc = Esys_Create(c->esys, primary, enc, ESYS_TR_NONE, ESYS_TR_NONE, sens, &tmpl,
			 &outside, &creation_pcr, &priv, &pub, &cdata, &chash, &ticket);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_fail("sealing the secret", rc);
		goto out;
	}
	rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, t->blob, sizeof(t->blob), &off);
	if (rc == TSS2_RC_SUCCESS)
		rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, t->blob, sizeof(t->blob), &off);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_fail("marshalling the sealed object", rc);
		goto out;
	}
	t->blob_size = off;
	t->pcr_mask = pcr_mask;
	t->pin = pin != NULL;
	memcpy(secret, sens->sensitive.data.buffer, TPM2_SECRET_SIZE);
	r = 0;
out:
	secure_free(sens);
	Esys_Free(policy);
	Esys_Free(priv);
	Esys_Free(pub);
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	flush(c, &enc);
	flush(c, &trial);
	flush(c, &primary);
	/* ESYS built Create's parameters (secret, authValue) on its stack */
	secure_wipe_stack();
	return r;
}

static int unseal_once(struct tpm2_ctx *c, const struct tpm2_token *t, ESYS_TR primary,
		       ESYS_TR obj, const char *pin, uint8_t *secret, size_t *secret_len)
{
	ESYS_TR pol = ESYS_TR_NONE, enc = ESYS_TR_NONE;
	TPM2B_DIGEST *digest = NULL;
	TPM2B_SENSITIVE_DATA *out = NULL;
	TPM2B_AUTH *auth = NULL;
	TSS2_RC rc;
	int r;

	/*
	 * The policy session is salted too: with PolicyAuthValue its HMAC is
	 * keyed by the authValue, and an unsalted one would let a bus sniffer
	 * guess the PIN offline.
	 */
	r = start_salted(c, primary, TPM2_SE_POLICY, TPMA_SESSION_CONTINUESESSION, &pol);
	if (r)
		goto out;
	r = run_policy(c, pol, t->pcr_bank, t->pcr_mask, NULL, t->pin, &digest);
	if (r)
		goto out;
	if (t->policy_hash_size && (digest->size != t->policy_hash_size ||
				    memcmp(digest->buffer, t->policy_hash, digest->size))) {
		r = -TPM2_E_POLICY;
		goto out;
	}
	if (t->pin) {
		auth = secure_alloc(sizeof(*auth));
		if (!auth || pin_to_auth(pin, auth)) {
			r = -ENOMEM;
			goto out;
		}
		rc = Esys_TR_SetAuth(c->esys, obj, auth);
		if (rc != TSS2_RC_SUCCESS) {
			r = tpm_fail("setting the PIN", rc);
			goto out;
		}
	}
	/* Unseal has no command parameter: ESYS drops decrypt for it. */
	r = start_salted(c, primary, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT |
			 TPMA_SESSION_CONTINUESESSION, &enc);
	if (r)
		goto out;
	rc = Esys_Unseal(c->esys, obj, pol, enc, ESYS_TR_NONE, &out);
	if (rc != TSS2_RC_SUCCESS) {
		TSS2_RC b = rc_base(rc);

		if (b == TPM2_RC_AUTH_FAIL || b == TPM2_RC_BAD_AUTH)
			r = -TPM2_E_BADPIN;
		else if (b == TPM2_RC_LOCKOUT)
			r = -TPM2_E_LOCKOUT;
		else if (b == TPM2_RC_POLICY_FAIL)
			r = -TPM2_E_POLICY;
		else if (b == TPM2_RC_PCR_CHANGED)
			r = -EAGAIN;
		else
			r = tpm_fail("unsealing", rc);
		goto out;
	}
	if (out->size > TPM2_SECRET_MAX) {
		r = tpm_fail("unsealing (secret too large)", TSS2_RC_SUCCESS);
		goto out;
	}
	memcpy(secret, out->buffer, out->size);
	*secret_len = out->size;
	r = 0;
out:
	if (out) {
		secure_wipe(out, sizeof(*out));
		Esys_Free(out);
	}
	if (t->pin && obj != ESYS_TR_NONE) {
		TPM2B_AUTH empty = { 0 };

		Esys_TR_SetAuth(c->esys, obj, &empty);	/* ESYS keeps a copy */
	}
	secure_free(auth);
	Esys_Free(digest);
	flush(c, &enc);
	flush(c, &pol);
	return r;
}

int tpm2_unseal(struct tpm2_ctx *c, const struct tpm2_token *t, const char *pin,
		uint8_t *secret, size_t *secret_len)
{
	ESYS_TR primary = ESYS_TR_NONE, obj = ESYS_TR_NONE, enc = ESYS_TR_NONE;
	TPM2B_PRIVATE priv = { 0 };
	TPM2B_PUBLIC pub = { 0 };
	size_t off = 0;
	TSS2_RC rc;
	int r;

	if (t->pin && !pin)
		return -EINVAL;
	if (!bank_md(t->pcr_bank)) {
		set_error("TPM2 PCR bank %#x is not supported", t->pcr_bank);
		return -TPM2_E_TOKEN;
	}
	rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(t->blob, t->blob_size, &off, &priv);
	if (rc == TSS2_RC_SUCCESS)
		rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(t->blob, t->blob_size, &off, &pub);
	if (rc != TSS2_RC_SUCCESS || off != t->blob_size) {
		set_error("its tpm2-blob is not a sealed TPM2 object");
		return -TPM2_E_TOKEN;
	}
	if (create_primary(c, t->primary_alg, &primary)) {
		set_error("cannot create the %s primary key", tpm2_alg_name(t->primary_alg));
		return -TPM2_E_TPM;
	}
	r = start_salted(c, primary, TPM2_SE_HMAC, TPMA_SESSION_CONTINUESESSION, &enc);
	if (r)
		goto out;
	rc = Esys_Load(c->esys, primary, enc, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &obj);
	if (rc != TSS2_RC_SUCCESS && rc_base(rc) == TPM2_RC_LOCKOUT) {
		obj = ESYS_TR_NONE;
		r = -TPM2_E_LOCKOUT;
		goto out;
	}
	if (rc != TSS2_RC_SUCCESS) {
		obj = ESYS_TR_NONE;
		set_error("this TPM cannot load the sealed object (sealed by another TPM, or its owner seed changed): %s",
			Tss2_RC_Decode(rc));
		r = -TPM2_E_TPM;
		goto out;
	}
	flush(c, &enc);
	/* A PCR extended between PolicyPCR and Unseal: start again, as systemd. */
	for (int tries = 0; tries < 5; tries++) {
		r = unseal_once(c, t, primary, obj, pin, secret, secret_len);
		if (r != -EAGAIN)
			break;
	}
	if (r == -EAGAIN)
		r = tpm_fail("unsealing (PCRs kept changing)", TSS2_RC_SUCCESS);
out:
	secure_wipe(&priv, sizeof(priv));
	flush(c, &enc);
	flush(c, &obj);
	flush(c, &primary);
	/* ESYS decrypted the response, the secret, into a stack array */
	secure_wipe_stack();
	return r;
}

int tpm2_policy_check(struct tpm2_ctx *c, const struct tpm2_token *t)
{
	ESYS_TR trial = ESYS_TR_NONE;
	TPM2B_DIGEST *digest = NULL;
	TSS2_RC rc;
	int r;

	if (!t->policy_hash_size)
		return 0;
	if (!bank_md(t->pcr_bank))
		return -TPM2_E_TOKEN;
	rc = Esys_StartAuthSession(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_TRIAL,
				   &(TPMT_SYM_DEF){ .algorithm = TPM2_ALG_NULL },
				   TPM2_ALG_SHA256, &trial);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("starting a trial session", rc);
	r = run_policy(c, trial, t->pcr_bank, t->pcr_mask, NULL, t->pin, &digest);
	if (!r && (digest->size != t->policy_hash_size ||
		   memcmp(digest->buffer, t->policy_hash, digest->size)))
		r = -TPM2_E_POLICY;
	if (r == -EAGAIN)
		r = 0;	/* a PCR moved meanwhile: let the unseal decide */
	Esys_Free(digest);
	flush(c, &trial);
	return r;
}

int tpm2_da_state(struct tpm2_ctx *c, struct tpm2_da *da)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	TSS2_RC rc;

	da->failed = da->max_tries = da->recovery_s = -1;
	da->in_lockout = false;
	rc = Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				TPM2_CAP_TPM_PROPERTIES, TPM2_PT_PERMANENT, 1, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return -TPM2_E_TPM;
	if (cap->data.tpmProperties.count &&
	    cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_PERMANENT)
		da->in_lockout = cap->data.tpmProperties.tpmProperty[0].value &
				 TPMA_PERMANENT_INLOCKOUT;
	Esys_Free(cap);
	cap = NULL;
	rc = Esys_GetCapability(c->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				TPM2_CAP_TPM_PROPERTIES, TPM2_PT_LOCKOUT_COUNTER, 4, &more, &cap);
	if (rc != TSS2_RC_SUCCESS)
		return -TPM2_E_TPM;
	for (UINT32 i = 0; i < cap->data.tpmProperties.count; i++) {
		const TPMS_TAGGED_PROPERTY *p = &cap->data.tpmProperties.tpmProperty[i];

		if (p->property == TPM2_PT_LOCKOUT_COUNTER)
			da->failed = p->value;
		else if (p->property == TPM2_PT_MAX_AUTH_FAIL)
			da->max_tries = p->value;
		else if (p->property == TPM2_PT_LOCKOUT_RECOVERY)
			da->recovery_s = p->value;
	}
	Esys_Free(cap);
	return 0;
}

void tpm2_da_describe(const struct tpm2_da *da, char *buf, size_t len)
{
	if (da->in_lockout && da->recovery_s > 0)
		snprintf(buf, len, "%s",
			 _("the TPM is in dictionary-attack lockout; it forgives one failure per recovery interval"));
	else if (da->in_lockout)
		snprintf(buf, len, "%s", _("the TPM is in dictionary-attack lockout"));
	else if (da->failed >= 0 && da->max_tries > 0)
		snprintf(buf, len, _("%ld of %ld tries left before the TPM locks out"),
			 da->max_tries > da->failed ? da->max_tries - da->failed : 0, da->max_tries);
	else
		snprintf(buf, len, _("the TPM does not say how many tries are left"));
}

int tpm2_extend_pcr(struct tpm2_ctx *c, unsigned int pcr, const char *what)
{
	TPML_PCR_SELECTION banks;
	TPML_DIGEST_VALUES d = { 0 };
	TSS2_RC rc;
	int r;

	if (pcr >= TPM2_PCRS_MAX)
		return -EINVAL;
	r = allocated_banks(c, &banks);
	if (r)
		return r;
	for (unsigned int i = 0; i < banks.count && i < TPM2_NUM_PCR_BANKS; i++) {
		const EVP_MD *md = bank_md(banks.pcrSelections[i].hash);
		TPMT_HA *ha = &d.digests[d.count];

		if (!md || !(selection_mask(&banks.pcrSelections[i]) & (1U << pcr)))
			continue;
		ha->hashAlg = banks.pcrSelections[i].hash;
		if (!EVP_Digest(what, strlen(what), (unsigned char *)&ha->digest, NULL, md, NULL))
			return -EIO;
		d.count++;
	}
	if (!d.count) {
		set_error("no PCR bank to extend PCR %u in", pcr);
		return -TPM2_E_TPM;
	}
	rc = Esys_PCR_Extend(c->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			     ESYS_TR_NONE, &d);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("extending a PCR", rc);
	return 0;
}

size_t tpm2_secret_to_passphrase(const uint8_t *secret, size_t len, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, secret, (int)len);
}
