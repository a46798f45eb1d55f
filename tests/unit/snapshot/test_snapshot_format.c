// SPDX-License-Identifier: MIT
/*
 * Unit tests of the snapshot container (snapshot/format.h): building,
 * serializing, parsing, files, and the refusal of every damaged image.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/le.h"
#include "harness.h"
#include "snapshot/crc64.h"
#include "snapshot/format.h"

#define TEST_VERSION "0.1.0-test"

/* After the bytes of @b were edited: a valid checksum (and total length). */
static void fix_crc(uint8_t *b, size_t len)
{
	le_put(b + len - SNAP_TRAILER, crc64_update(0, b, len - SNAP_TRAILER), 8);
}

static void fix_total_and_crc(uint8_t *b, size_t len)
{
	le_put(b + 16, len, 8);
	fix_crc(b, len);
}

/* Three sections, one of them empty: small enough to flip every bit of. */
static int build_small(struct snap_image *img)
{
	static const uint8_t regs[] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60 };
	struct snap_enc enc;

	if (snap_image_init(img, TEST_VERSION))
		return -1;
	snap_enc_init(&enc);
	snap_enc_put_u16(&enc, 0x1234);
	snap_enc_put_u64(&enc, 1000000007);
	if (snap_image_add(img, "cpu0", 1, regs, sizeof(regs)) ||
	    snap_image_add(img, "empty", 7, NULL, 0) ||
	    snap_image_add_enc(img, "pit", 2, &enc))
		return -1;
	return 0;
}

static int serialize_small(uint8_t **buf, size_t *len)
{
	struct snap_image img;
	int ret = build_small(&img);

	if (!ret)
		ret = snap_image_serialize(&img, buf, len);
	snap_image_free(&img);
	return ret;
}

static void sections_survive_a_round_trip_in_order(void)
{
	const size_t big_len = 1 << 20;
	uint8_t *big = malloc(big_len), *buf = NULL;
	struct snap_image img, out;
	const struct snap_section *s;
	size_t len;

	CHECK(big != NULL);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	CHECK_EQ(build_small(&img), 0);
	CHECK_EQ(snap_image_add(&img, "ram.layout", 0, big, big_len), 0);
	CHECK_EQ(snap_image_add(&img, "z-last_one.0", UINT32_MAX, "", 0), 0);
	CHECK_EQ(snap_image_serialize(&img, &buf, &len), 0);
	snap_image_free(&img);

	CHECK_EQ(snap_image_parse(&out, buf, len), 0);
	free(buf);
	CHECK(!strcmp(out.kite_version, TEST_VERSION));
	CHECK_EQ(out.nr, 5);
	CHECK(!strcmp(out.sections[0].name, "cpu0"));
	CHECK(!strcmp(out.sections[1].name, "empty"));
	CHECK(!strcmp(out.sections[2].name, "pit"));
	CHECK(!strcmp(out.sections[4].name, "z-last_one.0"));
	CHECK_EQ(out.sections[0].len, 6);
	CHECK_EQ(out.sections[0].data[5], 0x60);
	CHECK_EQ(out.sections[1].version, 7);
	CHECK_EQ(out.sections[1].len, 0);
	CHECK_EQ(out.sections[4].version, UINT32_MAX);
	s = snap_image_find(&out, "ram.layout");
	CHECK(s != NULL);
	CHECK_EQ(s->len, big_len);
	CHECK(!memcmp(s->data, big, big_len));
	CHECK(snap_image_find(&out, "nope") == NULL);
	snap_image_free(&out);
	snap_image_free(&out);	/* harmless twice */
	free(big);
}

static void an_image_without_sections_round_trips(void)
{
	struct snap_image img, out;
	uint8_t *buf;
	size_t len;

	CHECK_EQ(snap_image_init(&img, "x"), 0);
	CHECK_EQ(snap_image_serialize(&img, &buf, &len), 0);
	CHECK_EQ(len, SNAP_HEADER_FIXED + 1 + SNAP_TRAILER);
	CHECK_EQ(snap_image_parse(&out, buf, len), 0);
	CHECK_EQ(out.nr, 0);
	CHECK(!strcmp(out.kite_version, "x"));
	snap_image_free(&out);
	snap_image_free(&img);
	free(buf);
}

