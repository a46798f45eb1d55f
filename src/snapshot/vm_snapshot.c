// SPDX-License-Identifier: MIT
/*
 * vm_snapshot.c - snapshot create and restore for a whole VM (layout of the
 * file in vm_snapshot.h).  The memory file is written and mapped by
 * snapshot/memfile.c; this file owns the sections.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "arch/x86/platform/platform.h"
#include "arch/x86/state.h"
#include "core/log.h"
#include "core/vm.h"
#include "snapshot/memfile.h"
#include "snapshot/vm_snapshot.h"

#define SEC_CONFIG_V	1
#define SEC_MEMORY_V	1
#define SEC_CPUID_V	1
#define SEC_VCPU_V	1
#define SEC_X86VM_V	1
#define SEC_DEV_V	1
#define CPUID_MAX_ENT	256

/* ---------------------------------------------------------------- config */

static void enc_config(struct snap_enc *e, const struct vm_config *c)
{
	unsigned int i, j;

	snap_enc_put_u64(e, c->mem_size);
	snap_enc_put_u32(e, c->ncpus);
	snap_enc_put_u32(e, c->transport);
	snap_enc_put_u8(e, c->rng);
	snap_enc_put_u32(e, c->console);
	snap_enc_put_str(e, c->console_path ? c->console_path : "");
	snap_enc_put_u32(e, c->nr_disks);
	for (i = 0; i < c->nr_disks; i++) {
		const struct virtio_blk_config_in *d = &c->disks[i];

		snap_enc_put_str(e, d->path);
		snap_enc_put_str(e, d->id);
		snap_enc_put_u8(e, d->ro);
		snap_enc_put_u8(e, d->direct);
		snap_enc_put_u32(e, d->queues);
	}
	snap_enc_put_u32(e, c->nr_nets);
	for (i = 0; i < c->nr_nets; i++) {
		const struct virtio_net_config_in *n = &c->nets[i];

		snap_enc_put_u32(e, n->kind);
		snap_enc_put_str(e, n->ifname);
		snap_enc_put_bytes(e, n->mac, 6);
		snap_enc_put_u8(e, n->has_mac);
		snap_enc_put_u32(e, n->queues);
		snap_enc_put_str(e, n->id);
		snap_enc_put_u32(e, n->nr_hostfwd);
		for (j = 0; j < n->nr_hostfwd; j++)
			snap_enc_put_str(e, n->hostfwd[j]);
	}
}

/* Strings decoded from the file live as long as the snapshot (console path). */
static int dec_config(const struct snap_section *sec, struct vm_config *c, char *console_path,
		      size_t console_len)
{
	struct snap_dec d;
	unsigned int i, j;

	snap_dec_init_section(&d, sec);
	c->mem_size = snap_dec_get_u64(&d);
	c->ncpus = snap_dec_get_u32(&d);
	c->transport = snap_dec_get_u32(&d) ? VIRTIO_TRANSPORT_MMIO : VIRTIO_TRANSPORT_PCI;
	c->rng = snap_dec_get_u8(&d) != 0;
	c->console = (enum vm_console_mode)snap_dec_get_u32_max(&d, VM_CONSOLE_SOCKET, "console mode");
	snap_dec_get_str(&d, console_path, console_len);
	c->console_path = console_path[0] ? console_path : NULL;
	c->nr_disks = snap_dec_get_u32_max(&d, VM_DISKS_MAX, "disk count");
	for (i = 0; i < c->nr_disks && !d.in.err; i++) {
		struct virtio_blk_config_in *k = &c->disks[i];

		memset(k, 0, sizeof(*k));
		snap_dec_get_str(&d, k->path, sizeof(k->path));
		snap_dec_get_str(&d, k->id, sizeof(k->id));
		k->ro = snap_dec_get_u8(&d) != 0;
		k->direct = snap_dec_get_u8(&d) != 0;
		k->queues = snap_dec_get_u32_max(&d, VBLK_QUEUES_MAX, "disk queues");
	}
	c->nr_nets = snap_dec_get_u32_max(&d, VM_NETS_MAX, "network device count");
	for (i = 0; i < c->nr_nets && !d.in.err; i++) {
		struct virtio_net_config_in *n = &c->nets[i];

		memset(n, 0, sizeof(*n));
		n->kind = snap_dec_get_u32_max(&d, NET_USER, "network kind") ? NET_USER : NET_TAP;
		snap_dec_get_str(&d, n->ifname, sizeof(n->ifname));
		snap_dec_get_bytes(&d, n->mac, 6);
		n->has_mac = snap_dec_get_u8(&d) != 0;
		n->queues = snap_dec_get_u32_max(&d, VNET_PAIRS_MAX, "network queues");
		snap_dec_get_str(&d, n->id, sizeof(n->id));
		n->nr_hostfwd = snap_dec_get_u32_max(&d, VNET_HOSTFWD_MAX, "port forwards");
		for (j = 0; j < n->nr_hostfwd && !d.in.err; j++)
			snap_dec_get_str(&d, n->hostfwd[j], sizeof(n->hostfwd[j]));
	}
	if (snap_dec_finish(&d))
		return -EINVAL;
	if (c->mem_size < VM_MEM_MIN || c->mem_size > VM_MEM_MAX || c->mem_size % 4096 ||
	    c->ncpus < 1 || c->ncpus > X86_MAX_CPUS)
		return err_set(-EINVAL, "snapshot: section 'vm.config': %" PRIu64 " bytes of RAM "
			       "and %u vCPUs is not a machine kite builds", c->mem_size, c->ncpus);
	return 0;
}

