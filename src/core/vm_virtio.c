// SPDX-License-Identifier: MIT
/*
 * vm_virtio.c - the VM's virtio devices: created from the configuration,
 * put on their transport, registered in the device model, announced to the
 * guest, started, paused with the VM and torn down.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/term.h"
#include "core/vm.h"

static const uint8_t virtio_mmio_irqs[] = X86_VIRTIO_MMIO_IRQS;

/* PCI: slot i + 1 (00:00.0 is the host bridge); no command-line words. */
static int vm_virtio_attach_pci(struct vm *vm, unsigned int i, struct virtio_dev *vd)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	int ret;

	if (!vp)
		return err_set(-ENOMEM, "out of memory");
	vm->virtio_pci[i] = vp;
	ret = virtio_pci_attach(vp, vd, &vm->pci, i + 1);
	return ret ? ret : dev_register(&vm->devices, &vd->dev);
}

/* Put @vd on the configured transport and register it in the device model. */
static int vm_virtio_attach(struct vm *vm, struct virtio_dev *vd)
{
	unsigned int i = vm->nr_virtio;
	int ret;

	if (i >= VM_VIRTIO_MAX || (vm->cfg.transport == VIRTIO_TRANSPORT_MMIO &&
				   i >= X86_VIRTIO_MMIO_MAX)) {
		virtio_dev_destroy(vd);
		return err_set(-ENOSPC, "too many virtio devices (at most %d on %s)",
			       vm->cfg.transport == VIRTIO_TRANSPORT_MMIO ? X86_VIRTIO_MMIO_MAX :
			       VM_VIRTIO_MAX, vm->cfg.transport == VIRTIO_TRANSPORT_MMIO ?
			       "virtio-mmio" : "PCI");
	}
	vm->virtio[i] = vd;
	vm->nr_virtio++;
	if (vm->cfg.transport == VIRTIO_TRANSPORT_PCI)
		return vm_virtio_attach_pci(vm, i, vd);
	ret = virtio_mmio_attach(&vm->virtio_mmio[i], vd, &vm->mmio,
				 X86_VIRTIO_MMIO_START + i * X86_VIRTIO_MMIO_STRIDE,
				 (struct irq_line){ .vm_fd = vm->vm_fd,
						    .gsi = virtio_mmio_irqs[i] },
				 vm->vm_fd);
	if (!ret)
		ret = virtio_mmio_cmdline(&vm->virtio_mmio[i], vm->cmdline_dev, X86_CMDLINE_MAX);
	if (ret == -ENOSPC)
		ret = err_set(-ENOSPC, "the kernel command line is too long for the device list");
	if (!ret)
		ret = dev_register(&vm->devices, &vd->dev);
	return ret;
}

static void vm_console_quit(void *opaque)
{
	struct vm *vm = opaque;

	runstate_request_stop(&vm->rs, VM_STOP_SIGNAL, KITE_EXIT_SIGNAL,
			      "stopped from the console (Ctrl-A x)");
}

static int vm_setup_console(struct vm *vm)
{
	struct virtio_console_config_in cc = { .in_fd = -1, .out_fd = -1,
					       .quit = vm_console_quit, .quit_opaque = vm };
	struct virtio_dev *vd;
	struct stat st;
	int ret;

	if (vm->cfg.console == VM_CONSOLE_SOCKET) {
		cc.socket_path = vm->cfg.console_path;
	} else {
		cc.out_fd = STDOUT_FILENO;
		/* stdin goes to the virtio console; the serial port gets none. */
		if (!fstat(STDIN_FILENO, &st) && !S_ISREG(st.st_mode)) {
			cc.in_fd = STDIN_FILENO;
			cc.in_tty = term_raw_enable(STDIN_FILENO);
		}
	}
	ret = virtio_console_create(&cc, &vm->as, &vd);
	return ret ? ret : vm_virtio_attach(vm, vd);
}

/*
 * A tap without queues= gets one queue pair per vCPU (up to VNET_PAIRS_MAX);
 * an existing single-queue tap cannot do that, and then gets one pair.
 */
