// SPDX-License-Identifier: MIT
#include "api/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An unsigned decimal run longer than this, or as long and larger, is > 64 bits. */
static const char u64_max_text[] = "18446744073709551615";

static bool digits_exceed_u64(const char *d, size_t n)
{
	size_t max = sizeof(u64_max_text) - 1;

	while (n > 1 && *d == '0') {	/* "007" is refused by json-c anyway */
		d++;
		n--;
	}
	return n > max || (n == max && memcmp(d, u64_max_text, max) > 0);
}

/*
 * json-c silently clamps integers that do not fit 64 bits: find them first.
 * Scans integer parts of numbers outside strings; fraction and exponent
 * digits are skipped (such numbers are not integers and are refused later).
 */
static int check_integer_widths(const char *t, size_t len)
{
	bool in_str = false, in_num = false, skip = false;
	size_t i, start = 0;

	for (i = 0; i <= len; i++) {
		char c = i < len ? t[i] : ' ';
		bool digit = c >= '0' && c <= '9';

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (digit && !in_num && !skip) {
			in_num = true;
			start = i;
		} else if (!digit && in_num) {
			in_num = false;
			if (digits_exceed_u64(t + start, i - start))
				return err_set(-EINVAL, "malformed JSON: integer at byte %zu "
					       "does not fit 64 bits", start);
		}
		if (!digit)
			skip = c == '.' || c == 'e' || c == 'E' ||
			       (skip && (c == '+' || c == '-'));
		if (c == '"')
			in_str = true;
	}
	return 0;
}

int api_json_parse_object(const char *text, size_t len, struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error e;
	size_t end;

	*out = NULL;
	if (!text || !len)
		return err_set(-EINVAL, "malformed JSON: the body is empty");
	if (len > (size_t)INT32_MAX)
		return err_set(-EINVAL, "malformed JSON: the body is too large");
	if (check_integer_widths(text, len))
		return -EINVAL;
	tok = json_tokener_new_ex(API_JSON_DEPTH);
	if (!tok)
		return err_set(-ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e == json_tokener_continue)
		return err_set(-EINVAL, "malformed JSON: the body ends in the middle of a value");
	if (e != json_tokener_success || !obj) {
		json_object_put(obj);
		return err_set(-EINVAL, "malformed JSON at byte %zu: %s", end,
			       json_tokener_error_desc(e));
	}
	/* Strict mode stops at the end of the value: only white space may follow. */
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", text[end])) {
			json_object_put(obj);
			return err_set(-EINVAL, "malformed JSON at byte %zu: data after the "
				       "value", end);
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return err_set(-EINVAL, "the body must be a JSON object");
	}
	*out = obj;
	return 0;
}

int api_json_check_fields(struct json_object *obj, const char *const *allowed)
{
	json_object_object_foreach(obj, key, val) {
		const char *const *a;

		(void)val;
		for (a = allowed; *a && strcmp(*a, key); a++)
			;
		if (!*a)
			return err_set(-EINVAL, "unknown field '%s'", key);
	}
	return 0;
}

static int to_u64(struct json_object *v, const char *what, struct dev_value *out)
{
	/* json-c keeps integers as int64 or uint64; both read back exactly here. */
	if (!json_object_is_type(v, json_type_int))
		return err_set(-EINVAL, "%s must be an integer (u64), not %s", what,
			       json_type_to_name(json_object_get_type(v)));
	if (json_object_get_int64(v) < 0)
		return err_set(-EINVAL, "%s must not be negative (u64)", what);
	out->u64 = json_object_get_uint64(v);
	return 0;
}

static int to_str(struct json_object *v, const char *what, struct dev_value *out)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(v, json_type_string))
		return err_set(-EINVAL, "%s must be a string, not %s", what,
			       json_type_to_name(json_object_get_type(v)));
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n)
		return err_set(-EINVAL, "%s must not contain NUL characters", what);
	if (n >= sizeof(out->str))
		return err_set(-EINVAL, "%s is too long (%zu bytes, at most %zu)", what, n,
			       sizeof(out->str) - 1);
	memcpy(out->str, s, n + 1);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex string ("0aff..", two digits per byte, either case) into a new buffer. */