/*
 * --net id=ID,... with --restore: the saved device ID gets another back end
 * and/or MAC.  The MAC reaches the restored device's config space in
 * vm_snapshot_new_identity(); here it only goes into the config (a snapshot
 * of the copy records it).
 */
static int apply_net_override(struct vm_config *c, const struct vm_net_override *o)
{
	struct virtio_net_config_in *n = NULL;
	char ids[VM_NETS_MAX * (DEV_ID_MAX + 2)] = "";
	unsigned int i;

	for (i = 0; i < c->nr_nets; i++) {
		if (!strcmp(c->nets[i].id, o->net.id))
			n = &c->nets[i];
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s", i ? ", " : "",
			 c->nets[i].id);
	}
	if (!n)
		return err_set(-ENOENT, "--net id=%s: the snapshot has no network device '%s' "
			       "(it has %s%s)", o->net.id, o->net.id, c->nr_nets ? "" : "none",
			       ids);
	if (o->backend && o->net.kind == NET_USER && n->queues > 1)
		return err_set(-EINVAL, "--net id=%s,user: the saved device runs %u queue pairs, "
			       "user networking has one (give it a tap)", n->id, n->queues);
	if (o->backend) {
		n->kind = o->net.kind;
		memcpy(n->ifname, o->net.ifname, sizeof(n->ifname));
		memcpy(n->hostfwd, o->net.hostfwd, sizeof(n->hostfwd));
		n->nr_hostfwd = o->net.nr_hostfwd;
	}
	if (o->mac) {
		memcpy(n->mac, o->net.mac, sizeof(n->mac));
		n->has_mac = true;
	}
	return 0;
}

int vm_net_overrides_apply(struct vm_config *c)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < c->nr_net_overrides; i++)
		ret = apply_net_override(c, &c->net_overrides[i]);
	return ret;
}

/* ---------------------------------------------------------------- CPUID */

/* What vCPU @id sees: the host table filtered as vm_create_vcpu() does. */
static struct kvm_cpuid2 *guest_cpuid(const struct kvm_cpuid2 *host, unsigned int cap,
				      unsigned int id, unsigned int ncpus)
{
	size_t sz = sizeof(*host) + cap * sizeof(host->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);

	if (!c) {
		err_set(-ENOMEM, "out of memory");
		return NULL;
	}
	memcpy(c, host, sizeof(*host) + host->nent * sizeof(host->entries[0]));
	if (x86_cpuid_filter(c, cap, id, ncpus)) {
		free(c);
		return NULL;
	}
	return c;
}

static void enc_cpuid(struct snap_enc *e, const struct kvm_cpuid2 *c)
{
	unsigned int i;

	snap_enc_put_u32(e, c->nent);
	for (i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *x = &c->entries[i];

		snap_enc_put_u32(e, x->function);
		snap_enc_put_u32(e, x->index);
		snap_enc_put_u32(e, x->flags);
		snap_enc_put_u32(e, x->eax);
		snap_enc_put_u32(e, x->ebx);
		snap_enc_put_u32(e, x->ecx);
		snap_enc_put_u32(e, x->edx);
	}
}

