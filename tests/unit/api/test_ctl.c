// SPDX-License-Identifier: MIT
/*
 * `kite ctl`'s own parsing: the HTTP response parser (input from a socket,
 * so treated as untrusted) and the attribute value conversion of `set`.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/ctl.h"
#include "harness.h"

static int parse(const char *text, struct ctl_response *r)
{
	return ctl_parse_response(text, strlen(text), r);
}

static void response_with_content_length_is_parsed(void)
{
	struct ctl_response r;

	CHECK_EQ(parse("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		       "Content-Length: 7\r\n\r\n{\"a\":1}", &r), 0);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.body_len, 7);
	CHECK(!memcmp(r.body, "{\"a\":1}", 7));
}

static void body_beyond_content_length_is_ignored(void)
{
	struct ctl_response r;

	CHECK_EQ(parse("HTTP/1.1 404 Not Found\r\ncontent-length:  2 \r\n\r\n{}garbage", &r), 0);
	CHECK_EQ(r.status, 404);
	CHECK_EQ(r.body_len, 2);
}

static void response_without_length_takes_the_rest(void)
{
	struct ctl_response r;

	CHECK_EQ(parse("HTTP/1.0 204\r\n\r\n", &r), 0);
	CHECK_EQ(r.status, 204);
	CHECK_EQ(r.body_len, 0);
	CHECK_EQ(parse("HTTP/1.1 400 Bad Request\r\n\r\nplain", &r), 0);
	CHECK_EQ(r.body_len, 5);
}

static void malformed_responses_are_refused(void)
{
	static const char *const bad[] = {
		"", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
		"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 X\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
	};
	struct ctl_response r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r) == 0) {
			printf("# accepted: %s\n", bad[i]);
			CHECK(0);
		}
	}
}

/* ctl_value_json(@type, @in) is @want (NULL: refused). */
static int value_is(const char *type, const char *in, const char *want)
{
	char *got = ctl_value_json(type, in);
	int ok = want ? got && !strcmp(got, want) : !got;

	if (!ok)
		printf("# %s '%s' -> %s, want %s\n", type, in, got ? got : "NULL",
		       want ? want : "NULL");
	free(got);
	return ok;
}

static void u64_values_take_decimal_and_hex_only(void)
{
	CHECK(value_is("u64", "0", "0"));
	CHECK(value_is("u64", "165", "165"));
	CHECK(value_is("u64", "0xA5", "165"));
	CHECK(value_is("u64", "18446744073709551615", "18446744073709551615"));
	CHECK(value_is("u64", "010", "10"));
	CHECK(value_is("u64", "18446744073709551616", NULL));
	CHECK(value_is("u64", "-1", NULL));
	CHECK(value_is("u64", " 1", NULL));
	CHECK(value_is("u64", "1x", NULL));
	CHECK(value_is("u64", "0x", NULL));
	CHECK(value_is("u64", "", NULL));
	CHECK(value_is("u64", "1.5", NULL));
}

static void bool_values_take_common_spellings(void)
{
	CHECK(value_is("bool", "true", "true"));
	CHECK(value_is("bool", "ON", "true"));
	CHECK(value_is("bool", "1", "true"));
	CHECK(value_is("bool", "no", "false"));
	CHECK(value_is("bool", "0", "false"));
	CHECK(value_is("bool", "maybe", NULL));
}

static void string_values_are_json_escaped(void)
{
	CHECK(value_is("string", "plain", "\"plain\""));
	CHECK(value_is("string", "a\"b\\c\n/", "\"a\\\"b\\\\c\\n/\""));
	CHECK(value_is("string", "", "\"\""));
	CHECK(value_is("blob", "x", NULL));
}

static void bytes_values_are_hex_digit_pairs(void)
{
	CHECK(value_is("bytes", "01ff", "\"01ff\""));
	CHECK(value_is("bytes", "ABcd", "\"ABcd\""));
	CHECK(value_is("bytes", "", "\"\""));
	CHECK(value_is("bytes", "abc", NULL));		/* odd number of digits */
	CHECK(value_is("bytes", "0x01", NULL));
	CHECK(value_is("bytes", "zz", NULL));
}

int main(void)
{
	RUN(response_with_content_length_is_parsed);
	RUN(body_beyond_content_length_is_ignored);
	RUN(response_without_length_takes_the_rest);
	RUN(malformed_responses_are_refused);
	RUN(u64_values_take_decimal_and_hex_only);
	RUN(bool_values_take_common_spellings);
	RUN(string_values_are_json_escaped);
	RUN(bytes_values_are_hex_digit_pairs);
	return harness_done();
}
