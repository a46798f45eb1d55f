// SPDX-License-Identifier: MIT
/*
 * msix.c - MSI-X capability, table and PBA; one route and irqfd per vector.
 * See msix.h for the locking.
 */
#include "pci/msix.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/irq_router.h"
#include "core/log.h"
#include "kvm/kvm.h"
#include "pci/pci.h"

static struct irq_router *msix_router(const struct pci_msix *m)
{
	return m->pdev->bus ? m->pdev->bus->router : NULL;
}

static int msix_vm_fd(const struct pci_msix *m)
{
	return m->pdev->bus ? m->pdev->bus->vm_fd : -1;
}

static uint64_t vector_addr(const struct msix_vector *v)
{
	return v->entry[0] | (uint64_t)v->entry[1] << 32;
}

/* Enabled, not function-masked, vector not masked: messages go out. */
static bool vector_live(const struct pci_msix *m, unsigned int i)
{
	return m->enabled && !m->masked && !(m->vec[i].entry[3] & MSIX_VECTOR_MASKED);
}

static bool pba_test_clear(struct pci_msix *m, unsigned int i)
{
	uint64_t bit = 1ULL << (i % 64);
	bool was = m->pba[i / 64] & bit;

	m->pba[i / 64] &= ~bit;
	return was;
}

/* Bind an irqfd to the vector's fresh GSI (failure: KVM_SIGNAL_MSI instead). */
static void vector_bind_irqfd(struct pci_msix *m, struct msix_vector *v)
{
	int vm_fd = msix_vm_fd(m), fd;

	if (vm_fd < 0)
		return;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0) {
		log_warn("pci %s: MSI-X eventfd: %s", m->pdev->name, strerror(errno));
		return;
	}
	if (kvm_vm_irqfd(vm_fd, fd, v->gsi, -1)) {
		log_warn("pci %s: %s", m->pdev->name, err_msg());
		close(fd);
		return;
	}
	v->irqfd = fd;
}

/* Make vector @i's route say what its table entry says (msix->lock held). */
static void vector_commit(struct pci_msix *m, unsigned int i)
{
	struct irq_router *router = msix_router(m);
	struct msix_vector *v = &m->vec[i];
	uint64_t addr = vector_addr(v);
	uint32_t data = v->entry[2];
	int ret;

	if (!router || (v->routed && v->route_addr == addr && v->route_data == data))
		return;
	if (!v->routed)
		ret = irq_router_add_msi(router, addr, data, &v->gsi);
	else
		ret = irq_router_set_msi(router, v->gsi, addr, data);
	if (ret) {
		log_warn("pci %s: MSI-X vector %u: %s", m->pdev->name, i, err_msg());
		return;
	}
	if (!v->routed) {
		v->routed = true;
		vector_bind_irqfd(m, v);
	}
	v->route_addr = addr;
	v->route_data = data;
}

/* Send vector @i's message now (msix->lock held, vector live). */
static void vector_deliver(struct pci_msix *m, unsigned int i)
{
	struct msix_vector *v = &m->vec[i];
	int vm_fd = msix_vm_fd(m);
	uint64_t one = 1;

	v->sent++;
	if (v->irqfd >= 0) {
		if (write(v->irqfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("pci %s: MSI-X irqfd: %s", m->pdev->name, strerror(errno));
	} else if (vm_fd >= 0 && kvm_vm_signal_msi(vm_fd, vector_addr(v), v->entry[2]) < 0) {
		log_warn("pci %s: %s", m->pdev->name, err_msg());
	}
}

/* Vector @i may have become live: route it, send what is pending. */
static void vector_update(struct pci_msix *m, unsigned int i)
{
	if (!vector_live(m, i))
		return;
	vector_commit(m, i);
	if (pba_test_clear(m, i))
		vector_deliver(m, i);
}

bool msix_notify(struct pci_msix *m, unsigned int vector)
{
	pthread_mutex_lock(&m->lock);
	if (!m->enabled || vector >= m->nr) {
		pthread_mutex_unlock(&m->lock);
		return false;
	}
	if (vector_live(m, vector))
		vector_deliver(m, vector);
	else
		m->pba[vector / 64] |= 1ULL << (vector % 64);
	pthread_mutex_unlock(&m->lock);
	return true;
}

bool msix_enabled(struct pci_msix *m)
{
	bool on;

	pthread_mutex_lock(&m->lock);
	on = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return on;
}

uint64_t msix_sent(struct pci_msix *m, unsigned int vector)
{
	uint64_t n;

	pthread_mutex_lock(&m->lock);
	n = vector < m->nr ? m->vec[vector].sent : 0;
	pthread_mutex_unlock(&m->lock);
	return n;
}

void msix_config_written(struct pci_msix *m, uint16_t ctrl)
{
	unsigned int i;

	pthread_mutex_lock(&m->lock);
	m->enabled = ctrl & MSIX_CTRL_ENABLE;
	m->masked = ctrl & MSIX_CTRL_MASKALL;
	for (i = 0; i < m->nr; i++)
		vector_update(m, i);
	pthread_mutex_unlock(&m->lock);
}

/* ---- snapshot state ---- */

void msix_get_state(struct pci_msix *m, uint32_t (*entry)[4], uint64_t *pba)
{
	unsigned int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nr; i++)
		memcpy(entry[i], m->vec[i].entry, sizeof(entry[i]));
	memcpy(pba, m->pba, msix_pba_size(m->nr));
	pthread_mutex_unlock(&m->lock);
}

int msix_check_state(const struct pci_msix *m, const uint32_t (*entry)[4],
		     const uint64_t *pba)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (entry[i][3] & ~MSIX_VECTOR_MASKED)
			return err_set(-EINVAL, "MSI-X vector %u: reserved control bits 0x%x", i,
				       entry[i][3]);
	for (i = m->nr; i < msix_pba_size(m->nr) * 8; i++)
		if (pba[i / 64] & (1ULL << (i % 64)))
			return err_set(-EINVAL, "MSI-X pending bit %u: the device has %u vectors",
				       i, m->nr);
	return 0;
}