int vm_snapshot_check_cpuid(const struct vm_snapshot *snap, unsigned int vcpu,
			    const void *host_cpuid)
{
	const struct kvm_cpuid2 *here = host_cpuid;
	const struct snap_section *sec;
	char name[SNAP_NAME_FIELD];
	struct snap_dec d;
	unsigned int n, i;
	int ret;

	snprintf(name, sizeof(name), "cpuid.%u", vcpu);
	ret = snap_image_require(&snap->img, name, SEC_CPUID_V, SEC_CPUID_V, &sec);
	if (ret)
		return ret;
	snap_dec_init_section(&d, sec);
	n = snap_dec_get_u32_max(&d, CPUID_MAX_ENT, "CPUID entries");
	if (!d.in.err && n != here->nent)
		return err_set(-EINVAL, "snapshot was taken on another CPU: vCPU %u saw %u CPUID "
			       "leaves, this host offers %u", vcpu, n, here->nent);
	for (i = 0; i < n && !d.in.err; i++) {
		const struct kvm_cpuid_entry2 *x = &here->entries[i];
		uint32_t v[7];
		unsigned int k;

		for (k = 0; k < 7; k++)
			v[k] = snap_dec_get_u32(&d);
		if (d.in.err)
			break;
		if (v[0] != x->function || v[1] != x->index || v[3] != x->eax || v[4] != x->ebx ||
		    v[5] != x->ecx || v[6] != x->edx)
			return err_set(-EINVAL, "snapshot was taken on another CPU: CPUID leaf "
				       "0x%x.%u differs (snapshot %08x %08x %08x %08x, this host "
				       "%08x %08x %08x %08x)", v[0], v[1], v[3], v[4], v[5], v[6],
				       x->eax, x->ebx, x->ecx, x->edx);
	}
	return snap_dec_finish(&d) ? -EINVAL : 0;
}

/* ---------------------------------------------------------------- devices */

static int save_device(struct snap_enc *e, struct device *dev)
{
	unsigned int i, n = 0;

	for (i = 0; i < dev->cls->nr_attrs; i++)
		n += dev->cls->attrs[i].access == DEV_ATTR_STATE;
	snap_enc_put_str(e, dev->id);
	snap_enc_put_str(e, dev->cls->type);
	snap_enc_put_u32(e, dev->cls->state_version);
	snap_enc_put_u32(e, n);
	for (i = 0; i < dev->cls->nr_attrs; i++) {
		const struct dev_attr *a = &dev->cls->attrs[i];
		struct dev_value v;
		int ret;

		if (a->access != DEV_ATTR_STATE)
			continue;
		memset(&v, 0, sizeof(v));
		ret = dev_attr_get(dev, a->name, &v);
		if (ret)
			return err_prefix(ret, "device '%s' attribute '%s'", dev->id, a->name);
		snap_enc_put_str(e, a->name);
		snap_enc_put_u8(e, (uint8_t)a->type);
		switch (a->type) {
		case DEV_ATTR_U64: snap_enc_put_u64(e, v.u64); break;
		case DEV_ATTR_BOOL: snap_enc_put_u8(e, v.b); break;
		case DEV_ATTR_STR: snap_enc_put_str(e, v.str); break;
		case DEV_ATTR_BYTES:
			snap_enc_put_u32(e, (uint32_t)v.len);
			snap_enc_put_bytes(e, v.bytes, v.len);
			break;
		}
		dev_value_release(&v);
	}
	return 0;
}

static int save_devices(struct vm *vm, struct snap_image *img)
{
	struct snap_enc e;
	unsigned int i;

	snap_enc_init(&e);
	snap_enc_put_u32(&e, vm->devices.nr);
	for (i = 0; i < vm->devices.nr; i++) {
		int ret = save_device(&e, vm->devices.devs[i]);

		if (ret) {
			snap_enc_free(&e);
			return ret;
		}
	}
	return snap_image_add_enc(img, "devices", SEC_DEV_V, &e);
}

/* One device's record: checked against @dev (found by its id), then its
 * attributes written in the saved order (the class's order). */
