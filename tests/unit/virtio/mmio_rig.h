/* SPDX-License-Identifier: MIT */
/*
 * mmio_rig.h - a virtio device behind the virtio-mmio transport, driven as
 * a guest driver would (register accesses on an MMIO bus, rings in a RAM
 * region), without KVM.  Shared by the virtio unit tests.
 *
 * The including file defines RAM_SIZE, BASE and a `struct rig` whose
 * members include:  struct addr_space as; uint8_t *ram; struct bus mmio;
 * struct virtio_mmio m; struct virtio_dev *vd;  (plus its own), then
 * includes this header.
 */
#ifndef KITE_TEST_VIRTIO_MMIO_RIG_H
#define KITE_TEST_VIRTIO_MMIO_RIG_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "virtio/mmio.h"

static uint32_t rd32(struct rig *r, uint64_t off)
{
	uint8_t b[4] = { 0 };

	bus_access(&r->mmio, BASE + off, b, 4, false);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void wr32(struct rig *r, uint64_t off, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	bus_access(&r->mmio, BASE + off, b, 4, true);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* RAM at [0, RAM_SIZE), the device at BASE on IRQ 5 (unconnected), its
 * thread not started yet (a VM being built, or restored). */
static inline int rig_attach(struct rig *r, struct virtio_dev *vd)
{
	memset(r, 0, sizeof(*r));
	as_init(&r->as);
	r->ram = aligned_alloc(4096, RAM_SIZE);
	if (!r->ram)
		return -1;
	memset(r->ram, 0, RAM_SIZE);
	if (as_add_region(&r->as, 0, RAM_SIZE, r->ram, -1, 0, 0))
		return -1;
	bus_init(&r->mmio, "mmio");
	r->vd = vd;
	vd->as = &r->as;
	if (virtio_mmio_attach(&r->m, vd, &r->mmio, BASE, (struct irq_line){ .vm_fd = -1, .gsi = 5 },
			       -1))
		return -1;
	bus_set_live(&r->mmio);
	return 0;
}

/* rig_attach() and the device's thread started. */
static int rig_init(struct rig *r, struct virtio_dev *vd)
{
	return rig_attach(r, vd) ? -1 : virtio_dev_start(vd);
}

/* Stop the device thread first, then the transport, then free everything. */
static void rig_destroy(struct rig *r)
{
	virtio_dev_stop(r->vd);
	virtio_mmio_detach(&r->m);
	virtio_dev_destroy(r->vd);
	bus_destroy(&r->mmio);
	as_destroy(&r->as);
	free(r->ram);
}

#endif
