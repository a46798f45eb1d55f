// SPDX-License-Identifier: MIT
/*
 * pci.c - the modern virtio-pci transport.  See virtio_pci.h.
 */
#include "virtio/virtio_pci.h"

#include <errno.h>
#include <string.h>

#include "core/dev_state.h"
#include "core/le.h"
#include "core/log.h"
#include "kvm/kvm.h"

static struct virtio_pci *vp_of(struct virtio_dev *vd)
{
	return vd->transport;
}

/* ---- common configuration ---- */

struct vp_field {
	uint32_t off, len;
};

static const struct vp_field vp_fields[] = {
	{ VPCI_DFSELECT, 4 }, { VPCI_DF, 4 }, { VPCI_GFSELECT, 4 }, { VPCI_GF, 4 },
	{ VPCI_MSIX_CONFIG, 2 }, { VPCI_NUM_QUEUES, 2 }, { VPCI_STATUS, 1 },
	{ VPCI_CFG_GENERATION, 1 }, { VPCI_Q_SELECT, 2 }, { VPCI_Q_SIZE, 2 },
	{ VPCI_Q_MSIX_VECTOR, 2 }, { VPCI_Q_ENABLE, 2 }, { VPCI_Q_NOTIFY_OFF, 2 },
	{ VPCI_Q_DESC, 8 }, { VPCI_Q_DRIVER, 8 }, { VPCI_Q_DEVICE, 8 },
};

/* The selected queue's registers into @b (under vd->lock). */
static void common_queue_snapshot(struct virtio_dev *vd, uint8_t *b)
{
	const struct virtio_queue *q = virtio_queue_get(vd, vd->queue_sel);

	if (!q)
		return;		/* queue_size 0: no such queue */
	le_put(b + VPCI_Q_SIZE, q->size, 2);
	le_put(b + VPCI_Q_MSIX_VECTOR, q->msix_vector, 2);
	le_put(b + VPCI_Q_ENABLE, q->enabled, 2);
	le_put(b + VPCI_Q_NOTIFY_OFF, vd->queue_sel, 2);
	le_put(b + VPCI_Q_DESC, q->desc, 8);
	le_put(b + VPCI_Q_DRIVER, q->driver, 8);
	le_put(b + VPCI_Q_DEVICE, q->device, 8);
}

/* Every common register as the driver would read it now. */
static void common_snapshot(struct virtio_dev *vd, uint8_t *b)
{
	uint32_t dfsel, gfsel;

	memset(b, 0, VPCI_COMMON_LEN);
	virtio_lock(vd);
	dfsel = vd->host_features_sel;
	gfsel = vd->guest_features_sel;
	le_put(b + VPCI_DFSELECT, dfsel, 4);
	le_put(b + VPCI_GFSELECT, gfsel, 4);
	le_put(b + VPCI_MSIX_CONFIG, vd->msix_config, 2);
	le_put(b + VPCI_NUM_QUEUES, vd->nr_queues, 2);
	le_put(b + VPCI_CFG_GENERATION, vd->config_generation, 1);
	le_put(b + VPCI_Q_SELECT, vd->queue_sel, 2);
	common_queue_snapshot(vd, b);
	virtio_unlock(vd);
	le_put(b + VPCI_DF, virtio_read_host_features(vd, dfsel), 4);
	le_put(b + VPCI_GF, virtio_read_guest_features(vd, gfsel), 4);
	le_put(b + VPCI_STATUS, virtio_read_status(vd), 1);
}