static int restore_device(struct snap_dec *d, struct device *dev)
{
	char type[64], attr[64];
	unsigned int n, i;
	uint32_t ver;
	int ret;

	snap_dec_get_str(d, type, sizeof(type));
	ver = snap_dec_get_u32(d);
	n = snap_dec_get_u32_max(d, 256, "attributes");
	if (d->in.err)
		return -EINVAL;
	if (strcmp(type, dev->cls->type))
		return err_set(-EINVAL, "snapshot: device '%s' is a %s in the snapshot, a %s here",
			       dev->id, type, dev->cls->type);
	if (ver != dev->cls->state_version)
		return err_set(-EPROTONOSUPPORT, "snapshot: device '%s' (%s) has state version %u, "
			       "this kite reads version %u", dev->id, type, ver,
			       dev->cls->state_version);
	for (i = 0; i < n && !d->in.err; i++) {
		const struct dev_attr *a;
		struct dev_value v;
		uint8_t t;

		memset(&v, 0, sizeof(v));
		snap_dec_get_str(d, attr, sizeof(attr));
		t = snap_dec_get_u8(d);
		v.type = (enum dev_attr_type)t;
		switch (t) {
		case DEV_ATTR_U64: v.u64 = snap_dec_get_u64(d); break;
		case DEV_ATTR_BOOL: v.b = snap_dec_get_u8(d) != 0; break;
		case DEV_ATTR_STR: snap_dec_get_str(d, v.str, sizeof(v.str)); break;
		case DEV_ATTR_BYTES:
			v.len = snap_dec_get_u32_max(d, DEV_BYTES_MAX, "attribute bytes");
			if (!d->in.err && !dev_value_alloc(&v, v.len))
				return err_set(-ENOMEM, "out of memory");
			snap_dec_get_bytes(d, v.bytes, v.len);
			break;
		default:
			if (!d->in.err)
				return err_set(-EINVAL, "snapshot: device '%s' attribute '%s' has "
					       "unknown type %u", dev->id, attr, t);
		}
		if (d->in.err) {
			dev_value_release(&v);
			break;
		}
		a = dev_attr_find(dev, attr);
		if (!a || a->access != DEV_ATTR_STATE || a->type != v.type) {
			dev_value_release(&v);
			return err_set(-EINVAL, "snapshot: device '%s' (%s) has no %s state "
				       "attribute '%s'", dev->id, type, dev_attr_type_name(v.type), attr);
		}
		ret = dev_attr_set(dev, attr, &v, true);
		dev_value_release(&v);
		if (ret)
			return err_prefix(ret, "snapshot: restoring device '%s' attribute '%s'",
					  dev->id, attr);
	}
	return d->in.err ? -EINVAL : 0;
}

static int restore_devices(struct vm *vm, const struct vm_snapshot *snap)
{
	bool seen[DEV_MAX] = { false };
	const struct snap_section *sec;
	char id[DEV_ID_MAX];
	struct snap_dec d;
	unsigned int n, i, k;
	int ret = snap_image_require(&snap->img, "devices", SEC_DEV_V, SEC_DEV_V, &sec);

	if (ret)
		return ret;
	snap_dec_init_section(&d, sec);
	n = snap_dec_get_u32_max(&d, DEV_MAX, "devices");
	if (!d.in.err && n != vm->devices.nr)
		return err_set(-EINVAL, "snapshot: it has %u devices, this machine %u", n,
			       vm->devices.nr);
	for (i = 0; i < n && !d.in.err; i++) {
		snap_dec_get_str(&d, id, sizeof(id));
		for (k = 0; k < vm->devices.nr && strcmp(vm->devices.devs[k]->id, id); k++)
			;
		if (d.in.err)
			break;
		if (k == vm->devices.nr || seen[k])
			return err_set(-EINVAL, "snapshot: device '%s' is not in this machine "
				       "(or twice in the snapshot)", id);
		seen[k] = true;
		ret = restore_device(&d, vm->devices.devs[k]);
		if (ret && !d.in.err)
			return ret;
	}
	return snap_dec_finish(&d) ? -EINVAL : 0;
}

/* ---------------------------------------------------------------- create */