static void the_bytes_on_disk_follow_the_documented_layout(void)
{
	static const uint8_t payload[2] = { 0xAA, 0xBB };
	uint8_t expect[82] = "KITESNAP";
	struct snap_image img;
	uint8_t *buf;
	size_t len;

	le_put(expect + 8, 1, 4);		/* format version */
	le_put(expect + 12, 1, 4);		/* one section */
	le_put(expect + 16, 82, 8);		/* total length */
	le_put(expect + 24, 2, 2);		/* kite version "v1" */
	memcpy(expect + 26, "v1", 2);
	memcpy(expect + 28, "ab", 2);		/* name, NUL-padded to 32 */
	le_put(expect + 60, 0x01020304, 4);	/* section version */
	le_put(expect + 64, 2, 8);		/* payload length */
	memcpy(expect + 72, payload, 2);
	le_put(expect + 74, crc64_update(0, expect, 74), 8);

	CHECK_EQ(snap_image_init(&img, "v1"), 0);
	CHECK_EQ(snap_image_add(&img, "ab", 0x01020304, payload, 2), 0);
	CHECK_EQ(snap_image_serialize(&img, &buf, &len), 0);
	CHECK_EQ(len, sizeof(expect));
	CHECK(!memcmp(buf, expect, len));
	snap_image_free(&img);
	free(buf);
}

static void every_truncation_is_refused_as_truncated(void)
{
	struct snap_image out;
	uint8_t *buf, *cut;
	size_t len;

	CHECK_EQ(serialize_small(&buf, &len), 0);
	for (size_t n = 0; n < len; n++) {
		/* An exact-size copy, so that ASan sees any read past the end. */
		cut = malloc(n ? n : 1);
		CHECK(cut != NULL);
		memcpy(cut, buf, n);
		err_clear();
		CHECK_EQ(snap_image_parse(&out, cut, n), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "snapshot truncated");
		CHECK(out.nr == 0 && out.sections == NULL && out.blob == NULL);
		free(cut);
	}
	free(buf);
}

static void a_truncated_payload_names_the_section_and_the_sizes(void)
{
	struct snap_image out;
	uint8_t *buf;
	size_t len;

	CHECK_EQ(serialize_small(&buf, &len), 0);
	/* Header (26 + 10), then "cpu0"'s header; cut 2 bytes into its payload. */
	CHECK_EQ(snap_image_parse(&out, buf, 36 + 44 + 2), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(),
		"snapshot truncated: section 'cpu0' needs 6 bytes at offset 80, file has 82");
	free(buf);
}

/* What a damaged file may be called: never "truncated", never "garbage". */
static bool damage_message(const char *m)
{
	return strstr(m, "snapshot checksum mismatch") ||
	       strstr(m, "not a kite snapshot") ||
	       strstr(m, "snapshot format version") ||
	       strstr(m, "snapshot malformed");
}

