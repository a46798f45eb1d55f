/* SPDX-License-Identifier: MIT */
/*
 * dev_state.h - device state as DEV_ATTR_BYTES values (core/device.h).
 *
 * A state value is one layout version byte followed by fields of fixed
 * width, little-endian, in an order the device documents next to its
 * encoder.  A device that changes the layout bumps the version byte (and its
 * class's state_version) and refuses versions it does not know.
 *
 * Writer: a getter allocates the value for the largest layout it can produce
 * (ds_writer_start) and puts fields; ds_writer_end() trims the length.
 * Reader: state written back is untrusted (a snapshot file, an API client),
 * so every get is bounded and the first failure is sticky: later gets return
 * zeros, and ds_reader_end() reports that first failure with a message that
 * names the attribute and the offset ("virtio_state: truncated at byte 40:
 * need 8 bytes, 4 left"), or bytes left over.  A setter decodes and checks
 * the whole value before it changes anything, so that a refused value leaves
 * the device exactly as it was.
 */
#ifndef KITE_CORE_DEV_STATE_H
#define KITE_CORE_DEV_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/device.h"
#include "core/error.h"
#include "core/le_reader.h"

#define DS_MSG_MAX	200

struct ds_writer {
	struct dev_value *v;	/* NULL after an allocation failure */
	size_t len;
	bool overflow;		/* a layout bug: more than ds_writer_start's @max */
};

/* in.name is the attribute, the first word of every message. */
struct ds_reader {
	struct le_reader in;
};

/* Allocate @v for at most @max bytes and put the layout @version byte. */
void ds_writer_start(struct ds_writer *w, struct dev_value *v, size_t max, uint8_t version);
void ds_put_u8(struct ds_writer *w, uint8_t x);
void ds_put_u16(struct ds_writer *w, uint16_t x);
void ds_put_u32(struct ds_writer *w, uint32_t x);
void ds_put_u64(struct ds_writer *w, uint64_t x);
void ds_put_bytes(struct ds_writer *w, const void *p, size_t n);
/* Set the value's length to what was put (a layout overflow frees it). */
void ds_writer_end(struct ds_writer *w);

/*
 * Read @v (a BYTES value) as attribute @what and check its layout version
 * byte: 1..@max_version, else the reader fails ("layout version 3 is not
 * known: this kite reads 1 to 2").  *version gets it (0 after a failure).
 */
void ds_reader_start(struct ds_reader *r, const char *what, const struct dev_value *v,
		     uint8_t max_version, uint8_t *version);
uint8_t ds_get_u8(struct ds_reader *r);
uint16_t ds_get_u16(struct ds_reader *r);
uint32_t ds_get_u32(struct ds_reader *r);
uint64_t ds_get_u64(struct ds_reader *r);
/* @n bytes into @out (zeros once the reader failed). */
void ds_get_bytes(struct ds_reader *r, void *out, size_t n);
/* Fail the reader with a message (kept only if it is the first failure);
 * returns -EINVAL.  For checks of decoded fields: "queue 2: size 3 ...". */
int ds_fail(struct ds_reader *r, const char *fmt, ...) KITE_PRINTF(2, 3);
/*
 * End of decoding: 0 when every get succeeded, every check passed and no
 * byte is left over; else -EINVAL with the thread's message set to the
 * first failure.  Call it before changing the device.
 */
int ds_reader_end(struct ds_reader *r) KITE_WUR;

#endif
