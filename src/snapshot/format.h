/* SPDX-License-Identifier: MIT */
/*
 * format.h - the snapshot / migration-state container: named, versioned
 * sections of device and vCPU state behind a header, with a CRC-64/XZ over
 * the whole file.  Guest RAM is not in it: the memory file is separate and
 * raw, described by a section of its own.
 *
 * Byte layout, format version 1.  Every integer is little-endian; nothing is
 * aligned or padded.
 *
 *   header (26 + V bytes)
 *     0    u8[8]   magic "KITESNAP"
 *     8    u32     format version, 1
 *     12   u32     section count N, at most SNAP_MAX_SECTIONS
 *     16   u64     total file length in bytes, header and trailer included
 *     24   u16     V, length of the kite version string, 1..SNAP_KITE_VERSION_MAX
 *     26   u8[V]   kite version that wrote the file: printable ASCII, no NUL
 *                  (informational; compatibility goes by the versions below)
 *   N sections, back to back, each (44 + L bytes)
 *     0    u8[32]  name: 1..31 bytes of [a-z0-9_.-], then NUL bytes to the end
 *     32   u32     section version (the layout of this payload)
 *     36   u64     payload length L
 *     44   u8[L]   payload
 *   trailer (8 bytes)
 *     0    u64     CRC-64/XZ of every byte before the trailer
 *
 * Each valid image has exactly one encoding: no two sections share a name,
 * nothing follows the trailer, and the total length equals the file's size.
 *
 * A snapshot file is untrusted input.  snap_image_parse() checks all of the
 * above before it returns anything, and refuses the file as a whole with one
 * message naming what is wrong (truncated, corrupted, unknown version, ...).
 * It allocates only in proportion to the bytes it was given.
 *
 * Errors (negative errno, message through err_set()):
 *   -EINVAL            not a snapshot, truncated, malformed, trailing bytes
 *   -EBADMSG           checksum mismatch
 *   -EPROTONOSUPPORT   unknown format version; section version not supported
 *   -ENOENT            required section missing (snap_image_require)
 *   -EEXIST            section name already in the image (builder)
 *   -EFBIG             file over SNAP_FILE_MAX
 *   -ENOMEM, or the errno of a failed system call
 */
#ifndef KITE_SNAPSHOT_FORMAT_H
#define KITE_SNAPSHOT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "snapshot/codec.h"

#define SNAP_MAGIC		"KITESNAP"
#define SNAP_MAGIC_LEN		8
#define SNAP_FORMAT_VERSION	1u
#define SNAP_HEADER_FIXED	26	/* header bytes before the version string */
#define SNAP_SECTION_HEADER	44
#define SNAP_TRAILER		8
#define SNAP_NAME_FIELD		32
#define SNAP_NAME_MAX		(SNAP_NAME_FIELD - 1)
#define SNAP_KITE_VERSION_MAX	64
/* Far above one VM's device and vCPU sections; bounds the section index. */
#define SNAP_MAX_SECTIONS	16384u
/* Largest container snap_image_read_path() loads (guest RAM is elsewhere). */
#define SNAP_FILE_MAX		(1ULL << 30)

struct snap_section {
	char name[SNAP_NAME_MAX + 1];
	uint32_t version;
	const uint8_t *data;	/* @len bytes; NULL only when @len is 0 */
	size_t len;
	uint8_t *owned;		/* the builder's buffer to free; NULL if parsed */
};

/*
 * A snapshot in memory: built section by section and written out, or parsed
 * from a file.  Sections keep the order in which they were added or found.
 * A parsed image keeps the file's bytes in @blob and its sections point into
 * them.  Not thread-safe; the caller serializes.
 */
struct snap_image {
	char kite_version[SNAP_KITE_VERSION_MAX + 1];
	struct snap_section *sections;
	unsigned int nr, cap;
	uint8_t *blob;
	size_t blob_len;
};