static void every_single_bit_flip_is_refused(void)
{
	unsigned int crc_msgs = 0;
	struct snap_image out;
	uint8_t *buf;
	size_t len;

	CHECK_EQ(serialize_small(&buf, &len), 0);
	for (size_t bit = 0; bit < len * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		err_clear();
		CHECK(snap_image_parse(&out, buf, len) < 0);
		if (!damage_message(err_msg()))
			printf("# bit %zu: %s\n", bit, err_msg());
		CHECK(damage_message(err_msg()));
		CHECK(out.nr == 0 && out.blob == NULL);
		crc_msgs += strstr(err_msg(), "checksum mismatch") != NULL;
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	printf("# %zu bit flips refused, %u of them as checksum mismatches\n",
	       len * 8, crc_msgs);
	CHECK_EQ(snap_image_parse(&out, buf, len), 0);	/* restored: fine again */
	snap_image_free(&out);
	free(buf);
}

static void a_flipped_payload_bit_is_a_checksum_mismatch(void)
{
	struct snap_image out;
	uint8_t *buf;
	size_t len;

	CHECK_EQ(serialize_small(&buf, &len), 0);
	buf[36 + 44 + 3] ^= 0x04;	/* inside cpu0's payload */
	CHECK_EQ(snap_image_parse(&out, buf, len), -EBADMSG);
	CHECK_STR_CONTAINS(err_msg(), "snapshot checksum mismatch: stored 0x");
	CHECK_STR_CONTAINS(err_msg(), ", computed 0x");
	free(buf);
}

static void a_file_without_the_magic_is_not_a_snapshot(void)
{
	static const uint8_t elf[16] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	struct snap_image out;
	uint8_t *buf;
	size_t len;

	CHECK_EQ(snap_image_parse(&out, elf, sizeof(elf)), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "not a kite snapshot");
	CHECK_EQ(snap_image_parse(&out, "KITE", 4), -EINVAL);	/* a prefix of it */
	CHECK_STR_CONTAINS(err_msg(), "truncated");
	CHECK_EQ(serialize_small(&buf, &len), 0);
	buf[7] = 'Q';
	fix_crc(buf, len);
	CHECK_EQ(snap_image_parse(&out, buf, len), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "not a kite snapshot");
	free(buf);
}

static void an_unknown_format_version_names_both_versions(void)
{
	struct snap_image out;
	uint8_t *buf;
	size_t len;

	CHECK_EQ(serialize_small(&buf, &len), 0);
	le_put(buf + 8, 2, 4);
	fix_crc(buf, len);
	CHECK_EQ(snap_image_parse(&out, buf, len), -EPROTONOSUPPORT);
	CHECK_STR_CONTAINS(err_msg(),
		"snapshot format version 2 is not supported: this kite reads version 1");
	/* Before any other check: a version-2 header may look like garbage. */
	CHECK_EQ(snap_image_parse(&out, buf, 12), -EPROTONOSUPPORT);
	free(buf);
}

static void two_sections_with_one_name_are_refused(void)
{
	struct snap_image img, out;
	uint8_t *buf;
	size_t len;

	CHECK_EQ(snap_image_init(&img, TEST_VERSION), 0);
	CHECK_EQ(snap_image_add(&img, "vcpu1", 1, "a", 1), 0);
	CHECK_EQ(snap_image_add(&img, "ioapic", 1, "b", 1), 0);
	CHECK_EQ(snap_image_add(&img, "vcpu0", 1, "c", 1), 0);
	CHECK_EQ(snap_image_add(&img, "vcpu1", 2, "d", 1), -EEXIST);
	CHECK_STR_CONTAINS(err_msg(), "already has a section 'vcpu1'");
	CHECK_EQ(snap_image_serialize(&img, &buf, &len), 0);
	snap_image_free(&img);
	/* The third section (45 bytes each) renamed like the first. */
	buf[36 + 2 * 45 + 4] = '1';
	fix_crc(buf, len);
	CHECK_EQ(snap_image_parse(&out, buf, len), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "two sections are named 'vcpu1'");
	free(buf);
}

/* Parse the small image with the first section's name field set to @name
 * (32 bytes); returns the error. */
static int parse_with_name(const uint8_t name[SNAP_NAME_FIELD])
{
	struct snap_image out;
	uint8_t *buf;
	size_t len;
	int ret;

	if (serialize_small(&buf, &len))
		return 1;
	memcpy(buf + 36, name, SNAP_NAME_FIELD);
	fix_crc(buf, len);
	ret = snap_image_parse(&out, buf, len);
	snap_image_free(&out);
	free(buf);
	return ret;
}

static void bad_section_names_are_refused(void)
{
	uint8_t name[SNAP_NAME_FIELD];

	memset(name, 0, sizeof(name));
	CHECK_EQ(parse_with_name(name), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "section 0 at offset 36: name is empty");
	memcpy(name, "CPU0", 4);
	CHECK_EQ(parse_with_name(name), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "name has a bad byte 0x43");
	memcpy(name, "cp/0", 4);
	CHECK_EQ(parse_with_name(name), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "name has a bad byte 0x2f");
	memcpy(name, "cpu0", 4);
	name[20] = 'x';
	CHECK_EQ(parse_with_name(name), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "name padding is not zero");
	memset(name, 'a', sizeof(name));
	CHECK_EQ(parse_with_name(name), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "name is not NUL-terminated");
	name[SNAP_NAME_MAX] = '\0';	/* 31 characters: the longest allowed */
	CHECK_EQ(parse_with_name(name), 0);
}

static void the_builder_refuses_bad_names(void)
{
	const char *bad[] = { "", "Vcpu0", "a b", "pit/0", "x\n",
			      "abcdefghijabcdefghijabcdefghij12" /* 32 */ };
	struct snap_image img;

	CHECK_EQ(snap_image_init(&img, TEST_VERSION), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(snap_image_add(&img, bad[i], 1, "x", 1), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "bad snapshot section name");
	}
	CHECK_EQ(snap_image_add(&img, NULL, 1, "x", 1), -EINVAL);
	/* Taken and freed on failure: LeakSanitizer would see a leak otherwise. */
	CHECK_EQ(snap_image_add_owned(&img, "B", 1, malloc(8), 8), -EINVAL);
	CHECK_EQ(snap_image_add(&img, "abcdefghijabcdefghijabcdefghij1", 1, "x", 1), 0);
	CHECK_EQ(img.nr, 1);
	snap_image_free(&img);
	CHECK_EQ(snap_image_init(&img, ""), -EINVAL);
	CHECK_EQ(snap_image_init(&img, "tab\there"), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "kite version");
}

static void huge_counts_and_lengths_are_refused_without_allocating(void)
{
	struct snap_image out;
	uint8_t *buf;
	size_t len;

	CHECK_EQ(serialize_small(&buf, &len), 0);
	le_put(buf + 12, UINT32_MAX, 4);
	fix_crc(buf, len);
	CHECK_EQ(snap_image_parse(&out, buf, len), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "4294967295 sections, more than the limit of 16384");
	le_put(buf + 12, SNAP_MAX_SECTIONS, 4);
	fix_crc(buf, len);
	CHECK_EQ(snap_image_parse(&out, buf, len), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "16384 sections cannot fit in");
	le_put(buf + 12, 3, 4);
	le_put(buf + 36 + 36, UINT64_MAX, 8);	/* cpu0's payload length */
	fix_crc(buf, len);
	CHECK_EQ(snap_image_parse(&out, buf, len), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "section 'cpu0' needs 18446744073709551615 bytes at offset 80");
	le_put(buf + 36 + 36, 6, 8);
	le_put(buf + 24, 0xFFFF, 2);		/* kite version length */
	fix_crc(buf, len);
	CHECK_EQ(snap_image_parse(&out, buf, len), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "kite version length 65535");
	le_put(buf + 24, 10, 2);
	le_put(buf + 16, UINT64_MAX, 8);	/* total length */
	fix_crc(buf, len);
	CHECK_EQ(snap_image_parse(&out, buf, len), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "header records 18446744073709551615 bytes");
	free(buf);
}

static void trailing_garbage_is_refused(void)
{
	struct snap_image out;
	uint8_t *buf, *longer;
	size_t len;

	CHECK_EQ(serialize_small(&buf, &len), 0);
	longer = calloc(1, len + 100);
	CHECK(longer != NULL);
	memcpy(longer, buf, len);
	for (size_t extra = 1; extra <= 100; extra++) {
		CHECK_EQ(snap_image_parse(&out, longer, len + extra), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "trailing garbage");
	}
	CHECK_STR_CONTAINS(err_msg(), "100 bytes of trailing garbage after the checksum");
	/* Even with the header's length and the checksum made to agree. */
	fix_total_and_crc(longer, len + 9);
	CHECK_EQ(snap_image_parse(&out, longer, len + 9), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "trailing garbage");
	free(longer);
	free(buf);
}

static void required_sections_and_their_versions_are_checked(void)
{
	const struct snap_section *s;
	struct snap_image img;
	struct snap_dec dec;

	CHECK_EQ(build_small(&img), 0);
	CHECK_EQ(snap_image_require(&img, "pit", 1, 2, &s), 0);
	snap_dec_init_section(&dec, s);
	CHECK_EQ(snap_dec_get_u16(&dec), 0x1234);
	CHECK_EQ(snap_dec_get_u64(&dec), 1000000007);
	CHECK_EQ(snap_dec_finish(&dec), 0);
	CHECK_EQ(snap_image_require(&img, "rtc", 1, 1, &s), -ENOENT);
	CHECK(s == NULL);
	CHECK_STR_CONTAINS(err_msg(), "snapshot has no section 'rtc'");
	CHECK_EQ(snap_image_require(&img, "pit", 3, 5, &s), -EPROTONOSUPPORT);
	CHECK_STR_CONTAINS(err_msg(),
		"snapshot section 'pit' has version 2, this kite loads versions 3 to 5");
	CHECK_EQ(snap_image_require(&img, "cpu0", 2, 2, &s), -EPROTONOSUPPORT);
	CHECK_STR_CONTAINS(err_msg(), "has version 1, this kite loads version 2");
	snap_image_free(&img);
}

/* ------------------------------------------------------------------ files */

static char tmpdir[64];

static int make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/kite-snap-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static void tmp_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
}

