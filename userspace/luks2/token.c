// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * luks2: the "tokens" object: list, read, add and remove tokens.
 *
 * A token is a JSON object with a string "type" and a "keyslots" array of
 * keyslot ids (strings); everything else belongs to whoever wrote it
 * (systemd, clevis, ...) and is kept as parsed.  Writes go through the
 * locked write path (l2_write_begin: the header on disk must still be the
 * one read), and an id in use is never overwritten.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luks2_internal.h"

static json_object *tokens(const struct luks2 *l)
{
	return l2_obj(l->jobj, "tokens");
}

static bool token_id(const char *key, uint64_t *v)
{
	/* validated ids are canonical decimal numbers */
	return l2_parse_u64(key, v) && (key[0] != '0' || !key[1]);
}

unsigned int luks2_token_count(const struct luks2 *l)
{
	json_object *t = tokens(l);

	return t ? (unsigned int)json_object_object_length(t) : 0;
}

int luks2_token_next(const struct luks2 *l, int after)
{
	uint64_t best = UINT64_MAX, v;
	json_object *t = tokens(l);

	json_object_object_foreach(t, key, val) {
		(void)val;
		if (token_id(key, &v) && (int64_t)v > after && v < best)
			best = v;
	}
	return best > INT32_MAX ? -ENOENT : (int)best;
}

struct json_object *luks2_token_get(const struct luks2 *l, int id)
{
	char key[16];

	if (id < 0)
		return NULL;
	snprintf(key, sizeof(key), "%d", id);
	return l2_obj(tokens(l), key);
}

const char *luks2_token_type(const struct luks2 *l, int id)
{
	return l2_str(luks2_token_get(l, id), "type");
}

uint32_t luks2_token_keyslots(const struct luks2 *l, int id)
{
	json_object *arr = l2_obj(luks2_token_get(l, id), "keyslots");
	uint32_t mask = 0;
	uint64_t v;
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		if (token_id(s, &v) && v < LUKS2_KEYSLOTS_MAX)
			mask |= 1U << v;
	}
	return mask;
}

/* Parses JSON (one object, nothing after it) with the header's depth limit. */
static json_object *parse_token(struct luks2 *l, const char *json)
{
	struct json_tokener *tok = json_tokener_new_ex(L2_JSON_DEPTH);
	json_object *o;
	size_t used, len = strlen(json);

	if (!tok) {
		l2_err(l, "out of memory");
		return NULL;
	}
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		l2_err(l, "the token is not valid JSON: %s",
		       json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		json_tokener_free(tok);
		return NULL;
	}
	used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	for (; used < len; used++)
		if (!strchr(" \t\r\n", json[used])) {
			l2_err(l, "the token has trailing data after its JSON object");
			json_object_put(o);
			return NULL;
		}
	return o;
}

/* The token fields LUKS2 defines: "type" a string, "keyslots" existing keyslots. */
static int check_token(struct luks2 *l, json_object *o)
{
	json_object *arr = l2_obj(o, "keyslots"), *ks = l2_obj(l->jobj, "keyslots");
	size_t i;
	uint64_t v;

	if (!json_object_is_type(o, json_type_object)) {
		l2_err(l, "a token must be a JSON object");
		return -EINVAL;
	}
	if (!l2_str(o, "type") || !*l2_str(o, "type")) {
		l2_err(l, "a token needs a \"type\" string");
		return -EINVAL;
	}
	if (!arr || !json_object_is_type(arr, json_type_array)) {
		l2_err(l, "a token needs a \"keyslots\" array");
		return -EINVAL;
	}
	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *s = json_object_get_string(e);

		if (!json_object_is_type(e, json_type_string) || !token_id(s, &v) ||
		    v >= LUKS2_KEYSLOTS_MAX || !l2_obj(ks, s)) {
			l2_err(l, "the token's \"keyslots\" names \"%s\", which is not a keyslot of %s",
			       json_object_is_type(e, json_type_string) ? s : _("(not a string)"),
			       l->path);
			l2_defang(l->err);
			return -EINVAL;
		}
	}
	return 0;
}

int luks2_token_add(struct luks2 *l, int id, const char *json)
{
	return luks2_token_import(l, id, json, -1);
}

/* Adds keyslot KEYSLOT to token O's "keyslots" (cryptsetup's token assign). */
static int assign_keyslot(struct luks2 *l, json_object *o, int keyslot)
{
	json_object *arr = l2_obj(o, "keyslots");
	char ks[12];

	snprintf(ks, sizeof(ks), "%d", keyslot);
	if (!arr || !json_object_is_type(arr, json_type_array) || l2_array_has(arr, ks))
		return 0;	/* check_token() explains a missing array */
	if (json_object_array_add(arr, json_object_new_string(ks))) {
		l2_err(l, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int luks2_token_import(struct luks2 *l, int id, const char *json, int keyslot)
{
	json_object *o, *saved, *t;
	char key[16];
	int r;

	r = l2_need_rw(l);
	if (r)
		return r;
	if (keyslot >= 0) {
		snprintf(key, sizeof(key), "%d", keyslot);
		if (keyslot >= LUKS2_KEYSLOTS_MAX || !l2_obj(l2_obj(l->jobj, "keyslots"), key)) {
			l2_err(l, "keyslot %d is not in use", keyslot);
			return -EINVAL;
		}
	}
	t = tokens(l);
	if (id >= LUKS2_TOKENS_MAX) {
		l2_err(l, "token %d out of range (0 to %d)", id, LUKS2_TOKENS_MAX - 1);
		return -EINVAL;
	}
	if (id < 0) {
		/* the lowest free id, as cryptsetup picks it */
		for (id = 0; id < LUKS2_TOKENS_MAX && luks2_token_get(l, id); id++)
			;
		if (id == LUKS2_TOKENS_MAX) {
			l2_err(l, "all %d tokens are in use", LUKS2_TOKENS_MAX);
			return -ENOSPC;
		}
	} else if (luks2_token_get(l, id)) {
		l2_err(l, "token %d is in use", id);
		return -EEXIST;
	}
	o = parse_token(l, json);
	if (!o)
		return -EINVAL;
	r = keyslot >= 0 && json_object_is_type(o, json_type_object) ?
	    assign_keyslot(l, o, keyslot) : 0;
	if (!r)
		r = check_token(l, o);
	if (r) {
		json_object_put(o);
		return r;
	}
	r = l2_write_begin_snapshot(l, &saved);
	if (r) {
		json_object_put(o);
		return r;
	}
	snprintf(key, sizeof(key), "%d", id);
	json_object_object_add(t, key, o);
	/* the whole header must still be one cryptsetup accepts (e.g. its size) */
	r = l2_json_validate(l, l->jobj, l->hdr_size, 0);
	if (r) {
		json_object_put(l->jobj);
		l->jobj = saved;
		goto out;
	}
	r = l2_commit(l, saved);
out:
	l2_write_end(l);
	return r ? r : id;
}

int luks2_token_remove(struct luks2 *l, int id)
{
	json_object *saved;
	char key[16];
	int r;

	r = l2_need_rw(l);
	if (r)
		return r;
	if (!luks2_token_get(l, id)) {
		l2_err(l, "token %d does not exist", id);
		return -ENOENT;
	}
	r = l2_write_begin_snapshot(l, &saved);
	if (r)
		return r;
	snprintf(key, sizeof(key), "%d", id);
	json_object_object_del(tokens(l), key);
	r = l2_commit(l, saved);
	l2_write_end(l);
	return r;
}