void msix_set_state(struct pci_msix *m, const uint32_t (*entry)[4], const uint64_t *pba)
{
	unsigned int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nr; i++)
		memcpy(m->vec[i].entry, entry[i], sizeof(entry[i]));
	memcpy(m->pba, pba, msix_pba_size(m->nr));
	pthread_mutex_unlock(&m->lock);
}

/* ---- the table and the PBA (BAR regions, vCPU threads) ---- */

static uint8_t *table_byte(struct pci_msix *m, uint64_t off)
{
	struct msix_vector *v = &m->vec[off / MSIX_ENTRY_SIZE];

	return (uint8_t *)&v->entry[(off % MSIX_ENTRY_SIZE) / 4] + off % 4;	/* x86: LE */
}

static void table_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct pci_msix *m = opaque;
	uint32_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < size; i++)
		data[i] = *table_byte(m, offset + i);
	pthread_mutex_unlock(&m->lock);
}

static void table_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t size)
{
	struct pci_msix *m = opaque;
	unsigned int first = (unsigned int)(offset / MSIX_ENTRY_SIZE);
	unsigned int last = (unsigned int)((offset + size - 1) / MSIX_ENTRY_SIZE);
	uint32_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < size; i++)
		*table_byte(m, offset + i) = data[i];
	for (i = first; i <= last; i++) {
		m->vec[i].entry[3] &= MSIX_VECTOR_MASKED;	/* the rest is reserved */
		vector_update(m, i);
	}
	pthread_mutex_unlock(&m->lock);
}

static void pba_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	struct pci_msix *m = opaque;
	uint32_t i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < size; i++) {
		uint64_t b = offset + i;

		data[i] = (uint8_t)(m->pba[b / 8] >> (8 * (b % 8)));
	}
	pthread_mutex_unlock(&m->lock);
}

static const struct bus_ops table_ops = { .read = table_read, .write = table_write };
/* PBA writes are ignored (read-only). */
static const struct bus_ops pba_ops = { .read = pba_read };

static int msix_add_cap(struct pci_msix *m, unsigned int bar, uint32_t table_off,
			uint32_t pba_off)
{
	struct pci_dev *pdev = m->pdev;
	int ret = pci_dev_add_cap(pdev, PCI_CAP_ID_MSIX, MSIX_CAP_LEN, &m->cap);

	if (ret)
		return ret;
	pci_set_u16(pdev->cfg, m->cap + 2, (uint16_t)(m->nr - 1));
	pci_set_u16(pdev->wmask, m->cap + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	pci_set_u32(pdev->cfg, m->cap + 4, table_off | bar);
	pci_set_u32(pdev->cfg, m->cap + 8, pba_off | bar);
	return 0;
}

int msix_init(struct pci_msix *m, struct pci_dev *pdev, unsigned int nr, unsigned int bar,
	      uint32_t table_off, uint32_t pba_off)
{
	unsigned int i;
	int ret;

	if (!nr || nr > MSIX_MAX_VECTORS || (table_off | pba_off) & 7 || bar >= PCI_NUM_BARS)
		return err_set(-EINVAL, "pci %s: bad MSI-X layout (%u vectors)", pdev->name, nr);
	memset(m, 0, sizeof(*m));
	m->pdev = pdev;
	m->nr = nr;
	for (i = 0; i < nr; i++) {
		m->vec[i].entry[3] = MSIX_VECTOR_MASKED;
		m->vec[i].irqfd = -1;
	}
	ret = pci_bar_add_region(pdev, bar, table_off, msix_table_size(nr), &table_ops, m);
	if (!ret)
		ret = pci_bar_add_region(pdev, bar, pba_off, msix_pba_size(nr), &pba_ops, m);
	if (!ret)
		ret = msix_add_cap(m, bar, table_off, pba_off);
	if (ret)
		return err_prefix(ret, "MSI-X");
	pthread_mutex_init(&m->lock, NULL);
	pdev->msix = m;
	return 0;
}

void msix_destroy(struct pci_msix *m)
{
	struct irq_router *router;
	unsigned int i;

	if (!m->pdev)
		return;
	router = msix_router(m);
	for (i = 0; i < m->nr; i++) {
		struct msix_vector *v = &m->vec[i];

		if (v->irqfd >= 0)
			close(v->irqfd);
		if (v->routed && router && irq_router_free_msi(router, v->gsi))
			log_warn("pci %s: %s", m->pdev->name, err_msg());
		v->irqfd = -1;
		v->routed = false;
	}
	pthread_mutex_destroy(&m->lock);
	m->pdev->msix = NULL;
	m->pdev = NULL;
}
