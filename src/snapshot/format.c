// SPDX-License-Identifier: MIT
/*
 * format.c - building, serializing and parsing snapshot images (the layout
 * is in format.h).  Writing and reading files is in format_file.c.
 */
#include "snapshot/format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/le.h"
#include "snapshot/crc64.h"

/* ------------------------------------------------------------------ names */

static bool name_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

bool snap_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, SNAP_NAME_MAX + 1);
	if (n == 0 || n > SNAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char_valid(name[i]))
			return false;
	return true;
}

static bool kite_version_valid(const char *s, size_t n)
{
	if (n == 0 || n > SNAP_KITE_VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* ---------------------------------------------------------------- builder */

int snap_image_init(struct snap_image *img, const char *kite_version)
{
	size_t n = kite_version ? strnlen(kite_version, SNAP_KITE_VERSION_MAX + 1) : 0;

	memset(img, 0, sizeof(*img));
	if (!kite_version_valid(kite_version, n))
		return err_set(-EINVAL, "snapshot kite version must be 1 to %d printable characters",
			       SNAP_KITE_VERSION_MAX);
	memcpy(img->kite_version, kite_version, n);
	return 0;
}

void snap_image_free(struct snap_image *img)
{
	for (unsigned int i = 0; i < img->nr; i++)
		free(img->sections[i].owned);
	free(img->sections);
	free(img->blob);
	memset(img, 0, sizeof(*img));
}

const struct snap_section *snap_image_find(const struct snap_image *img,
					   const char *name)
{
	for (unsigned int i = 0; i < img->nr; i++)
		if (!strcmp(img->sections[i].name, name))
			return &img->sections[i];
	return NULL;
}

/* Room for one more section, after the checks every add shares. */
static int image_slot(struct snap_image *img, const char *name,
		      struct snap_section **out)
{
	struct snap_section *s;
	unsigned int cap;

	if (!snap_name_valid(name))
		return err_set(-EINVAL, "bad snapshot section name '%.*s': 1 to %d characters of a-z 0-9 _ . -",
			       SNAP_NAME_MAX + 1, name ? name : "", SNAP_NAME_MAX);
	if (snap_image_find(img, name))
		return err_set(-EEXIST, "snapshot already has a section '%s'", name);
	if (img->nr >= SNAP_MAX_SECTIONS)
		return err_set(-EINVAL, "snapshot section '%s': more than %u sections",
			       name, SNAP_MAX_SECTIONS);
	if (img->nr == img->cap) {
		cap = img->cap ? img->cap * 2 : 16;
		s = realloc(img->sections, cap * sizeof(*s));
		if (!s)
			return err_set(-ENOMEM, "snapshot section '%s': out of memory", name);
		img->sections = s;
		img->cap = cap;
	}
	*out = &img->sections[img->nr];
	return 0;
}

int snap_image_add_owned(struct snap_image *img, const char *name,
			 uint32_t version, void *data, size_t len)
{
	struct snap_section *s = NULL;
	int ret = image_slot(img, name, &s);

	if (ret || !len) {
		free(data);
		data = NULL;
	}
	if (ret)
		return ret;
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);	/* fits: snap_name_valid() checked the length */
	s->version = version;
	s->owned = data;
	s->data = data;
	s->len = len;
	img->nr++;
	return 0;
}

int snap_image_add(struct snap_image *img, const char *name, uint32_t version,
		   const void *data, size_t len)
{
	uint8_t *copy = NULL;

	if (len) {
		copy = malloc(len);
		if (!copy)
			return err_set(-ENOMEM, "snapshot section '%s': out of memory for %zu bytes",
				       name, len);
		memcpy(copy, data, len);
	}
	return snap_image_add_owned(img, name, version, copy, len);
}

int snap_image_add_enc(struct snap_image *img, const char *name,
		       uint32_t version, struct snap_enc *enc)
{
	int ret = snap_enc_error(enc);
	uint8_t *buf = enc->buf;
	size_t len = enc->len;

	enc->buf = NULL;
	snap_enc_free(enc);
	if (ret) {
		free(buf);
		return err_prefix(ret, "snapshot section '%s'", name);
	}
	return snap_image_add_owned(img, name, version, buf, len);
}

/* -------------------------------------------------------------- serialize */

static int image_size(const struct snap_image *img, size_t *size)
{
	size_t total = SNAP_HEADER_FIXED + strlen(img->kite_version) + SNAP_TRAILER;

	for (unsigned int i = 0; i < img->nr; i++)
		if (__builtin_add_overflow(total, SNAP_SECTION_HEADER, &total) ||
		    __builtin_add_overflow(total, img->sections[i].len, &total))
			return err_set(-EOVERFLOW, "snapshot larger than the address space");
	*size = total;
	return 0;
}

int snap_image_serialize(const struct snap_image *img, uint8_t **out,
			 size_t *out_len)
{
	size_t vlen = strlen(img->kite_version), size = 0, off;
	uint8_t *b;
	int ret;

	ret = image_size(img, &size);
	if (ret)
		return ret;
	b = malloc(size);
	if (!b)
		return err_set(-ENOMEM, "snapshot of %zu bytes: out of memory", size);
	memcpy(b, SNAP_MAGIC, SNAP_MAGIC_LEN);
	le_put(b + 8, SNAP_FORMAT_VERSION, 4);
	le_put(b + 12, img->nr, 4);
	le_put(b + 16, size, 8);
	le_put(b + 24, vlen, 2);
	memcpy(b + SNAP_HEADER_FIXED, img->kite_version, vlen);
	off = SNAP_HEADER_FIXED + vlen;
	for (unsigned int i = 0; i < img->nr; i++) {
		const struct snap_section *s = &img->sections[i];

		memset(b + off, 0, SNAP_NAME_FIELD);	/* names are NUL-padded */
		memcpy(b + off, s->name, strlen(s->name));
		le_put(b + off + 32, s->version, 4);
		le_put(b + off + 36, s->len, 8);
		off += SNAP_SECTION_HEADER;
		if (s->len)
			memcpy(b + off, s->data, s->len);
		off += s->len;
	}
	le_put(b + off, crc64_update(0, b, off), 8);
	*out = b;
	*out_len = size;
	return 0;
}

/* ------------------------------------------------------------------ parse */

struct snap_header {
	uint32_t nr;
	uint64_t total_len;
	size_t end;			/* offset of the first section */
};

/* How a structural walk ended, for telling truncation from corruption. */
struct snap_walk {
	bool cut;			/* something runs past the end of the file */
	bool trailing;			/* bytes follow the trailer */
};

static int truncated_header(size_t size, size_t need)
{
	return err_set(-EINVAL, "snapshot truncated: the header needs %zu bytes, file has %zu",
		       need, size);
}

static int parse_header(const uint8_t *b, size_t size, struct snap_header *h,
			char *kite_version)
{
	uint32_t version;
	size_t vlen;

	if (size == 0)
		return err_set(-EINVAL, "snapshot truncated: the file is empty");
	if (memcmp(b, SNAP_MAGIC, size < SNAP_MAGIC_LEN ? size : SNAP_MAGIC_LEN))
		return err_set(-EINVAL, "not a kite snapshot: the file does not start with \"%s\"",
			       SNAP_MAGIC);
	if (size < 12)
		return truncated_header(size, SNAP_HEADER_FIXED);
	/* Checked before anything else: another version may lay out the rest
	 * differently, and "unknown version" is the message that helps. */
	version = (uint32_t)le_get(b + 8, 4);
	if (version != SNAP_FORMAT_VERSION)
		return err_set(-EPROTONOSUPPORT,
			       "snapshot format version %u is not supported: this kite reads version %u",
			       version, SNAP_FORMAT_VERSION);
	if (size < SNAP_HEADER_FIXED)
		return truncated_header(size, SNAP_HEADER_FIXED);
	h->nr = (uint32_t)le_get(b + 12, 4);
	h->total_len = le_get(b + 16, 8);
	vlen = (size_t)le_get(b + 24, 2);
	if (vlen == 0 || vlen > SNAP_KITE_VERSION_MAX)
		return err_set(-EINVAL, "snapshot malformed: kite version length %zu (must be 1 to %d)",
			       vlen, SNAP_KITE_VERSION_MAX);
	h->end = SNAP_HEADER_FIXED + vlen;
	if (size < h->end)
		return truncated_header(size, h->end);
	if (!kite_version_valid((const char *)b + SNAP_HEADER_FIXED, vlen))
		return err_set(-EINVAL, "snapshot malformed: the kite version is not printable text");
	if (h->nr > SNAP_MAX_SECTIONS)
		return err_set(-EINVAL, "snapshot malformed: %u sections, more than the limit of %u",
			       h->nr, SNAP_MAX_SECTIONS);
	memcpy(kite_version, b + SNAP_HEADER_FIXED, vlen);
	kite_version[vlen] = '\0';
	return 0;
}

/* Check the name field of section @idx at @off and copy it to @name. */
static int parse_name(const uint8_t *field, unsigned int idx, size_t off, char *name)
{
	const uint8_t *nul = memchr(field, '\0', SNAP_NAME_FIELD);
	size_t n;

	if (!nul)
		return err_set(-EINVAL, "snapshot malformed: section %u at offset %zu: name is not NUL-terminated",
			       idx, off);
	n = (size_t)(nul - field);
	if (n == 0)
		return err_set(-EINVAL, "snapshot malformed: section %u at offset %zu: name is empty",
			       idx, off);
	for (size_t i = 0; i < n; i++)
		if (!name_char_valid((char)field[i]))
			return err_set(-EINVAL, "snapshot malformed: section %u at offset %zu: name has a bad byte 0x%02x",
				       idx, off, field[i]);
	/* Padding must be zero so that nothing hides in it and each image has
	 * one encoding. */
	for (size_t i = n; i < SNAP_NAME_FIELD; i++)
		if (field[i])
			return err_set(-EINVAL, "snapshot malformed: section %u at offset %zu: name padding is not zero",
				       idx, off);
	memcpy(name, field, n + 1);
	return 0;
}

/*
 * Walk the sections and the trailer of a file of @size bytes.  With @img,
 * fill its (already allocated) sections.  Every length is checked against
 * what is left before it is used, so no offset can pass @size.
 */
static int walk(const uint8_t *b, size_t size, const struct snap_header *h,
		struct snap_image *img, struct snap_walk *w)
{
	char name[SNAP_NAME_FIELD];
	size_t off = h->end;
	uint64_t len;
	int ret;

	memset(w, 0, sizeof(*w));
	for (unsigned int i = 0; i < h->nr; i++) {
		if (size - off < SNAP_SECTION_HEADER) {
			w->cut = true;
			return err_set(-EINVAL, "snapshot truncated: section %u of %u needs a %d-byte header at offset %zu, file has %zu",
				       i, h->nr, SNAP_SECTION_HEADER, off, size);
		}
		ret = parse_name(b + off, i, off, name);
		if (ret)
			return ret;
		len = le_get(b + off + 36, 8);
		if (len > size - off - SNAP_SECTION_HEADER) {
			w->cut = true;
			return err_set(-EINVAL, "snapshot truncated: section '%s' needs %llu bytes at offset %zu, file has %zu",
				       name, (unsigned long long)len,
				       off + SNAP_SECTION_HEADER, size);
		}
		if (img) {
			struct snap_section *s = &img->sections[i];

			memcpy(s->name, name, sizeof(s->name));
			s->version = (uint32_t)le_get(b + off + 32, 4);
			s->len = (size_t)len;
			s->data = len ? b + off + SNAP_SECTION_HEADER : NULL;
			img->nr = i + 1;
		}
		off += SNAP_SECTION_HEADER + (size_t)len;
	}
	if (size - off < SNAP_TRAILER) {
		w->cut = true;
		return err_set(-EINVAL, "snapshot truncated: the checksum needs %d bytes at offset %zu, file has %zu",
			       SNAP_TRAILER, off, size);
	}
	off += SNAP_TRAILER;
	if (off != size) {
		w->trailing = true;
		return err_set(-EINVAL, "snapshot has %zu bytes of trailing garbage after the checksum at offset %zu",
			       size - off, off);
	}
	return 0;
}

static int checksum_mismatch(uint64_t stored, uint64_t computed)
{
	return err_set(-EBADMSG, "snapshot checksum mismatch: stored 0x%016llx, computed 0x%016llx (the file is corrupted)",
		       (unsigned long long)stored, (unsigned long long)computed);
}

/*
 * The checksum failed: say why as precisely as the bytes allow.  The file's
 * size against the recorded total length tells truncation and appended bytes
 * from corruption in place; the walk then names the cut or the extra bytes.
 * A walk that fits exactly means a length field itself was damaged.
 */
static int diagnose(const uint8_t *b, size_t size, const struct snap_header *h)
{
	struct snap_walk w;
	int ret = walk(b, size, h, NULL, &w);
	uint64_t stored, computed;

	if (size < h->end + SNAP_TRAILER)
		return ret;	/* no trailer at all: the walk reported the cut */
	if (size < h->total_len && ret)
		return w.cut ? ret : err_set(-EINVAL, "snapshot truncated: the header records %llu bytes, file has %zu",
					     (unsigned long long)h->total_len, size);
	if (size > h->total_len && ret)
		return w.trailing ? ret : err_set(-EINVAL, "snapshot has %llu bytes of trailing garbage after its recorded length of %llu",
						  (unsigned long long)(size - h->total_len),
						  (unsigned long long)h->total_len);
	stored = le_get(b + size - SNAP_TRAILER, 8);
	computed = crc64_update(0, b, size - SNAP_TRAILER);
	return checksum_mismatch(stored, computed);
}

static int cmp_names(const void *a, const void *b)
{
	const struct snap_section *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Sorted, not compared pairwise: 16384 sections would be 10^8 compares. */
static int check_duplicates(const struct snap_image *img)
{
	const struct snap_section **by_name;
	int ret = 0;

	if (img->nr < 2)
		return 0;
	by_name = malloc(img->nr * sizeof(*by_name));
	if (!by_name)
		return err_set(-ENOMEM, "snapshot: out of memory");
	for (unsigned int i = 0; i < img->nr; i++)
		by_name[i] = &img->sections[i];
	qsort(by_name, img->nr, sizeof(*by_name), cmp_names);
	for (unsigned int i = 1; i < img->nr && !ret; i++)
		if (!strcmp(by_name[i - 1]->name, by_name[i]->name))
			ret = err_set(-EINVAL, "snapshot malformed: two sections are named '%s'",
				      by_name[i]->name);
	free(by_name);
	return ret;
}

/*
 * The checksum is good, which also means size >= h->end + SNAP_TRAILER: check
 * the structure and fill @img's sections.
 */
static int parse_sections(struct snap_image *img, const uint8_t *b, size_t size,
			  const struct snap_header *h)
{
	struct snap_walk w;
	int ret;

	if (h->total_len != size)
		return err_set(-EINVAL, "snapshot malformed: the header records %llu bytes, file has %zu",
			       (unsigned long long)h->total_len, size);
	/* Bound the allocation by the file before trusting the count. */
	if (h->nr > (size - h->end - SNAP_TRAILER) / SNAP_SECTION_HEADER)
		return err_set(-EINVAL, "snapshot malformed: %u sections cannot fit in %zu bytes",
			       h->nr, size);
	if (h->nr) {
		img->sections = calloc(h->nr, sizeof(*img->sections));
		if (!img->sections)
			return err_set(-ENOMEM, "snapshot: out of memory for %u sections", h->nr);
		img->cap = h->nr;
	}
	ret = walk(b, size, h, img, &w);
	return ret ? ret : check_duplicates(img);
}

int snap_image_parse_owned(struct snap_image *img, uint8_t *blob, size_t len)
{
	struct snap_header h;
	int ret;

	memset(img, 0, sizeof(*img));
	img->blob = blob;
	img->blob_len = len;
	ret = parse_header(blob, len, &h, img->kite_version);
	if (ret)
		goto fail;
	if (len < h.end + SNAP_TRAILER ||
	    le_get(blob + len - SNAP_TRAILER, 8) != crc64_update(0, blob, len - SNAP_TRAILER)) {
		ret = diagnose(blob, len, &h);
		goto fail;
	}
	ret = parse_sections(img, blob, len, &h);
	if (ret)
		goto fail;
	return 0;
fail:
	snap_image_free(img);
	return ret;
}

int snap_image_parse(struct snap_image *img, const void *buf, size_t len)
{
	uint8_t *blob = NULL;

	if (len) {
		blob = malloc(len);
		if (!blob) {
			memset(img, 0, sizeof(*img));
			return err_set(-ENOMEM, "snapshot of %zu bytes: out of memory", len);
		}
		memcpy(blob, buf, len);
	}
	return snap_image_parse_owned(img, blob, len);
}

/* ----------------------------------------------------------------- lookup */

int snap_image_require(const struct snap_image *img, const char *name,
		       uint32_t min_version, uint32_t max_version,
		       const struct snap_section **out)
{
	const struct snap_section *s = snap_image_find(img, name);

	*out = NULL;
	if (!s)
		return err_set(-ENOENT, "snapshot has no section '%s'", name);
	if (s->version < min_version || s->version > max_version) {
		if (min_version == max_version)
			return err_set(-EPROTONOSUPPORT, "snapshot section '%s' has version %u, this kite loads version %u",
				       name, s->version, min_version);
		return err_set(-EPROTONOSUPPORT, "snapshot section '%s' has version %u, this kite loads versions %u to %u",
			       name, s->version, min_version, max_version);
	}
	*out = s;
	return 0;
}

void snap_dec_init_section(struct snap_dec *dec, const struct snap_section *sec)
{
	snap_dec_init(dec, sec->name, sec->data, sec->len);
}
