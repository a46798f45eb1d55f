/* SPDX-License-Identifier: MIT */
/*
 * vm.h - one virtual machine: everything hangs off struct vm, built in one
 * visible sequence by vm_create() and torn down by vm_destroy().
 *
 * Threads: the main thread builds the VM and then runs the event loop
 * (vm_run: stop requests, signals, console input); one thread per vCPU runs
 * KVM_RUN and dispatches exits to the buses.  Devices lock their own state.
 * Lock order: a device lock is the innermost lock; nothing is held across
 * KVM_RUN.
 */
#ifndef KITE_CORE_VM_H
#define KITE_CORE_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "arch/x86/boot/boot.h"
#include "core/addr_space.h"
#include "core/bus.h"
#include "core/runstate.h"
#include "core/device.h"
#include "core/guest_ram.h"
#include "core/irq_router.h"
#include "core/vm_control.h"
#include "devices/legacy.h"
#include "devices/serial.h"
#include "devices/vmgenid.h"
#include "devices/virtio/virtio_devs.h"
#include "pci/pci.h"
#include "virtio/mmio.h"
#include "virtio/virtio_pci.h"
#include "kvm/kvm.h"

struct vm_snapshot;
struct vm_memfile_chain;

#define VM_MEM_MIN	(4ULL << 20)
#define VM_MEM_MAX	(1ULL << 40)
#define VM_MEM_DEFAULT	(128ULL << 20)

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };
enum virtio_transport_kind { VIRTIO_TRANSPORT_PCI, VIRTIO_TRANSPORT_MMIO };
enum vm_console_mode { VM_CONSOLE_NONE, VM_CONSOLE_STDIO, VM_CONSOLE_SOCKET };

#define VM_DISKS_MAX	8
#define VM_NETS_MAX	4
#define VM_VIRTIO_MAX	(VM_DISKS_MAX + VM_NETS_MAX + 4)

/*
 * --restore with --net id=ID,...: what a restored copy changes in the
 * snapshot's network device ID (vm_snapshot_open applies it to the config,
 * vm_snapshot_new_identity to the restored device).
 */
struct vm_net_override {
	bool backend;			/* @net's kind, ifname, hostfwd replace the saved ones */
	bool mac;			/* @net.mac is the device's new MAC */
	struct virtio_net_config_in net;	/* id, and what changes */
};

struct vm_config {
	const char *kernel_path;
	const char *initrd_path;	/* NULL: none */
	const char *cmdline;
	uint64_t mem_size;
	unsigned int ncpus;
	enum serial_mode serial_mode;
	const char *serial_path;	/* SERIAL_FILE */
	const char *kvm_path;		/* normally /dev/kvm */
	enum x86_boot_protocol boot_protocol;
	const char *api_sock;		/* NULL: no control API */
	struct guest_ram_backing mem_backing;	/* zeroed: memfd */
	/* virtio devices */
	enum virtio_transport_kind transport;
	struct virtio_blk_config_in disks[VM_DISKS_MAX];
	unsigned int nr_disks;
	struct virtio_net_config_in nets[VM_NETS_MAX];
	unsigned int nr_nets;
	bool rng;
	enum vm_console_mode console;
	const char *console_path;	/* VM_CONSOLE_SOCKET */
	const char *version;		/* kite's version (recorded in snapshots) */
	/* --restore: the machine part above comes from this snapshot; the VM
	 * starts paused unless @resume */
	const struct vm_snapshot *restore;
	bool resume;
	bool restore_later;		/* build @restore's machine only, paused: its
					 * state follows (vm_restore_state) */
	const char *restore_path;	/* --restore (main opens it into @restore) */
	const char *restore_mem_file;	/* --mem-file */
	const char *incoming;		/* --incoming URI: a live migration builds the VM */
	/* a restored copy's identity (vm_snapshot_new_identity) */
	bool keep_identity;		/* no new VM generation ID: --keep-identity, or
					 * an incoming migration (one VM, moved) */
	bool diff_snapshots;		/* --diff-snapshots: a Diff may follow the restore */
	struct vm_net_override net_overrides[VM_NETS_MAX];	/* --net with --restore */
	unsigned int nr_net_overrides;
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	uint64_t exits;
	uint64_t exit_counts[VM_EXIT_REASONS];	/* by KVM exit reason; vCPU thread writes */
};

/* Pausing: the API thread asks, every vCPU parks outside KVM_RUN. */
struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool requested;		/* written under lock, read atomically by vCPUs */
	unsigned int parked;	/* vCPUs waiting in vcpu_park() (also read atomically) */
	/* CLOCK_MONOTONIC ns until which a parked vCPU polls @requested instead
	 * of sleeping (vm_pause_spin_until): a resume expected within
	 * microseconds, a migration's GO, then wakes no sleeping thread. */
	uint64_t spin_until_ns;	/* atomic */
};

struct vm {
	struct vm_config cfg;
	struct kvm_sys kvm;
	int vm_fd;
	struct runstate rs;

	/* guest RAM: one backing, mapped once, borrowed from the address
	 * space's regions below and above the hole (which own it) */
	int ram_fd;
	uint8_t *ram;
	struct x86_ram_layout ram_layout;
	struct addr_space as;

	struct bus pio, mmio;
	struct irq_router irq;		/* every GSI route */
	struct serial serial;
	struct i8042 i8042;
	int serial_out_fd;		/* owned when SERIAL_FILE */
	int serial_space_fd;		/* eventfd: the serial has input room */