/* A vector number the driver may store: one we have, or NO_VECTOR. */
static uint16_t vp_vector(const struct virtio_pci *vp, uint64_t v)
{
	return v < vp->msix.nr ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

/* Writes to the selected queue (under vd->lock). */
static void common_queue_write(struct virtio_pci *vp, uint32_t off, uint64_t v)
{
	struct virtio_dev *vd = vp->vd;
	struct virtio_queue *q = virtio_queue_get(vd, vd->queue_sel);

	if (!q)
		return;
	if (off == VPCI_Q_MSIX_VECTOR) {
		q->msix_vector = vp_vector(vp, v);
		return;
	}
	if (!virtio_queue_writable(vd)) {
		log_debug("%s: queue register 0x%x write ignored", vd->dev.id, off);
		return;
	}
	switch (off) {
	case VPCI_Q_SIZE: q->size = (uint16_t)v; break;
	case VPCI_Q_ENABLE: q->enabled = v & 1; break;
	case VPCI_Q_DESC: q->desc = v; break;
	case VPCI_Q_DRIVER: q->driver = v; break;
	case VPCI_Q_DEVICE: q->device = v; break;
	default: break;		/* read-only */
	}
}

static void common_field_write(struct virtio_pci *vp, uint32_t off, uint64_t v)
{
	struct virtio_dev *vd = vp->vd;

	switch (off) {
	case VPCI_STATUS:
		virtio_write_status(vd, (uint8_t)v);
		return;
	case VPCI_GF: {
		uint32_t sel;

		virtio_lock(vd);
		sel = vd->guest_features_sel;
		virtio_unlock(vd);
		virtio_write_guest_features(vd, sel, (uint32_t)v);
		return;
	}
	default:
		break;
	}
	virtio_lock(vd);
	switch (off) {
	case VPCI_DFSELECT: vd->host_features_sel = (uint32_t)v; break;
	case VPCI_GFSELECT: vd->guest_features_sel = (uint32_t)v; break;
	case VPCI_MSIX_CONFIG: vd->msix_config = vp_vector(vp, v); break;
	case VPCI_Q_SELECT: vd->queue_sel = (uint16_t)v; break;
	case VPCI_DF: case VPCI_NUM_QUEUES: case VPCI_CFG_GENERATION: break;
	default: common_queue_write(vp, off, v); break;
	}
	virtio_unlock(vd);
}

static void common_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct virtio_pci *vp = opaque;
	uint8_t b[VPCI_COMMON_LEN];
	uint32_t i;

	common_snapshot(vp->vd, b);
	for (i = 0; i < size; i++)
		data[i] = off + i < VPCI_COMMON_LEN ? b[off + i] : 0;
}

/*
 * Merge the written bytes into each register they touch and write that
 * register whole: drivers write 64-bit registers as two dwords, and a
 * sub-register write keeps the register's other bytes.
 */
static void common_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct virtio_pci *vp = opaque;
	uint8_t b[VPCI_COMMON_LEN];
	unsigned int i;

	if (off >= VPCI_COMMON_LEN)
		return;
	if (size > VPCI_COMMON_LEN - off)
		size = (uint32_t)(VPCI_COMMON_LEN - off);
	common_snapshot(vp->vd, b);
	memcpy(b + off, data, size);
	for (i = 0; i < sizeof(vp_fields) / sizeof(vp_fields[0]); i++) {
		const struct vp_field *f = &vp_fields[i];

		if (off < f->off + f->len && f->off < off + size)
			common_field_write(vp, f->off, le_get(b + f->off, f->len));
	}
}

static const struct bus_ops common_ops = { .read = common_read, .write = common_write };

/* ---- ISR, device configuration, notifications ---- */

static void isr_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct virtio_pci *vp = opaque;

	memset(data, 0, size);
	if (off != 0)
		return;
	data[0] = virtio_isr_read_clear(vp->vd);
	pci_intx_set(&vp->pdev, 0);	/* the EOI lowers a resampled line */
}

static const struct bus_ops isr_ops = { .read = isr_read };	/* writes ignored */

static void devcfg_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	struct virtio_pci *vp = opaque;

	virtio_config_read(vp->vd, (uint32_t)off, data, size);
}

static void devcfg_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct virtio_pci *vp = opaque;

	virtio_config_write(vp->vd, (uint32_t)off, data, size);
}

static const struct bus_ops devcfg_ops = { .read = devcfg_read, .write = devcfg_write };

static void notify_read(void *opaque, uint64_t off, uint8_t *data, uint32_t size)
{
	(void)opaque;
	(void)off;
	memset(data, 0, size);
}

/* Only reached without an ioeventfd at this address. */
static void notify_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t size)
{
	struct virtio_pci *vp = opaque;

	(void)data;
	(void)size;
	virtio_kick(vp->vd, (uint32_t)(off / VIRTIO_PCI_NOTIFY_MULT));
}

static const struct bus_ops notify_ops = { .read = notify_read, .write = notify_write };