static int to_bytes(struct json_object *v, const char *what, struct dev_value *out)
{
	const char *s;
	size_t n, i;

	if (!json_object_is_type(v, json_type_string))
		return err_set(-EINVAL, "%s must be a hex string (bytes), not %s", what,
			       json_type_to_name(json_object_get_type(v)));
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n % 2)
		return err_set(-EINVAL, "%s must have two hex digits per byte (%zu digits)",
			       what, n);
	if (n / 2 > DEV_BYTES_MAX)
		return err_set(-EINVAL, "%s is too long (%zu bytes, at most %u)", what, n / 2,
			       DEV_BYTES_MAX);
	for (i = 0; i < n; i++)
		if (hex_digit(s[i]) < 0)
			return err_set(-EINVAL, "%s must be hex digits only: character %zu is "
				       "not one", what, i);
	if (!dev_value_alloc(out, n / 2))
		return err_set(-ENOMEM, "out of memory");
	for (i = 0; i < n / 2; i++)
		out->bytes[i] = (uint8_t)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
	return 0;
}

static struct json_object *from_bytes(const struct dev_value *v)
{
	static const char digits[] = "0123456789abcdef";
	struct json_object *o;
	char *hex;
	size_t i;

	if (v->len > DEV_BYTES_MAX || (v->len && !v->bytes))
		return NULL;
	hex = malloc(2 * v->len + 1);
	if (!hex)
		return NULL;
	for (i = 0; i < v->len; i++) {
		hex[2 * i] = digits[v->bytes[i] >> 4];
		hex[2 * i + 1] = digits[v->bytes[i] & 0xf];
	}
	hex[2 * v->len] = '\0';
	o = json_object_new_string_len(hex, (int)(2 * v->len));
	free(hex);
	return o;
}

int api_json_to_dev_value(struct json_object *v, enum dev_attr_type type,
			  const char *what, struct dev_value *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	switch (type) {
	case DEV_ATTR_U64:
		return to_u64(v, what, out);
	case DEV_ATTR_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return err_set(-EINVAL, "%s must be true or false, not %s", what,
				       json_type_to_name(json_object_get_type(v)));
		out->b = json_object_get_boolean(v);
		return 0;
	case DEV_ATTR_STR:
		return to_str(v, what, out);
	case DEV_ATTR_BYTES:
		return to_bytes(v, what, out);
	}
	return err_set(-EINVAL, "%s has an unknown type", what);
}

struct json_object *api_json_from_dev_value(const struct dev_value *v)
{
	switch (v->type) {
	case DEV_ATTR_U64:
		return json_object_new_uint64(v->u64);
	case DEV_ATTR_BOOL:
		return json_object_new_boolean(v->b);
	case DEV_ATTR_STR:
		/* A getter's string is bounded by DEV_STR_MAX even without its NUL. */
		return json_object_new_string_len(v->str, (int)strnlen(v->str, sizeof(v->str)));
	case DEV_ATTR_BYTES:
		return from_bytes(v);
	}
	return NULL;
}

char *api_json_dup_string(struct json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	return s ? strdup(s) : NULL;
}

char *api_json_fault(const char *msg)
{
	struct json_object *o = json_object_new_object();
	char *s = NULL;

	if (o && api_json_add(o, "fault_message", json_object_new_string(msg)))
		s = api_json_dup_string(o);
	json_object_put(o);
	return s;
}

bool api_json_add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!obj || !val) {
		json_object_put(val);
		return false;
	}
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

bool api_json_append(struct json_object *arr, struct json_object *val)
{
	if (!arr || !val) {
		json_object_put(val);
		return false;
	}
	if (json_object_array_add(arr, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}