static int save_cpu_state(struct vm *vm, struct snap_image *img)
{
	struct x86_state_caps *caps = calloc(1, sizeof(*caps));
	struct x86_vcpu_state *vs = calloc(1, sizeof(*vs));
	struct x86_vm_state *ms = calloc(1, sizeof(*ms));
	char name[SNAP_NAME_FIELD];
	uint8_t *buf = NULL;
	unsigned int i;
	size_t len;
	int ret = caps && vs && ms ? 0 : err_set(-ENOMEM, "out of memory");

	if (!ret)
		ret = x86_state_probe(vm->kvm.fd, vm->vm_fd, caps);
	for (i = 0; !ret && i < vm->nr_vcpus; i++) {
		ret = x86_vcpu_state_save(vm->vcpus[i].fd, caps, vs);
		if (!ret)
			ret = x86_vcpu_state_encode(vs, &buf, &len);
		snprintf(name, sizeof(name), "vcpu.%u", i);
		if (!ret)
			ret = snap_image_add_owned(img, name, SEC_VCPU_V, buf, len);
		if (ret)
			ret = err_prefix(ret, "vCPU %u", i);
	}
	if (!ret)
		ret = x86_vm_state_save(vm->vm_fd, ms);
	if (!ret)
		ret = x86_vm_state_encode(ms, &buf, &len);
	if (!ret)
		ret = snap_image_add_owned(img, "x86.vm", SEC_X86VM_V, buf, len);
	free(caps);
	free(vs);
	free(ms);
	return ret;
}

static void enc_memory(struct snap_enc *e, const struct vm_memfile_chain *ch, uint64_t size)
{
	unsigned int i;

	snap_enc_put_u64(e, size);
	snap_enc_put_u32(e, ch->n);
	for (i = 0; i < ch->n; i++) {
		snap_enc_put_str(e, ch->path[i]);
		snap_enc_put_bytes(e, ch->id[i], SNAP_MEM_ID_LEN);
	}
}

int vm_snapshot_add_machine(struct vm *vm, struct snap_image *img)
{
	char name[SNAP_NAME_FIELD];
	struct snap_enc e;
	unsigned int i;
	int ret;

	snap_enc_init(&e);
	enc_config(&e, &vm->cfg);
	ret = snap_image_add_enc(img, "vm.config", SEC_CONFIG_V, &e);
	for (i = 0; !ret && i < vm->nr_vcpus; i++) {
		struct kvm_cpuid2 *c = guest_cpuid(vm->cpuid, vm->cpuid_cap, i, vm->nr_vcpus);

		if (!c)
			return -EINVAL;
		snap_enc_init(&e);
		enc_cpuid(&e, c);
		free(c);
		snprintf(name, sizeof(name), "cpuid.%u", i);
		ret = snap_image_add_enc(img, name, SEC_CPUID_V, &e);
	}
	return ret;
}

int vm_snapshot_add_state(struct vm *vm, struct snap_image *img)
{
	int ret = vm_snapshot_add_machine(vm, img);

	if (!ret)
		ret = save_cpu_state(vm, img);
	if (!ret)
		ret = save_devices(vm, img);
	return ret;
}

int vm_snapshot_create(struct vm *vm, const struct snapshot_request *req)
{
	struct snap_image img;
	struct snap_enc e;
	int ret;

	if (vm_get_state(vm) != VM_STATE_PAUSED)
		return err_set(-EBUSY, "the VM must be paused for a snapshot (PATCH /vm "
			       "{\"state\":\"Paused\"} or kite ctl pause)");
	if (!req->snapshot_path || !req->snapshot_path[0] || !req->mem_file_path ||
	    !req->mem_file_path[0])
		return err_set(-EINVAL, "a snapshot needs snapshot_path and mem_file_path");
	if (strlen(req->mem_file_path) >= SNAP_PATH_MAX)
		return err_set(-ENAMETOOLONG, "mem_file_path is too long");
	ret = snap_image_init(&img, vm->cfg.version ? vm->cfg.version : "unknown");
	if (ret)
		return ret;
	/* Memory first: a diff needs the chain of the previous snapshot. */
	ret = vm_memfile_write(vm, req->mem_file_path, req->type == SNAPSHOT_DIFF);
	if (!ret) {
		snap_enc_init(&e);
		enc_memory(&e, vm->memfiles, vm->cfg.mem_size);
		ret = snap_image_add_enc(&img, "memory", SEC_MEMORY_V, &e);
	}
	if (!ret)
		ret = vm_snapshot_add_state(vm, &img);
	if (!ret)
		ret = snap_image_write_path(&img, req->snapshot_path);
	snap_image_free(&img);
	if (!ret)
		log_info("snapshot %s (%s memory in %s)", req->snapshot_path,
			 req->type == SNAPSHOT_DIFF ? "diff" : "full", req->mem_file_path);
	return ret;
}

