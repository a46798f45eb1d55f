// SPDX-License-Identifier: MIT
/*
 * mmio.c - the virtio-mmio transport, version 2.  See mmio.h.
 */
#include "virtio/mmio.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/le.h"
#include "core/log.h"
#include "kvm/kvm.h"

/* Registers of the selected queue (under vd->lock). */
static uint32_t mmio_queue_read(struct virtio_dev *vd, uint64_t off)
{
	struct virtio_queue *q = virtio_queue_get(vd, vd->queue_sel);

	if (!q)
		return 0;	/* QueueNumMax 0: no such queue */
	switch (off) {
	case VMMIO_QUEUE_NUM_MAX: return q->max_size;
	case VMMIO_QUEUE_READY: return q->enabled;
	case VMMIO_QUEUE_RESET: return 0;
	default: return 0;
	}
}

static uint32_t mmio_reg_read(struct virtio_mmio *m, uint64_t off)
{
	struct virtio_dev *vd = m->vd;
	uint32_t v;

	switch (off) {
	case VMMIO_MAGIC: return VIRTIO_MMIO_MAGIC;
	case VMMIO_VERSION: return VIRTIO_MMIO_VERSION;
	case VMMIO_DEVICE_ID: return vd->ops->device_id;
	case VMMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case VMMIO_STATUS: return virtio_read_status(vd);
	case VMMIO_SHM_LEN_LO:
	case VMMIO_SHM_LEN_HI: return 0xffffffff;	/* no shared memory regions */
	case VMMIO_SHM_BASE_LO:
	case VMMIO_SHM_BASE_HI: return 0xffffffff;
	default: break;
	}
	virtio_lock(vd);
	switch (off) {
	case VMMIO_DEV_FEATURES:
		v = vd->host_features_sel < 2 ?
			(uint32_t)(vd->host_features >> (32 * vd->host_features_sel)) : 0;
		break;
	case VMMIO_INT_STATUS: v = vd->isr; break;
	case VMMIO_CONFIG_GEN: v = vd->config_generation; break;
	case VMMIO_QUEUE_NUM_MAX:
	case VMMIO_QUEUE_READY:
	case VMMIO_QUEUE_RESET:
		v = mmio_queue_read(vd, off);
		break;
	default: v = 0; break;	/* write-only or reserved */
	}
	virtio_unlock(vd);
	return v;
}

static void set_lo(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffff00000000ULL) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffULL) | (uint64_t)v << 32;
}

/* Writes to the selected queue's registers (under vd->lock). */
static void mmio_queue_write(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	struct virtio_queue *q = virtio_queue_get(vd, vd->queue_sel);

	if (!q || !virtio_queue_writable(vd)) {
		log_debug("%s: queue register 0x%" PRIx64 " write ignored", vd->dev.id, off);
		return;
	}
	switch (off) {
	case VMMIO_QUEUE_NUM: q->size = v > 0xffff ? 0 : (uint16_t)v; break;
	case VMMIO_QUEUE_READY: q->enabled = v & 1; break;
	case VMMIO_QUEUE_DESC_LO: set_lo(&q->desc, v); break;
	case VMMIO_QUEUE_DESC_HI: set_hi(&q->desc, v); break;
	case VMMIO_QUEUE_DRIVER_LO: set_lo(&q->driver, v); break;
	case VMMIO_QUEUE_DRIVER_HI: set_hi(&q->driver, v); break;
	case VMMIO_QUEUE_DEVICE_LO: set_lo(&q->device, v); break;
	case VMMIO_QUEUE_DEVICE_HI: set_hi(&q->device, v); break;
	default: break;
	}
}

static void mmio_reg_write(struct virtio_mmio *m, uint64_t off, uint32_t v)
{
	struct virtio_dev *vd = m->vd;

	switch (off) {
	case VMMIO_STATUS:
		virtio_write_status(vd, (uint8_t)v);
		return;
	case VMMIO_QUEUE_NOTIFY:
		virtio_kick(vd, v & 0xffff);	/* only without an ioeventfd */
		return;
	case VMMIO_INT_ACK:
		virtio_isr_ack(vd, (uint8_t)v);
		return;
	case VMMIO_DRV_FEATURES: {
		uint32_t sel;

		virtio_lock(vd);
		sel = vd->guest_features_sel;
		virtio_unlock(vd);
		virtio_write_guest_features(vd, sel, v);
		return;
	}
	default:
		break;
	}
	virtio_lock(vd);
	switch (off) {
	case VMMIO_DEV_FEATURES_SEL: vd->host_features_sel = v; break;
	case VMMIO_DRV_FEATURES_SEL: vd->guest_features_sel = v; break;
	case VMMIO_QUEUE_SEL: vd->queue_sel = v > 0xffff ? 0xffff : (uint16_t)v; break;
	default: mmio_queue_write(vd, off, v); break;
	}
	virtio_unlock(vd);
}