/* ---- interrupts (I/O thread) ---- */

static void vp_raise_intx(struct virtio_pci *vp, uint8_t bit)
{
	virtio_lock(vp->vd);
	vp->vd->isr |= bit;
	virtio_unlock(vp->vd);
	pci_intx_set(&vp->pdev, 1);
}

/* MSI-X @vector if MSI-X is on (NO_VECTOR: no interrupt), else INTx. */
static void vp_interrupt(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (msix_notify(&vp->msix, vector) || msix_enabled(&vp->msix))
		return;
	vp_raise_intx(vp, isr_bit);
}

static void vp_notify_queue(struct virtio_dev *vd, unsigned int q)
{
	uint16_t vector;

	virtio_lock(vd);
	vector = vd->queues[q].msix_vector;
	virtio_unlock(vd);
	vp_interrupt(vp_of(vd), vector, VIRTIO_ISR_QUEUE);
}

static void vp_notify_config(struct virtio_dev *vd)
{
	uint16_t vector;

	virtio_lock(vd);
	vector = vd->msix_config;
	virtio_unlock(vd);
	vp_interrupt(vp_of(vd), vector, VIRTIO_ISR_CONFIG);
}

/* ---- transport_state (virtio_state.c; API thread, VM paused) ---- */

/*
 * Layout after transport_state's version and transport id bytes:
 *   u16   N: config space bytes (PCI_CFG_LEGACY_SIZE)
 *   N     bytes of config space as stored: command, BARs as programmed,
 *         interrupt line, MSI-X message control, the PCI_CFG window
 *   u16   V: MSI-X vectors (the device's)
 *   V x   u32 address low, u32 address high, u32 data, u32 vector control
 *   (V + 63) / 64 x u64 pending-bit array words
 * Loading checks everything first (read-only config bits must match: the
 * same device in the same slot), then stores the MSI-X table and PBA and
 * then the config space, whose MSI-X control routes the live vectors and
 * whose BARs decode where the guest put them, ioeventfds following.
 */
struct vp_state {
	uint8_t cfg[PCI_CFG_LEGACY_SIZE];
	uint32_t entry[MSIX_MAX_VECTORS][4];
	uint64_t pba[MSIX_MAX_VECTORS / 64];
};

static void vp_state_save(struct virtio_dev *vd, struct ds_writer *w)
{
	struct virtio_pci *vp = vp_of(vd);
	struct vp_state st;
	unsigned int i, k;

	pci_dev_save_config(&vp->pdev, st.cfg);
	msix_get_state(&vp->msix, st.entry, st.pba);
	ds_put_u16(w, PCI_CFG_LEGACY_SIZE);
	ds_put_bytes(w, st.cfg, PCI_CFG_LEGACY_SIZE);
	ds_put_u16(w, (uint16_t)vp->msix.nr);
	for (i = 0; i < vp->msix.nr; i++)
		for (k = 0; k < 4; k++)
			ds_put_u32(w, st.entry[i][k]);
	for (i = 0; i < msix_pba_size(vp->msix.nr) / 8; i++)
		ds_put_u64(w, st.pba[i]);
}

static void vp_state_decode(struct virtio_pci *vp, struct ds_reader *r, struct vp_state *st)
{
	unsigned int i, k, n;

	n = ds_get_u16(r);
	if (!r->in.err && n != PCI_CFG_LEGACY_SIZE) {
		ds_fail(r, "%u bytes of PCI config space (this kite saves %u)", n,
			PCI_CFG_LEGACY_SIZE);
		return;
	}
	ds_get_bytes(r, st->cfg, PCI_CFG_LEGACY_SIZE);
	n = ds_get_u16(r);
	if (!r->in.err && n != vp->msix.nr) {
		ds_fail(r, "%u MSI-X vectors, this device has %u", n, vp->msix.nr);
		return;
	}
	for (i = 0; i < vp->msix.nr; i++)
		for (k = 0; k < 4; k++)
			st->entry[i][k] = ds_get_u32(r);
	for (i = 0; i < msix_pba_size(vp->msix.nr) / 8; i++)
		st->pba[i] = ds_get_u64(r);
	if (!r->in.err && pci_dev_check_config(&vp->pdev, st->cfg))
		ds_fail(r, "%s", err_msg());
	if (!r->in.err && msix_check_state(&vp->msix, (const uint32_t (*)[4])st->entry, st->pba))
		ds_fail(r, "%s", err_msg());
}