/* ---------------------------------------------------------------- restore */

int vm_snapshot_open(struct vm_snapshot *snap, const char *path, const char *mem_file,
		     struct vm_config *cfg)
{
	const struct snap_section *sec;
	struct snap_dec d;
	unsigned int i;
	int ret;

	memset(snap, 0, sizeof(*snap));
	ret = snap_image_read_path(&snap->img, path);
	if (ret)
		return ret;
	ret = snap_image_require(&snap->img, "vm.config", SEC_CONFIG_V, SEC_CONFIG_V, &sec);
	if (!ret)
		ret = dec_config(sec, cfg, snap->console_path, sizeof(snap->console_path));
	if (!ret)
		ret = vm_net_overrides_apply(cfg);
	if (!ret)
		ret = snap_image_require(&snap->img, "memory", SEC_MEMORY_V, SEC_MEMORY_V, &sec);
	if (ret)
		goto fail;
	snap_dec_init_section(&d, sec);
	snap->mem_size = snap_dec_get_u64(&d);
	snap->nr_mem = snap_dec_get_u32_max(&d, SNAP_MEM_CHAIN_MAX, "memory files");
	for (i = 0; i < snap->nr_mem && !d.in.err; i++) {
		snap_dec_get_str(&d, snap->mem_path[i], sizeof(snap->mem_path[i]));
		snap_dec_get_bytes(&d, snap->mem_id[i], SNAP_MEM_ID_LEN);
	}
	ret = snap_dec_finish(&d) ? -EINVAL : 0;
	if (!ret && (snap->nr_mem == 0 || snap->mem_size != cfg->mem_size))
		ret = err_set(-EINVAL, "snapshot: section 'memory' does not describe the "
			      "machine's %" PRIu64 " bytes of RAM", cfg->mem_size);
	if (ret)
		goto fail;
	if (mem_file) {
		if (strlen(mem_file) >= SNAP_PATH_MAX) {
			ret = err_set(-ENAMETOOLONG, "--mem-file path is too long");
			goto fail;
		}
		snprintf(snap->mem_path[snap->nr_mem - 1], SNAP_PATH_MAX, "%s", mem_file);
	}
	for (i = 0; i < snap->nr_mem; i++) {
		ret = vm_memfile_check(snap->mem_path[i], snap->mem_id[i], snap->mem_size);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	snap_image_free(&snap->img);
	return ret;
}

int vm_snapshot_open_incoming(struct vm_snapshot *snap, const void *state, size_t len,
			      struct guest_ram_block *ram, struct vm_config *cfg)
{
	const struct snap_section *sec;
	int ret;