static void remove_tmpdir(void)
{
	const char *names[] = { "vm.snap", "vm.snap.tmp", "old.snap", "old.snap.tmp",
				"cut.snap" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		tmp_path(p, sizeof(p), names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

static void a_file_written_and_read_back_is_the_same_image(void)
{
	struct snap_image img, out;
	char path[128], tmp[128];
	struct stat st;

	CHECK_EQ(make_tmpdir(), 0);
	tmp_path(path, sizeof(path), "vm.snap");
	tmp_path(tmp, sizeof(tmp), "vm.snap.tmp");
	CHECK_EQ(build_small(&img), 0);
	CHECK_EQ(snap_image_write_path(&img, path), 0);
	snap_image_free(&img);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK(access(tmp, F_OK) != 0);
	CHECK_EQ(snap_image_read_path(&out, path), 0);
	CHECK_EQ(out.nr, 3);
	CHECK(!strcmp(out.kite_version, TEST_VERSION));
	CHECK_EQ(snap_image_find(&out, "cpu0")->data[0], 0x10);
	snap_image_free(&out);
	remove_tmpdir();
}

static void reading_a_damaged_or_missing_file_names_the_path(void)
{
	struct snap_image img, out;
	char path[128], cut[128];
	uint8_t *buf;
	size_t len;
	FILE *f;

	CHECK_EQ(make_tmpdir(), 0);
	tmp_path(path, sizeof(path), "vm.snap");
	tmp_path(cut, sizeof(cut), "cut.snap");
	CHECK_EQ(snap_image_read_path(&out, path), -ENOENT);
	CHECK_STR_CONTAINS(err_msg(), path);
	CHECK_EQ(serialize_small(&buf, &len), 0);
	f = fopen(cut, "wb");
	CHECK(f != NULL);
	CHECK_EQ(fwrite(buf, 1, len - 3, f), len - 3);
	fclose(f);
	free(buf);
	CHECK_EQ(snap_image_read_path(&out, cut), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), cut);
	CHECK_STR_CONTAINS(err_msg(), "snapshot truncated: the checksum needs 8 bytes");
	CHECK_EQ(snap_image_read_path(&out, tmpdir), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "not a regular file");
	CHECK_EQ(build_small(&img), 0);
	tmp_path(path, sizeof(path), "no/such/dir/vm.snap");
	CHECK(snap_image_write_path(&img, path) < 0);
	CHECK_STR_CONTAINS(err_msg(), "vm.snap.tmp");
	snap_image_free(&img);
	remove_tmpdir();
}

/*
 * The file size limit makes write() fail part-way (EFBIG once SIGXFSZ is
 * ignored): the closest a test gets to a disk filling up mid-snapshot.
 */
static void a_failed_write_leaves_nothing_under_the_final_name(void)
{
	struct snap_image img, out;
	char path[128], tmp[128], old[128];
	struct rlimit saved, small = { .rlim_cur = 64 << 10 };
	void (*saved_sig)(int);
	uint8_t *big = calloc(1, 1 << 20);
	int ret_new, ret_old;

	CHECK(big != NULL);
	CHECK_EQ(make_tmpdir(), 0);
	tmp_path(path, sizeof(path), "vm.snap");
	tmp_path(tmp, sizeof(tmp), "vm.snap.tmp");
	tmp_path(old, sizeof(old), "old.snap");
	CHECK_EQ(build_small(&img), 0);
	CHECK_EQ(snap_image_write_path(&img, old), 0);	/* a good older file */
	CHECK_EQ(snap_image_add_owned(&img, "ram", 1, big, 1 << 20), 0);

	CHECK_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small.rlim_max = saved.rlim_max;
	saved_sig = signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
	ret_new = snap_image_write_path(&img, path);
	ret_old = snap_image_write_path(&img, old);
	setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, saved_sig);
	snap_image_free(&img);

	CHECK_EQ(ret_new, -EFBIG);
	CHECK_STR_CONTAINS(err_msg(), "writing snapshot");
	CHECK(access(path, F_OK) != 0);
	CHECK(access(tmp, F_OK) != 0);
	CHECK_EQ(ret_old, -EFBIG);
	CHECK_EQ(snap_image_read_path(&out, old), 0);	/* untouched */
	CHECK_EQ(out.nr, 3);
	snap_image_free(&out);
	remove_tmpdir();
}

int main(void)
{
	RUN(sections_survive_a_round_trip_in_order);
	RUN(an_image_without_sections_round_trips);
	RUN(the_bytes_on_disk_follow_the_documented_layout);
	RUN(every_truncation_is_refused_as_truncated);
	RUN(a_truncated_payload_names_the_section_and_the_sizes);
	RUN(every_single_bit_flip_is_refused);
	RUN(a_flipped_payload_bit_is_a_checksum_mismatch);
	RUN(a_file_without_the_magic_is_not_a_snapshot);
	RUN(an_unknown_format_version_names_both_versions);
	RUN(two_sections_with_one_name_are_refused);
	RUN(bad_section_names_are_refused);
	RUN(the_builder_refuses_bad_names);
	RUN(huge_counts_and_lengths_are_refused_without_allocating);
	RUN(trailing_garbage_is_refused);
	RUN(required_sections_and_their_versions_are_checked);
	RUN(a_file_written_and_read_back_is_the_same_image);
	RUN(reading_a_damaged_or_missing_file_names_the_path);
	RUN(a_failed_write_leaves_nothing_under_the_final_name);
	return harness_done();
}
