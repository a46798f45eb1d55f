// SPDX-License-Identifier: MIT
/* Unit tests of the section payload encoder and decoder (snapshot/codec.h). */
#include <errno.h>
#include <stdint.h>

#include "harness.h"
#include "snapshot/codec.h"

/* A payload like a device's: every kind of field once. */
static void encode_sample(struct snap_enc *enc)
{
	static const uint8_t blob[5] = { 1, 2, 3, 4, 5 };

	snap_enc_init(enc);
	snap_enc_put_u8(enc, 0xA5);
	snap_enc_put_u16(enc, 0xBEEF);
	snap_enc_put_u32(enc, 0xDEADBEEF);
	snap_enc_put_u64(enc, 0x0123456789ABCDEFULL);
	snap_enc_put_bytes(enc, blob, sizeof(blob));
	snap_enc_put_str(enc, "ttyS0");
	snap_enc_put_str(enc, "");
	snap_enc_put_u32(enc, 7);
}

#define SAMPLE_LEN (1 + 2 + 4 + 8 + 5 + (4 + 5) + 4 + 4)

/* Decode encode_sample()'s fields; returns snap_dec_finish(). */
static int decode_sample(struct snap_dec *dec, uint64_t *sum)
{
	uint8_t blob[5];
	char s[16], empty[4];

	*sum = snap_dec_get_u8(dec);
	*sum += snap_dec_get_u16(dec);
	*sum += snap_dec_get_u32(dec);
	*sum += snap_dec_get_u64(dec);
	snap_dec_get_bytes(dec, blob, sizeof(blob));
	*sum += blob[4];
	snap_dec_get_str(dec, s, sizeof(s));
	*sum += strlen(s);
	snap_dec_get_str(dec, empty, sizeof(empty));
	*sum += snap_dec_get_u32_max(dec, 16, "queue count");
	return snap_dec_finish(dec);
}

static void every_field_survives_a_round_trip(void)
{
	struct snap_enc enc;
	struct snap_dec dec;
	uint8_t blob[5];
	char s[16], empty[4];

	encode_sample(&enc);
	CHECK_EQ(snap_enc_error(&enc), 0);
	CHECK_EQ(enc.len, SAMPLE_LEN);
	CHECK_EQ(enc.buf[1], 0xEF);	/* little-endian on the wire */
	snap_dec_init(&dec, "uart", enc.buf, enc.len);
	CHECK_EQ(snap_dec_get_u8(&dec), 0xA5);
	CHECK_EQ(snap_dec_get_u16(&dec), 0xBEEF);
	CHECK_EQ(snap_dec_get_u32(&dec), 0xDEADBEEF);
	CHECK_EQ(snap_dec_get_u64(&dec), 0x0123456789ABCDEFULL);
	snap_dec_get_bytes(&dec, blob, sizeof(blob));
	CHECK(blob[0] == 1 && blob[4] == 5);
	snap_dec_get_str(&dec, s, sizeof(s));
	CHECK(!strcmp(s, "ttyS0"));
	snap_dec_get_str(&dec, empty, sizeof(empty));
	CHECK(!strcmp(empty, ""));
	CHECK_EQ(snap_dec_get_u32_max(&dec, 7, "queue count"), 7);
	CHECK_EQ(snap_dec_remaining(&dec), 0);
	CHECK_EQ(snap_dec_finish(&dec), 0);
	snap_enc_free(&enc);
}

static void a_large_payload_grows_the_encoder(void)
{
	struct snap_enc enc;
	struct snap_dec dec;
	uint64_t sum = 0;

	snap_enc_init(&enc);
	for (uint64_t i = 0; i < 100000; i++)
		snap_enc_put_u64(&enc, i);
	CHECK_EQ(snap_enc_error(&enc), 0);
	CHECK_EQ(enc.len, 800000);
	snap_dec_init(&dec, "big", enc.buf, enc.len);
	for (uint64_t i = 0; i < 100000; i++)
		sum += snap_dec_get_u64(&dec) == i;
	CHECK_EQ(sum, 100000);
	CHECK_EQ(snap_dec_finish(&dec), 0);
	snap_enc_free(&enc);
}

static void a_short_read_names_the_section_offset_and_sizes(void)
{
	uint8_t buf[44] = { 0 };
	struct snap_dec dec;

	snap_dec_init(&dec, "pit", buf, sizeof(buf));
	snap_dec_get_bytes(&dec, buf, 40);
	CHECK_EQ(snap_dec_get_u64(&dec), 0);
	CHECK_EQ(dec.in.err, -EINVAL);
	CHECK_STR_CONTAINS(err_msg(),
		"section 'pit': payload truncated at offset 40 (need 8 bytes, 4 left)");
	err_clear();
	CHECK_EQ(snap_dec_finish(&dec), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "payload truncated at offset 40");
}