	memset(snap, 0, sizeof(*snap));
	ret = snap_image_parse(&snap->img, state, len);
	if (ret)
		return err_prefix(ret, "the migrated state");
	ret = snap_image_require(&snap->img, "vm.config", SEC_CONFIG_V, SEC_CONFIG_V, &sec);
	if (!ret)
		ret = dec_config(sec, cfg, snap->console_path, sizeof(snap->console_path));
	if (!ret)
		ret = vm_net_overrides_apply(cfg);
	if (!ret && cfg->mem_size != ram->size)
		ret = err_set(-EINVAL, "the migrated machine has %" PRIu64 " bytes of RAM, the "
			      "stream %" PRIu64, cfg->mem_size, ram->size);
	if (ret) {
		snap_image_free(&snap->img);
		return ret;
	}
	snap->mem_size = ram->size;
	snap->ram = ram;
	return 0;
}

/* Is section @name byte-identical in @a and @b? */
static int same_section(const struct vm_snapshot *a, const struct vm_snapshot *b,
			const char *name)
{
	const struct snap_section *x, *y;
	int ret = snap_image_require(&a->img, name, 0, UINT32_MAX, &x);

	if (!ret)
		ret = snap_image_require(&b->img, name, 0, UINT32_MAX, &y);
	if (!ret && (x->version != y->version || x->len != y->len ||
		     memcmp(x->data, y->data, x->len)))
		ret = err_set(-EINVAL, "section '%s' changed: the machine is not the one first "
			      "described", name);
	return ret;
}

int vm_snapshot_same_machine(const struct vm_snapshot *a, const struct vm_snapshot *b,
			     unsigned int ncpus)
{
	char name[SNAP_NAME_FIELD];
	unsigned int i;
	int ret = same_section(a, b, "vm.config");

	for (i = 0; !ret && i < ncpus; i++) {
		snprintf(name, sizeof(name), "cpuid.%u", i);
		ret = same_section(a, b, name);
	}
	return ret;
}

void vm_snapshot_close(struct vm_snapshot *snap)
{
	snap_image_free(&snap->img);
}

int vm_snapshot_apply(struct vm *vm, const struct vm_snapshot *snap)
{
	struct x86_state_caps *caps = calloc(1, sizeof(*caps));
	struct x86_vcpu_state *vs = calloc(1, sizeof(*vs));
	struct x86_vm_state *ms = calloc(1, sizeof(*ms));
	const struct snap_section *sec;
	char name[SNAP_NAME_FIELD];
	unsigned int i;
	int ret = caps && vs && ms ? 0 : err_set(-ENOMEM, "out of memory");

	if (!ret)
		ret = x86_state_probe(vm->kvm.fd, vm->vm_fd, caps);
	/* Decode everything before changing anything. */
	if (!ret)
		ret = snap_image_require(&snap->img, "x86.vm", SEC_X86VM_V, SEC_X86VM_V, &sec);
	if (!ret)
		ret = x86_vm_state_decode(sec->data, sec->len, ms);
	if (!ret)
		ret = x86_vm_state_restore(vm->vm_fd, ms);
	for (i = 0; !ret && i < vm->nr_vcpus; i++) {
		snprintf(name, sizeof(name), "vcpu.%u", i);
		ret = snap_image_require(&snap->img, name, SEC_VCPU_V, SEC_VCPU_V, &sec);
		if (!ret)
			ret = x86_vcpu_state_decode(sec->data, sec->len, vs);
		if (!ret)
			ret = x86_vcpu_state_restore(vm->vcpus[i].fd, caps, vs);
		if (ret)
			ret = err_prefix(ret, "snapshot: vCPU %u", i);
	}
	if (!ret)
		ret = restore_devices(vm, snap);
	free(caps);
	free(vs);
	free(ms);
	return ret;
}

/* The MAC --net gave for a saved network device, into the restored device. */
static int new_mac(struct vm *vm, const struct vm_net_override *o)
{
	struct device *dev = dev_find(&vm->devices, o->net.id);
	const uint8_t *m = o->net.mac;
	int ret;

	if (!dev || dev->cls != &virtio_net_class)	/* apply_net_override checked */
		return err_set(-ENOENT, "--net id=%s: no such network device", o->net.id);
	ret = virtio_net_set_mac(virtio_from_dev(dev), m);
	if (ret)
		return ret;
	log_info("%s: MAC %02x:%02x:%02x:%02x:%02x:%02x", o->net.id, m[0], m[1], m[2], m[3],
		 m[4], m[5]);
	return 0;
}

int vm_net_overrides_set_macs(struct vm *vm)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; !ret && i < vm->cfg.nr_net_overrides; i++)
		if (vm->cfg.net_overrides[i].mac)
			ret = new_mac(vm, &vm->cfg.net_overrides[i]);
	return ret;
}

int vm_snapshot_new_identity(struct vm *vm)
{
	int ret = vm_net_overrides_set_macs(vm);

	if (!ret && !vm->cfg.keep_identity)
		ret = vmgenid_regenerate(&vm->vmgenid);
	return ret;
}

int vm_snapshot_create_api(struct vm *vm, const char *snapshot_path, const char *mem_file_path,
			   bool diff)
{
	struct snapshot_request req = { snapshot_path, mem_file_path,
					diff ? SNAPSHOT_DIFF : SNAPSHOT_FULL };

	return vm_snapshot_create(vm, &req);
}
