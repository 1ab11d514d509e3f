// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: the binary header's strings (UUID, label, subsystem) and the JSON
 * metadata as text: what cryptsetup's luksUUID --uuid, config --label
 * --subsystem and luksDump --dump-json-metadata do.  The strings live in
 * both binary headers, so a change is one header write (seqid + 1, both
 * copies, under the lock): the same path as every other change.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "luks2_internal.h"

const char *luks2_subsystem(const struct luks2 *l)
{
	return l->subsystem;
}

/*
 * Writes the header with the strings in NEW (L2_UUID_LEN + labels) put in
 * place; on a failure before any copy changed, the old strings come back.
 */
struct strings {
	char uuid[L2_UUID_LEN];
	char label[L2_LABEL_LEN];
	char subsystem[L2_SUBSYSTEM_LEN];
};

static void strings_get(const struct luks2 *l, struct strings *s)
{
	memcpy(s->uuid, l->uuid, sizeof(s->uuid));
	memcpy(s->label, l->label, sizeof(s->label));
	memcpy(s->subsystem, l->subsystem, sizeof(s->subsystem));
}

static void strings_put(struct luks2 *l, const struct strings *s)
{
	memcpy(l->uuid, s->uuid, sizeof(s->uuid));
	memcpy(l->label, s->label, sizeof(s->label));
	memcpy(l->subsystem, s->subsystem, sizeof(s->subsystem));
}

static int write_strings(struct luks2 *l, const struct strings *s)
{
	struct strings old;
	int r;

	r = l2_need_rw(l);
	if (r)
		return r;
	strings_get(l, &old);
	strings_put(l, s);
	r = l2_disk_write(l);
	if (r && !l->partial_write)
		strings_put(l, &old);
	return r;
}

int luks2_set_uuid(struct luks2 *l, const char *uuid)
{
	struct strings s;
	size_t i;

	if (!uuid || !luks2_uuid_valid(uuid)) {
		l2_err(l, "invalid UUID: 36 characters, hexadecimal digits in groups 8-4-4-4-12 "
		       "joined by '-' (e.g. 12345678-9abc-def0-1234-56789abcdef0)");
		return -EINVAL;
	}
	strings_get(l, &s);
	memset(s.uuid, 0, sizeof(s.uuid));
	/* stored lower case, as libuuid's uuid_unparse() gives it to cryptsetup */
	for (i = 0; i < 36; i++)
		s.uuid[i] = (char)tolower((unsigned char)uuid[i]);
	return write_strings(l, &s);
}

int luks2_set_labels(struct luks2 *l, const char *label, const char *subsystem)
{
	struct strings s;

	if ((label && strlen(label) >= L2_LABEL_LEN) ||
	    (subsystem && strlen(subsystem) >= L2_SUBSYSTEM_LEN)) {
		l2_err(l, "a label or subsystem has at most %d bytes", L2_LABEL_LEN - 1);
		return -EINVAL;
	}
	strings_get(l, &s);
	memset(s.label, 0, sizeof(s.label));
	memset(s.subsystem, 0, sizeof(s.subsystem));
	if (label)
		memcpy(s.label, label, strlen(label));
	if (subsystem)
		memcpy(s.subsystem, subsystem, strlen(subsystem));
	return write_strings(l, &s);
}

int luks2_dump_json(struct luks2 *l, FILE *out)
{
	const char *js;

	if (!l->jobj) {
		l2_err(l, "no header loaded");
		return -EINVAL;
	}
	/* cryptsetup's LUKS2_hdr_dump_json(): json-c's pretty form, no newline */
	js = json_object_to_json_string_ext(l->jobj, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!js) {
		l2_err(l, "out of memory");
		return -ENOMEM;
	}
	if (fputs(js, out) < 0 || fflush(out)) {
		l2_err(l, "cannot write the metadata: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

int luks2_token_json(struct luks2 *l, int id, FILE *out)
{
	json_object *t = luks2_token_get(l, id);
	const char *js;

	if (!t) {
		l2_err(l, "token %d is not in use", id);
		return -ENOENT;
	}
	/* as cryptsetup's token export: the plain form, no newline */
	js = json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!js) {
		l2_err(l, "out of memory");
		return -ENOMEM;
	}
	if (fputs(js, out) < 0 || fflush(out)) {
		l2_err(l, "cannot write the token: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}