static void after_a_failure_every_read_returns_zero_and_the_first_message_stays(void)
{
	const uint8_t buf[3] = { 0xFF, 0xFF, 0xFF };
	struct snap_dec dec;
	uint8_t out[2] = { 9, 9 };
	char s[8] = "x";

	snap_dec_init(&dec, "rtc", buf, sizeof(buf));
	CHECK_EQ(snap_dec_get_u32(&dec), 0);
	CHECK_EQ(snap_dec_get_u8(&dec), 0);	/* a byte is left, but the decoder failed */
	snap_dec_get_bytes(&dec, out, sizeof(out));
	CHECK(out[0] == 0 && out[1] == 0);
	snap_dec_get_str(&dec, s, sizeof(s));
	CHECK_EQ(s[0], 0);
	CHECK_EQ(snap_dec_finish(&dec), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "at offset 0 (need 4 bytes, 3 left)");
}

static void every_truncation_of_a_payload_fails_to_decode(void)
{
	struct snap_enc enc;
	struct snap_dec dec;
	uint64_t sum;

	encode_sample(&enc);
	for (size_t len = 0; len < enc.len; len++) {
		snap_dec_init(&dec, "uart", enc.buf, len);
		CHECK_EQ(decode_sample(&dec, &sum), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "section 'uart'");
		CHECK_STR_CONTAINS(err_msg(), "truncated");
	}
	snap_enc_free(&enc);
}

static void unread_trailing_bytes_fail_the_finish(void)
{
	const uint8_t buf[12] = { 0 };
	struct snap_dec dec;

	snap_dec_init(&dec, "i8042", buf, sizeof(buf));
	(void)snap_dec_get_u32(&dec);
	CHECK_EQ(snap_dec_finish(&dec), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "section 'i8042': 8 bytes of payload left unread at offset 4");
}

static void a_count_over_its_limit_is_refused(void)
{
	struct snap_enc enc;
	struct snap_dec dec;

	snap_enc_init(&enc);
	snap_enc_put_u32(&enc, 70000);
	snap_dec_init(&dec, "virtio-net", enc.buf, enc.len);
	CHECK_EQ(snap_dec_get_u32_max(&dec, 1024, "queue count"), 0);
	CHECK_EQ(snap_dec_finish(&dec), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "queue count 70000 at offset 0 is over the limit of 1024");
	snap_enc_free(&enc);
}

static void a_string_too_long_for_its_buffer_or_with_a_nul_is_refused(void)
{
	const uint8_t with_nul[8] = { 4, 0, 0, 0, 'a', 0, 'b', 'c' };
	struct snap_enc enc;
	struct snap_dec dec;
	char s[4], big[16];

	snap_enc_init(&enc);
	snap_enc_put_str(&enc, "abcd");
	snap_dec_init(&dec, "blk", enc.buf, enc.len);
	snap_dec_get_str(&dec, s, sizeof(s));
	CHECK_EQ(s[0], 0);
	CHECK_EQ(snap_dec_finish(&dec), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "string at offset 0 is 4 bytes, at most 3 fit");
	snap_enc_free(&enc);

	snap_dec_init(&dec, "blk", with_nul, sizeof(with_nul));
	snap_dec_get_str(&dec, big, sizeof(big));
	CHECK_EQ(snap_dec_finish(&dec), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "NUL");
}

static void an_empty_payload_decodes_to_nothing(void)
{
	struct snap_dec dec;

	snap_dec_init(&dec, "empty", NULL, 0);
	CHECK_EQ(snap_dec_finish(&dec), 0);
	snap_dec_init(&dec, "empty", NULL, 0);
	CHECK_EQ(snap_dec_get_u8(&dec), 0);
	CHECK_EQ(snap_dec_finish(&dec), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "need 1 bytes, 0 left");
}

static void a_failed_encoder_reports_its_error_once_at_the_end(void)
{
	struct snap_enc enc;

	snap_enc_init(&enc);
	snap_enc_put_u32(&enc, 1);
	enc.err = -ENOMEM;		/* as if a realloc had failed */
	snap_enc_put_u64(&enc, 2);
	CHECK_EQ(enc.len, 4);		/* dropped after the failure */
	CHECK_EQ(snap_enc_error(&enc), -ENOMEM);
	CHECK_STR_CONTAINS(err_msg(), "out of memory");
	snap_enc_free(&enc);
	CHECK(enc.buf == NULL);
}

int main(void)
{
	RUN(every_field_survives_a_round_trip);
	RUN(a_large_payload_grows_the_encoder);
	RUN(a_short_read_names_the_section_offset_and_sizes);
	RUN(after_a_failure_every_read_returns_zero_and_the_first_message_stays);
	RUN(every_truncation_of_a_payload_fails_to_decode);
	RUN(unread_trailing_bytes_fail_the_finish);
	RUN(a_count_over_its_limit_is_refused);
	RUN(a_string_too_long_for_its_buffer_or_with_a_nul_is_refused);
	RUN(an_empty_payload_decodes_to_nothing);
	RUN(a_failed_encoder_reports_its_error_once_at_the_end);
	return harness_done();
}
