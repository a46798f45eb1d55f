/* SPDX-License-Identifier: MIT */
/*
 * pci_rig.h - a guest's accesses to a virtio-pci function without KVM:
 * plain bus reads and writes, config space through CF8/CFC on the PIO bus,
 * the common configuration through BAR 4 on the MMIO bus.  Shared by the
 * virtio-pci unit tests.
 *
 * The including file defines SLOT (the function's device number on bus 0)
 * and a `struct rig` whose members include:  struct bus pio, mmio;
 * uint64_t bar4;  (plus its own), then includes this header.
 */
#ifndef KITE_TEST_PCI_RIG_H
#define KITE_TEST_PCI_RIG_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/bus.h"
#include "virtio/virtio_pci.h"

static uint64_t rd(struct bus *bus, uint64_t addr, uint32_t size)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	bus_access(bus, addr, b, size, false);
	memcpy(&v, b, size);
	return v;
}

static void wr(struct bus *bus, uint64_t addr, uint64_t v, uint32_t size)
{
	uint8_t b[8];

	memcpy(b, &v, 8);
	bus_access(bus, addr, b, size, true);
}

static uint64_t cfg_rd(struct rig *r, uint32_t reg, uint32_t size)
{
	wr(&r->pio, 0xcf8, 0x80000000u | SLOT << 11 | (reg & 0xfc), 4);
	return rd(&r->pio, 0xcfc + (reg & 3), size);
}

static void cfg_wr(struct rig *r, uint32_t reg, uint64_t v, uint32_t size)
{
	wr(&r->pio, 0xcf8, 0x80000000u | SLOT << 11 | (reg & 0xfc), 4);
	wr(&r->pio, 0xcfc + (reg & 3), v, size);
}

static uint64_t common_rd(struct rig *r, uint32_t off, uint32_t size)
{
	return rd(&r->mmio, r->bar4 + VIRTIO_PCI_COMMON_OFF + off, size);
}

static void common_wr(struct rig *r, uint32_t off, uint64_t v, uint32_t size)
{
	wr(&r->mmio, r->bar4 + VIRTIO_PCI_COMMON_OFF + off, v, size);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

#endif