static int vm_create_net(struct vm *vm, struct virtio_net_config_in *nc, struct virtio_dev **vd)
{
	unsigned int want = vm->cfg.ncpus < VNET_PAIRS_MAX ? vm->cfg.ncpus : VNET_PAIRS_MAX;
	int ret;

	if (nc->kind != NET_TAP || nc->queues)
		return virtio_net_create(nc, &vm->as, vd);
	nc->queues = want;
	ret = virtio_net_create(nc, &vm->as, vd);
	if (ret && want > 1) {
		log_info("%s; using one queue pair", err_msg());
		nc->queues = 1;
		ret = virtio_net_create(nc, &vm->as, vd);
	}
	return ret;
}

int vm_setup_virtio(struct vm *vm)
{
	struct virtio_dev *vd;
	unsigned int i;
	int ret = 0;
	bool any = vm->cfg.nr_disks || vm->cfg.nr_nets || vm->cfg.rng || vm->cfg.console != VM_CONSOLE_NONE;

	/* A PCI host bridge only when there is something to put behind it. */
	if (vm->cfg.transport == VIRTIO_TRANSPORT_PCI && any) {
		ret = pci_bus_init(&vm->pci, &vm->pio, &vm->mmio, &vm->irq, vm->vm_fd);
		if (ret)
			return ret;
		vm->has_pci = true;
	}
	/* Device announcements (virtio-mmio); vm_load_guest appends them. */
	vm->cmdline_dev = calloc(1, X86_CMDLINE_MAX);
	if (!vm->cmdline_dev)
		return err_set(-ENOMEM, "out of memory");
	for (i = 0; !ret && i < vm->cfg.nr_disks; i++) {
		ret = virtio_blk_create(&vm->cfg.disks[i], &vm->as, &vd);
		if (!ret)
			ret = vm_virtio_attach(vm, vd);
	}
	for (i = 0; !ret && i < vm->cfg.nr_nets; i++) {
		ret = vm_create_net(vm, &vm->cfg.nets[i], &vd);
		if (!ret)
			ret = vm_virtio_attach(vm, vd);
	}
	if (!ret && vm->cfg.console != VM_CONSOLE_NONE)
		ret = vm_setup_console(vm);
	if (!ret && vm->cfg.rng) {
		ret = virtio_rng_create("rng0", &vm->as, &vd);
		if (!ret)
			ret = vm_virtio_attach(vm, vd);
	}
	return ret;
}

int vm_start_virtio(struct vm *vm)
{
	unsigned int i;
	int ret;

	for (i = 0; i < vm->nr_virtio; i++) {
		ret = virtio_dev_start(vm->virtio[i]);
		if (ret)
			return ret;
	}
	return 0;
}

void vm_destroy_virtio(struct vm *vm)
{
	unsigned int i;

	for (i = vm->nr_virtio; i-- > 0;) {
		struct virtio_pci *vp = vm->virtio_pci[i];

		virtio_dev_stop(vm->virtio[i]);
		if (vp)
			virtio_pci_detach(vp);	/* needs the kick fds still open */
		else
			virtio_mmio_detach(&vm->virtio_mmio[i]);
		virtio_dev_destroy(vm->virtio[i]);
		if (vp)
			virtio_pci_release(vp);
		vm->virtio[i] = NULL;
	}
	vm->nr_virtio = 0;
	/* The bus still points at its devices (INTx lines): free them after it. */
	if (vm->has_pci)
		pci_bus_destroy(&vm->pci);
	for (i = 0; i < VM_VIRTIO_MAX; i++) {
		free(vm->virtio_pci[i]);
		vm->virtio_pci[i] = NULL;
	}
	vm->has_pci = false;
	free(vm->cmdline_dev);
	vm->cmdline_dev = NULL;
}

void vm_pause_virtio(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_virtio; i++)
		virtio_dev_pause(vm->virtio[i]);
}

void vm_resume_virtio(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_virtio; i++)
		virtio_dev_resume(vm->virtio[i]);
}