static int vp_state_load(struct virtio_dev *vd, struct ds_reader *r)
{
	struct virtio_pci *vp = vp_of(vd);
	struct vp_state st;
	int ret;

	memset(&st, 0, sizeof(st));
	vp_state_decode(vp, r, &st);
	ret = ds_reader_end(r);
	if (ret)
		return ret;
	msix_set_state(&vp->msix, (const uint32_t (*)[4])st.entry, st.pba);
	pci_dev_load_config(&vp->pdev, st.cfg);
	return 0;
}

/* After virtio_state: INTA# is a level, asserted while the ISR has bits
 * (the restored interrupt controller may not hold the device's level). */
static void vp_restored(struct virtio_dev *vd)
{
	struct virtio_pci *vp = vp_of(vd);
	uint8_t isr;

	virtio_lock(vd);
	isr = vd->isr;
	virtio_unlock(vd);
	if (isr && !msix_enabled(&vp->msix))
		pci_intx_set(&vp->pdev, 1);
}

static const struct virtio_transport_ops vp_tops = {
	.id = VIRTIO_TID_PCI,
	.notify_queue = vp_notify_queue,
	.notify_config = vp_notify_config,
	.state_save = vp_state_save,
	.state_load = vp_state_load,
	.restored = vp_restored,
};

/* The guest EOIed INTA#: assert it again while the ISR has bits. */
static void vp_resample(struct virtio_dev *vd, int fd, void *opaque)
{
	struct virtio_pci *vp = opaque;
	bool pending;

	(void)fd;
	virtio_lock(vd);
	pending = vd->isr != 0;
	virtio_unlock(vd);
	pci_intx_resampled(&vp->pdev, pending && !msix_enabled(&vp->msix));
}

/* ---- PCI hooks (under pci->lock) ---- */

static int vp_bind_ioeventfd(struct virtio_pci *vp, unsigned int q, uint64_t base,
			     bool assign)
{
	return kvm_vm_ioeventfd(vp->vm_fd, vp->vd->queues[q].kick_fd,
				base + VIRTIO_PCI_NOTIFY_OFF + (uint64_t)q * VIRTIO_PCI_NOTIFY_MULT,
				0, false, false, 0, assign);
}

static void vp_unbind_ioeventfds(struct virtio_pci *vp)
{
	unsigned int q;

	for (q = 0; q < vp->vd->nr_queues; q++) {
		if (vp->ioeventfd[q] && vp_bind_ioeventfd(vp, q, vp->notify_addr, false))
			log_warn("%s: %s", vp->vd->dev.id, err_msg());
		vp->ioeventfd[q] = false;
	}
	vp->notify_addr = PCI_BAR_UNMAPPED;
}

/* A queue whose ioeventfd cannot be bound still works: its notify write
 * exits to user space and notify_write() kicks it. */
static void vp_bind_ioeventfds(struct virtio_pci *vp, uint64_t base)
{
	unsigned int q;

	for (q = 0; q < vp->vd->nr_queues; q++) {
		if (vp_bind_ioeventfd(vp, q, base, true))
			log_warn("%s: %s", vp->vd->dev.id, err_msg());
		else
			vp->ioeventfd[q] = true;
	}
	vp->notify_addr = base;
}

static void vp_bar_moved(struct pci_dev *pdev, unsigned int bar, uint64_t old_addr,
			 uint64_t new_addr)
{
	struct virtio_pci *vp = pdev->opaque;

	(void)old_addr;
	if (bar != VIRTIO_PCI_BAR || vp->vm_fd < 0)
		return;
	vp_unbind_ioeventfds(vp);
	if (new_addr != PCI_BAR_UNMAPPED)
		vp_bind_ioeventfds(vp, new_addr);
}

static bool overlaps(uint32_t off, uint32_t len, uint32_t start, uint32_t n)
{
	return off < start + n && start < off + len;
}

