/* SPDX-License-Identifier: MIT */
/*
 * json.h - the control API's JSON: strict parsing of request bodies and the
 * conversions between JSON and device attribute values (json-c).
 *
 * Request bodies are untrusted: nesting is capped, trailing garbage, integers
 * wider than 64 bits and strings with NUL bytes are refused, and object
 * members are checked against the fields a request allows.
 */
#ifndef KITE_API_JSON_H
#define KITE_API_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/device.h"
#include "core/error.h"

/* Deepest nesting a request body may have. */
#define API_JSON_DEPTH	8

/*
 * Parse @len bytes of @text as one JSON object.  Returns 0 and a new
 * reference in *out, or -EINVAL with a message ("malformed JSON at byte 12:
 * unexpected character").
 */
int api_json_parse_object(const char *text, size_t len, struct json_object **out) KITE_WUR;

/* -EINVAL naming the first member of @obj that is not in @allowed (NULL-ended). */
int api_json_check_fields(struct json_object *obj, const char *const *allowed) KITE_WUR;

/*
 * Convert @v to an attribute value of @type: u64 from a JSON integer >= 0,
 * bool from true/false, string from a string shorter than DEV_STR_MAX,
 * bytes from a string of hex digits (two per byte, either case, at most
 * DEV_BYTES_MAX bytes; "" is zero bytes).  -EINVAL with a message naming
 * @what on a type or range mismatch.  On success a bytes value owns a buffer:
 * dev_value_release() it.
 */
int api_json_to_dev_value(struct json_object *v, enum dev_attr_type type,
			  const char *what, struct dev_value *out) KITE_WUR;
/* A new JSON value for @v (bytes: lowercase hex; NULL only when out of memory). */
struct json_object *api_json_from_dev_value(const struct dev_value *v);

/* Serialise @obj compactly into a malloc'd string (NULL when out of memory). */
char *api_json_dup_string(struct json_object *obj);
/* A malloc'd {"fault_message": @msg} (NULL when out of memory). */
char *api_json_fault(const char *msg);

/* json-c object helpers that return false when out of memory. */
bool api_json_add(struct json_object *obj, const char *key, struct json_object *val);
bool api_json_append(struct json_object *arr, struct json_object *val);

#endif
