// SPDX-License-Identifier: MIT
/*
 * fuzz_dev_state.c - the decoders of device state values (DEV_ATTR_BYTES
 * setters) on arbitrary bytes, as a snapshot restore or a migration
 * receiver meets them: the serial FIFO, the i8042 output buffer, and a
 * virtio device's virtio_state and transport_state on virtio-mmio and on
 * virtio-pci (rings checked against 1 MiB of guest RAM).
 *
 * Input: one selector byte (which device and attribute, modulo 6), then
 * the value.  Devices are built fresh for every input, with their I/O
 * threads not started (a VM being restored).
 *
 * Beyond "no crash": a refused value leaves a message naming the device
 * and reads back exactly as before; an accepted one reads back as a value
 * that is accepted again and then reads back the same.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr_space.h"
#include "core/irq_router.h"
#include "core/runstate.h"
#include "devices/legacy.h"
#include "devices/serial.h"
#include "devices/virtio/virtio_devs.h"
#include "virtio/mmio.h"
#include "virtio/virtio_pci.h"

#define RAM_SIZE	(1u << 20)
#define NR_TARGETS	6

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct addr_space as;
static uint8_t *ram;

/* Guest RAM once: nothing here writes it (no device thread runs). */
static void ram_init(void)
{
	if (ram)
		return;
	ram = aligned_alloc(4096, RAM_SIZE);
	if (!ram)
		abort();
	memset(ram, 0, RAM_SIZE);
	as_init(&as);
	if (as_add_region(&as, 0, RAM_SIZE, ram, -1, 0, 0))
		abort();
}

static bool same(const struct dev_value *a, const struct dev_value *b)
{
	return a->len == b->len && !memcmp(a->bytes, b->bytes, a->len);
}

/* Write @in to @attr of @dev and check the contract in the file's header. */
static void exercise(struct device *dev, const char *attr, const struct dev_value *in)
{
	struct dev_value before, after, again;
	int ret;

	if (dev_attr_get(dev, attr, &before))
		abort();
	ret = dev_attr_set(dev, attr, in, true);
	if (dev_attr_get(dev, attr, &after))
		abort();
	if (ret == -EINVAL) {
		if (strncmp(err_msg(), "device '", 8) || !same(&before, &after))
			abort();
	} else if (!ret) {
		if (dev_attr_set(dev, attr, &after, true) || dev_attr_get(dev, attr, &again) ||
		    !same(&after, &again))
			abort();
		dev_value_release(&again);
	} else if (ret != -EIO) {	/* -EIO: a device's activate hook failed */
		abort();
	}
	dev_value_release(&before);
	dev_value_release(&after);
}

static void fuzz_serial(const struct dev_value *in)
{
	struct serial s;
	struct device dev = { .id = "serial0", .cls = &serial_class, .priv = &s };

	serial_init(&s, (struct irq_line){ .vm_fd = -1 }, -1, -1);
	exercise(&dev, "rx_fifo", in);
	serial_destroy(&s);
}

static void fuzz_i8042(const struct dev_value *in)
{
	struct runstate rs;
	struct i8042 k;
	struct bus pio;
	struct device dev = { .id = "i8042", .cls = &i8042_class, .priv = &k };

	bus_init(&pio, "pio");
	if (runstate_init(&rs) || i8042_init(&k, &rs, &pio, (struct irq_line){ .vm_fd = -1 }))
		abort();
	exercise(&dev, "output_queue", in);
	i8042_destroy(&k);
	bus_destroy(&pio);
	runstate_destroy(&rs);
}

static void fuzz_mmio(const char *attr, const struct dev_value *in)
{
	struct virtio_mmio m;
	struct virtio_dev *vd;
	struct bus mmio;

	bus_init(&mmio, "mmio");
	memset(&m, 0, sizeof(m));
	if (virtio_rng_create("rng0", &as, &vd) ||
	    virtio_mmio_attach(&m, vd, &mmio, 0xd0000000, (struct irq_line){ .vm_fd = -1 }, -1))
		abort();
	exercise(&vd->dev, attr, in);
	virtio_mmio_detach(&m);
	virtio_dev_destroy(vd);
	bus_destroy(&mmio);
}

static void fuzz_pci(const char *attr, const struct dev_value *in)
{
	struct bus pio, mmio;
	struct irq_router router;
	struct pci_bus *pci = calloc(1, sizeof(*pci));
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	struct virtio_dev *vd;

	if (!pci || !vp)
		abort();
	bus_init(&pio, "pio");
	bus_init(&mmio, "mmio");
	if (irq_router_init(&router, -1, IRQ_ROUTES_MAX) ||
	    pci_bus_init(pci, &pio, &mmio, &router, -1) || virtio_rng_create("rng0", &as, &vd) ||
	    virtio_pci_attach(vp, vd, pci, 1))
		abort();
	exercise(&vd->dev, attr, in);
	virtio_pci_detach(vp);
	virtio_dev_destroy(vd);
	virtio_pci_release(vp);
	pci_bus_destroy(pci);
	irq_router_destroy(&router);
	bus_destroy(&pio);
	bus_destroy(&mmio);
	free(vp);
	free(pci);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev_value in = { .type = DEV_ATTR_BYTES };
	uint8_t *copy;

	if (!size || size - 1 > DEV_BYTES_MAX)
		return 0;
	ram_init();
	/* An exact-size copy, so that any read past the value is caught. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	in.bytes = copy;
	in.len = size - 1;
	switch (data[0] % NR_TARGETS) {
	case 0: fuzz_serial(&in); break;
	case 1: fuzz_i8042(&in); break;
	case 2: fuzz_mmio("virtio_state", &in); break;
	case 3: fuzz_mmio("transport_state", &in); break;
	case 4: fuzz_pci("virtio_state", &in); break;
	default: fuzz_pci("transport_state", &in); break;
	}
	free(copy);
	return 0;
}