/* The PCI_CFG window's access: bar, offset, length; false if malformed. */
static bool pci_cfg_window(const struct virtio_pci *vp, unsigned int *bar, uint32_t *off,
			   uint32_t *len)
{
	const uint8_t *c = vp->pdev.cfg + vp->pci_cfg_cap;

	*bar = c[4];
	*off = pci_get_u32(c, 8);
	*len = pci_get_u32(c, 12);
	return (*len == 1 || *len == 2 || *len == 4) && *off % *len == 0;
}

static void vp_config_written(struct pci_dev *pdev, uint32_t off, uint32_t len)
{
	struct virtio_pci *vp = pdev->opaque;
	uint32_t data = vp->pci_cfg_cap + 16, boff, blen;
	unsigned int bar;

	if (!overlaps(off, len, data, 4) || !pci_cfg_window(vp, &bar, &boff, &blen))
		return;
	pci_bar_access(pdev, bar, boff, pdev->cfg + data, blen, true);
}

static void vp_config_read(struct pci_dev *pdev, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct virtio_pci *vp = pdev->opaque;
	uint32_t data = vp->pci_cfg_cap + 16, boff, blen, i;
	unsigned int bar;

	if (!overlaps(off, len, data, 4) || !pci_cfg_window(vp, &bar, &boff, &blen))
		return;
	pci_bar_access(pdev, bar, boff, pdev->cfg + data, blen, false);
	for (i = 0; i < len; i++)
		if (off + i >= data && off + i < data + 4)
			buf[i] = pdev->cfg[off + i];
}

static const struct pci_dev_ops vp_pci_ops = {
	.bar_moved = vp_bar_moved,
	.config_written = vp_config_written,
	.config_read = vp_config_read,
};

/* ---- setup ---- */

static uint32_t vp_class(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET: return 0x020000;		/* ethernet */
	case VIRTIO_ID_BLOCK: return 0x010000;		/* SCSI storage, like QEMU */
	case VIRTIO_ID_CONSOLE: return 0x078000;	/* other communication */
	default: return 0xff0000;			/* unclassified */
	}
}

static int vp_add_cap(struct virtio_pci *vp, uint8_t type, uint32_t cap_len, uint32_t off,
		      uint32_t len, uint32_t *at)
{
	uint8_t *cfg = vp->pdev.cfg;
	int ret = pci_dev_add_cap(&vp->pdev, PCI_CAP_ID_VNDR, cap_len, at);

	if (ret)
		return ret;
	cfg[*at + 2] = (uint8_t)cap_len;
	cfg[*at + 3] = type;
	cfg[*at + 4] = type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VIRTIO_PCI_BAR;
	pci_set_u32(cfg, *at + 8, off);
	pci_set_u32(cfg, *at + 12, len);
	return 0;
}

/* The four regions of BAR 4 and their capabilities. */
static int vp_add_regions(struct virtio_pci *vp)
{
	const struct { uint8_t type; uint32_t off, len; const struct bus_ops *ops; } r[] = {
		{ VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFF, VPCI_COMMON_LEN, &common_ops },
		{ VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFF, 1, &isr_ops },
		{ VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFF, vp->vd->config_len, &devcfg_ops },
		{ VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFF,
		  vp->vd->nr_queues * VIRTIO_PCI_NOTIFY_MULT, &notify_ops },
	};
	unsigned int i;
	uint32_t at;
	int ret = 0;

	for (i = 0; !ret && i < sizeof(r) / sizeof(r[0]); i++) {
		bool notify = r[i].type == VIRTIO_PCI_CAP_NOTIFY_CFG;

		if (!r[i].len)
			continue;	/* a device without config space */
		ret = pci_bar_add_region(&vp->pdev, VIRTIO_PCI_BAR, r[i].off,
					 VIRTIO_PCI_REGION_SIZE, r[i].ops, vp);
		if (!ret)
			ret = vp_add_cap(vp, r[i].type, notify ? VIRTIO_PCI_NOTIFY_CAP_LEN :
					 VIRTIO_PCI_CAP_LEN, r[i].off, r[i].len, &at);
		if (!ret && notify)
			pci_set_u32(vp->pdev.cfg, at + 16, VIRTIO_PCI_NOTIFY_MULT);
	}
	return ret;
}