	struct dev_registry devices;
	struct device dev_serial, dev_i8042, dev_debug_exit, dev_acpi_pm;
	struct vmgenid vmgenid;		/* the generation ID and its GED interrupt */
	struct device dev_vmgenid;
	struct vm_pause pause;

	/* virtio devices (vm_virtio.c), in creation order */
	struct virtio_dev *virtio[VM_VIRTIO_MAX];
	struct virtio_mmio virtio_mmio[VM_VIRTIO_MAX];	/* --transport mmio */
	struct virtio_pci *virtio_pci[VM_VIRTIO_MAX];	/* --transport pci */
	struct pci_bus pci;
	bool has_pci;
	unsigned int nr_virtio;
	char *cmdline_dev;		/* device announcements for the kernel command line */

	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID, unfiltered */
	unsigned int cpuid_cap;
	struct x86_boot_entry entry;
	struct vm_memfile_chain *memfiles;	/* the last snapshot's memory files */
	struct vcpu *vcpus;
	unsigned int nr_vcpus;

	/* dirty logging (vm_dirty.c), changed only by the thread that logs */
	bool dirty_manual_tried, dirty_manual;
	/* migration (migration/migrate.h): the running or last migration */
	struct vm_migration *migration;
	unsigned int throttle_pct;	/* vCPUs sleep this share of the time (atomic) */
};

/* Build the whole VM from @cfg (nothing runs yet).  On failure everything
 * built so far is torn down and *exit_status says which kind of failure. */
int vm_create(struct vm *vm, const struct vm_config *cfg, int *exit_status) KITE_WUR;
void vm_destroy(struct vm *vm);

/*
 * A restored VM (vm_create() with cfg->restore does this itself, unless
 * cfg->restore_later, as a live migration's destination does while the
 * pages still arrive): paused (no vCPU thread runs yet, devices parked),
 * @snap's saved state put back, the copy's own identity given (a new VM
 * generation ID, MACs from --net), then resumed if cfg.resume.  On failure
 * the caller tears the whole VM down: nothing half-restored ever runs.
 */
int vm_restore_state(struct vm *vm, const struct vm_snapshot *snap) KITE_WUR;

/*
 * After the guest has stopped: hand the last references to the KVM file
 * descriptors to a short-lived child process, so that the kernel's VM
 * teardown (SRCU grace periods, 7-14 ms with an in-kernel irqchip) happens
 * after kite has exited instead of before.  Call vm_destroy() afterwards as
 * usual; its closes are then cheap.  Falls back silently if fork() fails.
 */
void vm_detach_teardown(struct vm *vm);

/* Start the vCPUs and run the main loop until the VM stops; returns the exit
 * status (enum kite_exit_status or a debug-exit status).  @api: the API
 * server already serving this VM (a kite started without one), which vm_run
 * stops at the end; NULL: vm_run starts one if cfg.api_sock is set. */
struct api_server;
int vm_run(struct vm *vm, struct api_server *api);
/*
 * vm_run() starts the vCPU threads itself; a caller that wants them ready
 * earlier (a migration's destination, before GO: the VM paused, so they
 * park at once) starts them with vm_start_vcpus(), and if the VM then never
 * runs, stops them with runstate_request_stop() and vm_stop_vcpus() before
 * vm_destroy().  SIGINT, SIGTERM and SIGHUP are blocked in the calling
 * thread (the vCPU threads inherit that).
 */
int vm_start_vcpus(struct vm *vm) KITE_WUR;
void vm_stop_vcpus(struct vm *vm);

/*
 * Dirty tracking (vm_dirty.c): KVM's log of vCPU writes united with the
 * address space's log of device writes.  vm_dirty_sync() reports each run of
 * pages written since the last sync (guest page numbers) and clears them.
 */
int vm_dirty_log_start(struct vm *vm, bool all_dirty) KITE_WUR;
void vm_dirty_log_stop(struct vm *vm);
/*
 * With @all_dirty, vm_dirty_log_start() leaves KVM's log all set (where KVM
 * has INITIALLY_SET): the caller copies every page in a first pass, calling
 * vm_dirty_clear() on each chunk just before copying it; otherwise only
 * writes from the start on are reported.  vm_dirty_clear() takes a range
 * inside one RAM memslot and is a no-op without manual protection.
 */
int vm_dirty_clear(struct vm *vm, uint64_t pfn, uint64_t npages) KITE_WUR;
int vm_dirty_sync(struct vm *vm, int (*fn)(void *opaque, uint64_t pfn, uint64_t npages),
		  void *opaque) KITE_WUR;

/* virtio devices (vm_virtio.c) */
int vm_setup_virtio(struct vm *vm) KITE_WUR;
int vm_start_virtio(struct vm *vm) KITE_WUR;
void vm_destroy_virtio(struct vm *vm);
void vm_pause_virtio(struct vm *vm);
void vm_resume_virtio(struct vm *vm);

/* vCPU threads (vcpu.c) */
void vcpu_park(struct vcpu *vcpu);
/* Parked vCPUs poll for a resume, without sleeping, until CLOCK_MONOTONIC
 * @ns (0: they sleep at once, the default); those asleep are woken to poll.
 * For short waits only: each polling vCPU holds a host CPU. */
void vm_pause_spin_until(struct vm *vm, uint64_t ns);
void vm_pause_wake_all(struct vm *vm);
int vcpu_start(struct vcpu *vcpu) KITE_WUR;
void vcpu_kick(struct vcpu *vcpu);
int vcpu_signals_init(void) KITE_WUR;

#endif