/**
 * snap_image_init() - an empty image to build
 * @kite_version: the writer's version, 1..SNAP_KITE_VERSION_MAX printable
 *                ASCII characters (KITE_VERSION)
 *
 * Return: 0, or -EINVAL for a bad version string (the image is then empty
 * and need not be freed).
 */
int snap_image_init(struct snap_image *img, const char *kite_version) KITE_WUR;
/* Free everything; the image is left empty, so freeing twice is harmless. */
void snap_image_free(struct snap_image *img);

/**
 * snap_image_add() - append a section, copying its payload
 * @name: 1..SNAP_NAME_MAX characters of [a-z0-9_.-], unique in the image
 *
 * Return: 0, -EINVAL (bad name, too many sections), -EEXIST or -ENOMEM.
 */
int snap_image_add(struct snap_image *img, const char *name, uint32_t version,
		   const void *data, size_t len) KITE_WUR;
/**
 * snap_image_add_owned() - append a section, taking @data (malloc'd)
 *
 * The image owns @data from the call on, even when it fails (it is then
 * freed), so callers need no error path of their own for it.
 */
int snap_image_add_owned(struct snap_image *img, const char *name,
			 uint32_t version, void *data, size_t len) KITE_WUR;
/**
 * snap_image_add_enc() - append a section with what @enc holds
 *
 * Takes the encoder's buffer (the encoder is left empty, even on failure)
 * and fails with the encoder's own error if one of its puts failed.
 */
int snap_image_add_enc(struct snap_image *img, const char *name,
		       uint32_t version, struct snap_enc *enc) KITE_WUR;

/**
 * snap_image_serialize() - the file's bytes, in one malloc'd buffer
 * @out: set to the buffer (the caller frees it)
 * @out_len: set to its length
 */
int snap_image_serialize(const struct snap_image *img, uint8_t **out,
			 size_t *out_len) KITE_WUR;
/* Write the whole file to @fd (at its offset); -errno if any write fails. */
int snap_image_write_fd(const struct snap_image *img, int fd) KITE_WUR;
/**
 * snap_image_write_path() - write the file as @path, durably and atomically
 *
 * Writes @path.tmp, fsyncs it, renames it over @path and fsyncs the folder;
 * on any failure @path.tmp is removed and @path is untouched (an older file
 * there stays as it was), so a crash never leaves half a file under @path.
 * Two writers of the same @path at once are not supported.
 */
int snap_image_write_path(const struct snap_image *img, const char *path) KITE_WUR;

/**
 * snap_image_parse() - check and load a snapshot file's bytes
 * @img: uninitialized; on success a parsed image (free it), on failure empty
 * @buf: the file's bytes (copied: the caller may free them on return)
 */
int snap_image_parse(struct snap_image *img, const void *buf, size_t len) KITE_WUR;
/**
 * snap_image_parse_owned() - snap_image_parse() without the copy
 * @blob: malloc'd; the image owns it from the call on (freed on failure)
 */
int snap_image_parse_owned(struct snap_image *img, uint8_t *blob, size_t len) KITE_WUR;
/* As snap_image_parse() on the whole file @path; messages start with @path. */
int snap_image_read_path(struct snap_image *img, const char *path) KITE_WUR;

/* The section named @name, or NULL; no message is set. */
const struct snap_section *snap_image_find(const struct snap_image *img,
					   const char *name);
/**
 * snap_image_require() - a section the loader cannot do without
 * @min_version: the oldest layout of it the caller can load
 * @max_version: the newest
 * @out: set to the section on success
 *
 * Return: 0; -ENOENT ("snapshot has no section 'pit'") or -EPROTONOSUPPORT
 * ("snapshot section 'pit' has version 3, this kite loads versions 1 to 2").
 */
int snap_image_require(const struct snap_image *img, const char *name,
		       uint32_t min_version, uint32_t max_version,
		       const struct snap_section **out) KITE_WUR;
/* A decoder over @sec's payload, named after it in messages. */
void snap_dec_init_section(struct snap_dec *dec, const struct snap_section *sec);

/* Whether @name is a valid section name (see the layout above). */
bool snap_name_valid(const char *name);

#endif