/* The PCI_CFG capability: bar, offset, length and data are the driver's. */
static int vp_add_pci_cfg_cap(struct virtio_pci *vp)
{
	int ret = vp_add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_PCI_CFG_CAP_LEN, 0, 0,
			     &vp->pci_cfg_cap);

	if (ret)
		return ret;
	vp->pdev.wmask[vp->pci_cfg_cap + 4] = 0xff;
	pci_set_u32(vp->pdev.wmask, vp->pci_cfg_cap + 8, 0xffffffff);
	pci_set_u32(vp->pdev.wmask, vp->pci_cfg_cap + 12, 0xffffffff);
	pci_set_u32(vp->pdev.wmask, vp->pci_cfg_cap + 16, 0xffffffff);
	return 0;
}

static int vp_build(struct virtio_pci *vp)
{
	struct virtio_dev *vd = vp->vd;
	const struct pci_dev_id id = {
		.vendor = VIRTIO_PCI_VENDOR,
		.device = (uint16_t)(VIRTIO_PCI_DEVICE_BASE + vd->ops->device_id),
		.subsys_vendor = VIRTIO_PCI_VENDOR, .subsys_id = VIRTIO_PCI_SUBSYS_ID,
		.class_code = vp_class(vd->ops->device_id), .revision = VIRTIO_PCI_REVISION,
	};
	int ret;

	pci_dev_init(&vp->pdev, vd->dev.id, &id, &vp_pci_ops, vp);
	ret = pci_dev_add_bar(&vp->pdev, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_BAR_SIZE, 0);
	if (!ret)
		ret = pci_dev_add_bar(&vp->pdev, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE,
				      PCI_BAR_F_64 | PCI_BAR_F_PREFETCH);
	if (!ret)
		ret = vp_add_regions(vp);
	if (!ret)
		ret = vp_add_pci_cfg_cap(vp);
	if (!ret)
		ret = msix_init(&vp->msix, &vp->pdev, vd->nr_queues + 1, VIRTIO_PCI_MSIX_BAR,
				VIRTIO_PCI_MSIX_TABLE, VIRTIO_PCI_MSIX_PBA);
	return ret;
}

int virtio_pci_attach(struct virtio_pci *vp, struct virtio_dev *vd, struct pci_bus *pci,
		      unsigned int slot)
{
	int rfd, ret;

	vp->vd = vd;
	vp->vm_fd = pci->vm_fd;
	vp->notify_addr = PCI_BAR_UNMAPPED;
	memset(vp->ioeventfd, 0, sizeof(vp->ioeventfd));
	memset(&vp->msix, 0, sizeof(vp->msix));	/* virtio_pci_release() is safe */
	vd->transport = vp;
	vd->tops = &vp_tops;
	ret = vp_build(vp);
	if (!ret)
		ret = pci_bus_add(pci, &vp->pdev, slot);
	if (ret)
		return err_prefix(ret, "%s: virtio-pci", vd->dev.id);
	vd->nr_vectors = (uint16_t)vp->msix.nr;
	rfd = irq_line_resample_fd(&vp->pdev.intx);
	if (rfd >= 0) {
		ret = virtio_dev_watch(vd, rfd, vp_resample, vp);
		if (ret)
			return ret;
	}
	dev_add_resource(&vd->dev, DEV_RES_MMIO, vp->pdev.bars[VIRTIO_PCI_BAR].addr,
			 VIRTIO_PCI_BAR_SIZE);
	dev_add_resource(&vd->dev, DEV_RES_MMIO, vp->pdev.bars[VIRTIO_PCI_MSIX_BAR].addr,
			 VIRTIO_PCI_MSIX_BAR_SIZE);
	dev_add_resource(&vd->dev, DEV_RES_IRQ, vp->pdev.intx.gsi, 1);
	return 0;
}

void virtio_pci_detach(struct virtio_pci *vp)
{
	if (!vp->vd || !vp->pdev.bus)
		return;
	pthread_mutex_lock(&vp->pdev.bus->lock);
	if (vp->vm_fd >= 0)
		vp_unbind_ioeventfds(vp);
	pthread_mutex_unlock(&vp->pdev.bus->lock);
}

void virtio_pci_release(struct virtio_pci *vp)
{
	msix_destroy(&vp->msix);
}