static void mmio_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct virtio_mmio *m = opaque;

	if (off >= VMMIO_CONFIG) {
		virtio_config_read(m->vd, (uint32_t)(off - VMMIO_CONFIG), data, size);
		return;
	}
	if (size != 4 || (off & 3)) {
		memset(data, 0, size);	/* registers are 32-bit only */
		return;
	}
	le_put(data, mmio_reg_read(m, off), 4);
}

static void mmio_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct virtio_mmio *m = opaque;

	if (off >= VMMIO_CONFIG) {
		virtio_config_write(m->vd, (uint32_t)(off - VMMIO_CONFIG), data, size);
		return;
	}
	if (size != 4 || (off & 3))
		return;
	mmio_reg_write(m, off, (uint32_t)le_get(data, 4));
}

static const struct bus_ops virtio_mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

/* ---- interrupts (I/O thread) ---- */

static void mmio_raise(struct virtio_dev *vd, uint8_t bit)
{
	struct virtio_mmio *m = vd->transport;

	virtio_lock(vd);
	vd->isr |= bit;
	virtio_unlock(vd);
	irq_line_set(&m->irq, 1);	/* an edge per event; the ISR says which */
}

static void mmio_notify_queue(struct virtio_dev *vd, unsigned int q)
{
	(void)q;
	mmio_raise(vd, VIRTIO_ISR_QUEUE);
}

static void mmio_notify_config(struct virtio_dev *vd)
{
	mmio_raise(vd, VIRTIO_ISR_CONFIG);
}

/*
 * After a restore: an ISR with bits set means the driver has an interrupt
 * to handle.  The edge that announced it lives in the restored interrupt
 * controller state, if it was not handled yet; one more edge costs at most
 * a spurious interrupt (the driver reads a clear ISR), while a lost one
 * would stall the driver.  No transport_state: every virtio-mmio register
 * is in the core (virtio_state); base and IRQ are the machine's layout.
 */
static void mmio_restored(struct virtio_dev *vd)
{
	struct virtio_mmio *m = vd->transport;
	uint8_t isr;

	virtio_lock(vd);
	isr = vd->isr;
	virtio_unlock(vd);
	if (isr)
		irq_line_set(&m->irq, 1);
}

static const struct virtio_transport_ops virtio_mmio_tops = {
	.id = VIRTIO_TID_MMIO,
	.notify_queue = mmio_notify_queue,
	.notify_config = mmio_notify_config,
	.restored = mmio_restored,
};

static int mmio_bind_ioeventfds(struct virtio_mmio *m, bool assign)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < m->vd->nr_queues; i++) {
		int r = kvm_vm_ioeventfd(m->vm_fd, m->vd->queues[i].kick_fd,
					 m->base + VMMIO_QUEUE_NOTIFY, 4, false, true, i, assign);

		if (r && !ret)
			ret = r;
	}
	return ret;
}

int virtio_mmio_attach(struct virtio_mmio *m, struct virtio_dev *vd, struct bus *mmio,
		       uint64_t base, struct irq_line irq, int vm_fd)
{
	int ret;

	m->vd = vd;
	m->base = base;
	m->irq = irq;
	m->vm_fd = vm_fd;
	m->mmio = mmio;
	vd->transport = m;
	vd->tops = &virtio_mmio_tops;
	ret = irq_line_attach_irqfd(&m->irq);
	if (ret)
		return ret;
	ret = bus_register(mmio, base, VIRTIO_MMIO_REGS_SIZE, &virtio_mmio_ops, m, vd->dev.id);
	if (ret)
		return ret;
	m->registered = true;
	dev_add_resource(&vd->dev, DEV_RES_MMIO, base, VIRTIO_MMIO_REGS_SIZE);
	dev_add_resource(&vd->dev, DEV_RES_IRQ, irq.gsi, 1);
	if (vm_fd < 0)
		return 0;
	ret = mmio_bind_ioeventfds(m, true);
	if (ret)
		return ret;
	m->ioeventfds = true;
	return 0;
}

void virtio_mmio_detach(struct virtio_mmio *m)
{
	if (m->ioeventfds && mmio_bind_ioeventfds(m, false))
		log_warn("%s", err_msg());
	m->ioeventfds = false;
	if (m->registered && bus_unregister(m->mmio, m->base))
		log_warn("%s", err_msg());
	m->registered = false;
	irq_line_detach(&m->irq);
}

int virtio_mmio_cmdline(const struct virtio_mmio *m, char *buf, size_t size)
{
	size_t len = strnlen(buf, size);
	int n;

	if (len >= size)
		return -ENOSPC;
	n = snprintf(buf + len, size - len, "%svirtio_mmio.device=%u@0x%" PRIx64 ":%u",
		     len ? " " : "", VIRTIO_MMIO_REGS_SIZE, m->base, m->irq.gsi);
	if (n < 0 || (size_t)n >= size - len) {
		buf[len] = '\0';
		return -ENOSPC;
	}
	return 0;
}
