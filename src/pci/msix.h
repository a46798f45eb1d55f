/* SPDX-License-Identifier: MIT */
/*
 * msix.h - MSI-X for kite's PCI devices: the capability, and the table and
 * pending-bit array (PBA) as regions of one of the device's BARs.
 *
 * Each vector gets an MSI route (irq_router_add_msi when it is first
 * unmasked with MSI-X enabled, irq_router_set_msi when the guest changes its
 * address/data) and an irqfd bound to that GSI, so msix_notify() is one
 * eventfd write.  While the function or the vector is masked, a notification
 * sets the vector's PBA bit instead; unmasking delivers it.
 *
 * Threads and locks: msix->lock protects the table, the PBA and the enable
 * and function-mask state.  Table/PBA accesses come from vCPU threads (no
 * PCI lock held); capability writes from the config path (under pci->lock,
 * so pci->lock -> msix->lock); msix_notify() from any thread.  Inside:
 * msix->lock -> irq_router->lock.  Routes are committed (an ioctl) under
 * msix->lock, so a notification may wait for a guest's reprogramming.
 */
#ifndef KITE_PCI_MSIX_H
#define KITE_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

#define MSIX_MAX_VECTORS	128
#define MSIX_ENTRY_SIZE		16
#define MSIX_CAP_LEN		12
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_VECTOR_MASKED	0x1

struct pci_dev;
struct irq_router;

struct msix_vector {
	uint32_t entry[4];		/* addr lo, addr hi, data, vector control */
	bool routed;			/* gsi is allocated in the router */
	uint32_t gsi;
	uint64_t route_addr;		/* what the route says */
	uint32_t route_data;
	int irqfd;			/* bound to gsi, -1 without KVM */
	uint64_t sent;			/* messages delivered */
};

struct pci_msix {
	pthread_mutex_t lock;
	struct pci_dev *pdev;		/* its bus gives the router and vm_fd */
	unsigned int nr;
	uint32_t cap;			/* config offset of the capability */
	bool enabled, masked;		/* message control, shadowed */
	uint64_t pba[MSIX_MAX_VECTORS / 64];
	struct msix_vector vec[MSIX_MAX_VECTORS];
};

/*
 * Give @pdev @nr vectors: the capability, the table at @table_off and the PBA
 * at @pba_off of BAR @bar (already added with pci_dev_add_bar; both offsets
 * 8-byte aligned).  Routes come from the router of the bus @pdev is added
 * to (none: KVM_SIGNAL_MSI per message), irqfds from its vm_fd (-1: messages
 * are only counted).  Before pci_bus_add().
 */
int msix_init(struct pci_msix *m, struct pci_dev *pdev, unsigned int nr, unsigned int bar,
	      uint32_t table_off, uint32_t pba_off) KITE_WUR;
/* Free the routes and irqfds (vCPUs and the device's threads stopped). */
void msix_destroy(struct pci_msix *m);
/* Bytes of table / PBA for @nr vectors. */
static inline uint32_t msix_table_size(unsigned int nr) { return nr * MSIX_ENTRY_SIZE; }
static inline uint32_t msix_pba_size(unsigned int nr) { return (nr + 63) / 64 * 8; }

/* MSI-X enabled by the guest (any thread). */
bool msix_enabled(struct pci_msix *m);
/*
 * Signal @vector (any thread): one eventfd write, or its PBA bit while
 * masked.  Returns false (and does nothing) when MSI-X is disabled or the
 * vector does not exist: the caller falls back to INTx or drops it.
 */
bool msix_notify(struct pci_msix *m, unsigned int vector);
/* Messages delivered on @vector (tests, counters). */
uint64_t msix_sent(struct pci_msix *m, unsigned int vector);

/*
 * Snapshot state: the table (@entry[i]: address low, address high, data,
 * vector control of vector i) and the PBA words, for @m's m->nr vectors.
 * msix_check_state() refuses (-EINVAL, message) reserved control bits and
 * pending bits of vectors the device lacks; msix_set_state() stores them
 * without sending anything: the message control word, loaded next with the
 * config space (msix_config_written), routes live vectors and delivers
 * what is pending.
 */
void msix_get_state(struct pci_msix *m, uint32_t (*entry)[4], uint64_t *pba);
int msix_check_state(const struct pci_msix *m, const uint32_t (*entry)[4],
		     const uint64_t *pba) KITE_WUR;
void msix_set_state(struct pci_msix *m, const uint32_t (*entry)[4], const uint64_t *pba);

/* For pci.c: the guest wrote the message control word (under pci->lock). */
void msix_config_written(struct pci_msix *m, uint16_t ctrl);

#endif
