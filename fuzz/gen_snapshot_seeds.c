// SPDX-License-Identifier: MIT
/*
 * gen_snapshot_seeds.c - writes the seed corpus of fuzz_snapshot.c into a
 * directory: small valid and almost-valid snapshot files, each behind
 * fuzz_snapshot's flags byte.  Not run by the build; the seeds are committed
 * (fuzz/README.md says how to remake them):
 *   ninja -C BUILD fuzz/fuzz-gen-snapshot-seeds && BUILD/fuzz/fuzz-gen-snapshot-seeds fuzz/corpus/snapshot
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "snapshot/format.h"

/* fuzz_snapshot.c's flags byte. */
#define F_FIX_CRC	0x01
#define F_FIX_TOTAL	0x02

static const char *outdir;
static int failed;

static void put(const char *name, uint8_t flags, const uint8_t *file, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&flags, 1, 1, f) != 1 || fwrite(file, 1, len, f) != len) {
		perror(path);
		failed = 1;
	}
	if (f && fclose(f)) {
		perror(path);
		failed = 1;
	}
}

static void must(int ret)
{
	if (ret) {
		fprintf(stderr, "gen-snapshot-seeds: %s\n", err_msg());
		exit(1);
	}
}

/* Sections shaped like the device state to come: encoded fields. */
static void build_devices(struct snap_image *img)
{
	struct snap_enc enc;
	uint8_t regs[64];

	for (size_t i = 0; i < sizeof(regs); i++)
		regs[i] = (uint8_t)(i * 7);
	must(snap_image_init(img, "0.1.0"));
	snap_enc_init(&enc);
	snap_enc_put_str(&enc, "ttyS0");
	snap_enc_put_u8(&enc, 0x03);
	snap_enc_put_u16(&enc, 0x3f8);
	snap_enc_put_u32(&enc, 4);
	snap_enc_put_u64(&enc, 115200);
	must(snap_image_add_enc(img, "serial0", 1, &enc));
	must(snap_image_add(img, "vcpu0.regs", 2, regs, sizeof(regs)));
	must(snap_image_add(img, "vcpu0.empty", 1, NULL, 0));
	snap_enc_init(&enc);
	snap_enc_put_str(&enc, "");
	snap_enc_put_u32(&enc, 2000);	/* over fuzz_snapshot's count limit */
	must(snap_image_add_enc(img, "pit", 3, &enc));
}

static void put_image(const char *name, uint8_t flags, const struct snap_image *img,
		      void (*edit)(uint8_t *b, size_t *len))
{
	uint8_t *b;
	size_t len;

	must(snap_image_serialize(img, &b, &len));
	if (edit)
		edit(b, &len);
	put(name, flags, b, len);
	free(b);
}

static void cut_tail(uint8_t *b, size_t *len)
{
	(void)b;
	*len -= 5;
}

static void second_name_like_first(uint8_t *b, size_t *len)
{
	(void)len;
	/* Header 26 + "0.1.0"; "serial0" is 44 + 24 bytes; "vcpu0.regs" follows. */
	memcpy(b + 31 + 68, "serial0\0\0\0", 10);
}

static void format_version_2(uint8_t *b, size_t *len)
{
	(void)len;
	le_put(b + 8, 2, 4);
}

int main(int argc, char **argv)
{
	struct snap_image img;
	char name[32];

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	build_devices(&img);
	put_image("devices", 0, &img, NULL);
	put_image("devices-fixed", F_FIX_CRC | F_FIX_TOTAL, &img, NULL);
	put_image("truncated", 0, &img, cut_tail);
	put_image("duplicate-names", F_FIX_CRC, &img, second_name_like_first);
	put_image("format-version-2", F_FIX_CRC, &img, format_version_2);
	snap_image_free(&img);

	must(snap_image_init(&img, "0.1.0"));
	put_image("no-sections", 0, &img, NULL);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		must(snap_image_add(&img, name, (uint32_t)i, name, strlen(name)));
	}
	put_image("many-sections", F_FIX_CRC, &img, NULL);
	snap_image_free(&img);
	return failed;
}
