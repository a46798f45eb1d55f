/* SPDX-License-Identifier: MIT */
/*
 * vm_snapshot.h - save a paused VM to a snapshot file + memory file, and
 * build a VM from them.
 *
 * A snapshot is a container file (snapshot/format.h) with these sections:
 *   vm.config   the machine: RAM size, vCPUs, transport, devices and their
 *               host back ends (disk paths, taps), so that a restore builds
 *               the same machine without any other option
 *   memory      size of guest RAM, the memory file's identity (a random
 *               128-bit id also written into the file's trailer) and the path
 *               it was written to
 *   cpuid.N     the CPUID table vCPU N saw: a restore on a host whose KVM
 *               would show the guest anything else is refused
 *   vcpu.N      everything KVM holds for vCPU N (arch/x86/state.h)
 *   x86.vm      PICs, IOAPIC, PIT, kvmclock
 *   devices     for each device: its id, class, the class's state_version
 *               and every STATE attribute (core/device.h) in the class's order
 *
 * The memory file is guest RAM as one flat image (below the MMIO hole, then
 * above it), sparse: pages never touched and pages of zeros are holes.  A
 * 4 KiB trailer after the last RAM byte holds "KITEMEM1", the id and the
 * size.  A restore maps the file MAP_PRIVATE, so pages load on first touch
 * and the restore time does not grow with guest memory.
 *
 * Diff snapshots (SNAPSHOT_DIFF) write only the pages changed since the
 * previous snapshot of this VM (dirty tracking starts with the first
 * snapshot) into a sparse memory file of their own, and record the memory
 * file they apply on top of ("memory" section: parent path and id).  A
 * restore maps the base and copies each diff's pages over it.
 */
#ifndef KITE_SNAPSHOT_VM_SNAPSHOT_H
#define KITE_SNAPSHOT_VM_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "snapshot/format.h"

struct vm;
struct vm_config;

enum snapshot_type { SNAPSHOT_FULL, SNAPSHOT_DIFF };

struct snapshot_request {
	const char *snapshot_path;
	const char *mem_file_path;
	enum snapshot_type type;
};

/* Save the VM, which must be paused (-EBUSY otherwise). */
int vm_snapshot_create(struct vm *vm, const struct snapshot_request *req) KITE_WUR;
/* The same in the control API's shape (api/routes.h). */
int vm_snapshot_create_api(struct vm *vm, const char *snapshot_path, const char *mem_file_path,
			   bool diff) KITE_WUR;

#define SNAP_MEM_ID_LEN		16
#define SNAP_MEM_CHAIN_MAX	16	/* base + diffs */
#define SNAP_PATH_MAX		4096

/* A parsed, checked snapshot that a VM can be built from. */
struct vm_snapshot {
	struct snap_image img;
	uint64_t mem_size;
	/* memory files, base first, then each diff in order */
	char mem_path[SNAP_MEM_CHAIN_MAX][SNAP_PATH_MAX];
	uint8_t mem_id[SNAP_MEM_CHAIN_MAX][SNAP_MEM_ID_LEN];
	unsigned int nr_mem;
	char console_path[SNAP_PATH_MAX];	/* vm.config's, referenced by the config */
	/* migration: guest RAM already filled (nr_mem is 0); the VM takes a reference */
	struct guest_ram_block *ram;
};

/* Add the state sections (vm.config, cpuid.N, vcpu.N, x86.vm, devices) of
 * the paused @vm to @img: a snapshot without its memory, or what a live
 * migration sends last. */
int vm_snapshot_add_state(struct vm *vm, struct snap_image *img) KITE_WUR;
/* Only the machine (vm.config, cpuid.N), from a running @vm: what a live
 * migration sends first, so that the destination builds the VM while the
 * pages stream. */
int vm_snapshot_add_machine(struct vm *vm, struct snap_image *img) KITE_WUR;
/* Do @a and @b describe the same machine (vm.config and cpuid.0..@ncpus-1
 * byte for byte)?  0, or -EINVAL saying which section differs. */
int vm_snapshot_same_machine(const struct vm_snapshot *a, const struct vm_snapshot *b,
			     unsigned int ncpus) KITE_WUR;

/*
 * A migration destination: the state sections the source sent (@state,
 * copied) and guest RAM already received into @ram; fills @cfg's machine part
 * like vm_snapshot_open().  The memory section is not needed.
 */
struct guest_ram_block;
int vm_snapshot_open_incoming(struct vm_snapshot *snap, const void *state, size_t len,
			      struct guest_ram_block *ram, struct vm_config *cfg) KITE_WUR;

/*
 * Read and check @path (and the memory file(s): sizes and ids; @mem_file
 * overrides the path recorded for the newest one), and fill @cfg's machine
 * part (memory, vCPUs, devices) from it, keeping @cfg's host-side options
 * (serial, API socket, logging) and applying @cfg->net_overrides to the
 * saved network devices (an id the snapshot lacks is refused, -ENOENT).
 * Nothing is created.  Clear messages for a file that is truncated,
 * corrupted, of an unknown version, or whose memory file does not match.
 */
int vm_snapshot_open(struct vm_snapshot *snap, const char *path, const char *mem_file,
		     struct vm_config *cfg) KITE_WUR;
void vm_snapshot_close(struct vm_snapshot *snap);

/*
 * During vm_create() of a restored VM (cfg->restore set): the CPUID each
 * vCPU must get (checked against this host's), then, with every device and
 * vCPU built, the saved state put back into KVM and the devices.
 */
int vm_snapshot_check_cpuid(const struct vm_snapshot *snap, unsigned int vcpu,
			    const void *host_cpuid /* struct kvm_cpuid2 */) KITE_WUR;
int vm_snapshot_apply(struct vm *vm, const struct vm_snapshot *snap) KITE_WUR;

/*
 * After vm_snapshot_apply(), for a restore that makes a new copy of the
 * saved VM (kite run --restore), not for one that moves it (migration):
 * the MACs given with --net id=ID,mac=M go into the restored devices'
 * config space (config generation, config interrupt, and an announce
 * request if the driver negotiated VIRTIO_NET_F_GUEST_ANNOUNCE), and,
 * unless cfg.keep_identity, a new VM generation ID with its GED interrupt,
 * so the guest knows it is a copy and reseeds its RNG.  VM paused: the
 * interrupts wait for the resume.
 */
int vm_snapshot_new_identity(struct vm *vm) KITE_WUR;

/*
 * The two halves of --net id=ID,... (cfg->net_overrides), for any path that
 * builds a VM from saved state (a restore, an incoming migration): before
 * the VM is built, the saved network device ID gets its new back end and
 * MAC in @cfg (-ENOENT, with the ids there are, when ID is none of
 * @cfg->nets); once its state is restored, the new MACs go into the devices
 * as vm_snapshot_new_identity() describes (which calls it).
 */
int vm_net_overrides_apply(struct vm_config *cfg) KITE_WUR;
int vm_net_overrides_set_macs(struct vm *vm) KITE_WUR;

#endif
