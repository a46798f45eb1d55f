// SPDX-License-Identifier: MIT
/*
 * vm.c - building and tearing down a VM, in one visible sequence:
 *   KVM -> guest RAM -> buses and devices -> firmware tables -> kernel ->
 *   vCPUs.
 */
#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/cpu.h"
#include "arch/x86/platform/platform.h"
#include "core/log.h"
#include "snapshot/memfile.h"
#include "snapshot/vm_snapshot.h"

/* A file mapped read-only: kernel or initrd. */
struct mapped_file {
	void *data;
	size_t len;
};

#define IMAGE_MAX (2ULL << 30)

static int map_file(const char *what, const char *path, struct mapped_file *f)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	f->data = NULL;
	f->len = 0;
	if (fd < 0)
		return err_set(-errno, "cannot open %s '%s': %s", what, path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(-EINVAL, "%s '%s' is not a regular file", what, path);
	}
	if (st.st_size == 0 || (uint64_t)st.st_size > IMAGE_MAX) {
		close(fd);
		return err_set(-EINVAL, "%s '%s' is %s", what, path,
			       st.st_size ? "larger than 2 GiB" : "empty");
	}
	f->data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f->data == MAP_FAILED) {
		f->data = NULL;
		return err_set(-errno, "cannot read %s '%s': %s", what, path, strerror(errno));
	}
	f->len = (size_t)st.st_size;
	return 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap(f->data, f->len);
	f->data = NULL;
}

static int vm_setup_ram(struct vm *vm)
{
	uint64_t size = vm->cfg.mem_size;
	struct x86_ram_layout *l = &vm->ram_layout;
	struct guest_ram_block *ram;
	int ret;

	*l = x86_ram_layout(size);
	if (vm->cfg.restore && vm->cfg.restore->ram) {
		/* Migrated: RAM has arrived already. */
		ram = guest_ram_get(vm->cfg.restore->ram);
		ret = 0;
	} else if (vm->cfg.restore) {
		/* The snapshot's memory file, private: pages load on first touch. */
		const struct vm_snapshot *snap = vm->cfg.restore;
		struct guest_ram_backing b = { GUEST_RAM_SNAPSHOT, snap->mem_path[0] };
		unsigned int i;

		ret = guest_ram_create(&b, size, "kite-guest-ram", &ram);
		for (i = 1; !ret && i < snap->nr_mem; i++) {
			ret = vm_memfile_overlay(ram->host, size, snap->mem_path[i]);
			if (ret) {
				guest_ram_put(ram);
				return ret;
			}
		}
	} else {
		ret = guest_ram_create(&vm->cfg.mem_backing, size, "kite-guest-ram", &ram);
	}
	if (ret)
		return ret;
	/* Borrowed: the address space's regions own the backing from here on. */
	vm->ram = ram->host;
	vm->ram_fd = ram->fd;
	ret = kvm_vm_set_memory(vm->vm_fd, 0, 0, l->low_end, vm->ram, 0);
	if (!ret)
		ret = as_add(&vm->as, &(struct as_region_spec){
			.gpa = 0, .size = l->low_end, .backing = ram, .slot = 0 });
	if (!ret && l->high_size) {
		ret = kvm_vm_set_memory(vm->vm_fd, 1, X86_MMIO_HOLE_END, l->high_size,
					vm->ram + l->low_end, 0);
		if (!ret)
			ret = as_add(&vm->as, &(struct as_region_spec){
				.gpa = X86_MMIO_HOLE_END, .size = l->high_size, .backing = ram,
				.fd_offset = l->low_end, .slot = 1 });
	}
	guest_ram_put(ram);
	return ret;
}

static int vm_open_serial_output(struct vm *vm)
{
	switch (vm->cfg.serial_mode) {
	case SERIAL_STDIO:
		return STDOUT_FILENO;
	case SERIAL_FILE:
		vm->serial_out_fd = open(vm->cfg.serial_path,
					 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (vm->serial_out_fd < 0)
			return err_set(-errno, "cannot open serial output '%s': %s",
				       vm->cfg.serial_path, strerror(errno));
		return vm->serial_out_fd;
	default:
		return -1;
	}
}

/* One entry in the device model per device: id, class, bus resources. */
static int vm_add_device(struct vm *vm, struct device *dev, const char *id,
			 const struct dev_class *cls, void *priv)
{
	snprintf(dev->id, sizeof(dev->id), "%s", id);
	dev->cls = cls;
	dev->priv = priv;
	return dev_register(&vm->devices, dev);
}

static int vm_register_devices(struct vm *vm)
{
	int ret;

	ret = vm_add_device(vm, &vm->dev_serial, "serial0", &serial_class, &vm->serial);
	dev_add_resource(&vm->dev_serial, DEV_RES_PIO, SERIAL_COM1_BASE, SERIAL_NR_REGS);
	dev_add_resource(&vm->dev_serial, DEV_RES_IRQ, SERIAL_COM1_IRQ, 1);
	if (!ret)
		ret = vm_add_device(vm, &vm->dev_i8042, "i8042", &i8042_class, &vm->i8042);
	dev_add_resource(&vm->dev_i8042, DEV_RES_PIO, I8042_DATA_PORT, 5);
	dev_add_resource(&vm->dev_i8042, DEV_RES_IRQ, I8042_KBD_IRQ, 1);
	if (!ret)
		ret = vm_add_device(vm, &vm->dev_debug_exit, "debug-exit", &debug_exit_class, NULL);
	dev_add_resource(&vm->dev_debug_exit, DEV_RES_PIO, DEBUG_EXIT_PORT, 1);
	if (!ret)
		ret = vm_add_device(vm, &vm->dev_acpi_pm, "acpi-pm", &acpi_pm_class, NULL);
	dev_add_resource(&vm->dev_acpi_pm, DEV_RES_PIO, X86_PM_SLEEP_CTL_PORT, 2);
	if (!ret)
		ret = vm_add_device(vm, &vm->dev_vmgenid, "vmgenid", &vmgenid_class, &vm->vmgenid);
	dev_add_resource(&vm->dev_vmgenid, DEV_RES_IRQ, X86_GED_GSI, 1);
	return ret;
}

static int vm_setup_devices(struct vm *vm)
{
	struct irq_line com1 = { .vm_fd = vm->vm_fd, .gsi = SERIAL_COM1_IRQ };
	struct irq_line kbd = { .vm_fd = vm->vm_fd, .gsi = I8042_KBD_IRQ };
	int out_fd = vm_open_serial_output(vm);
	int ret;

	if (out_fd < -1)
		return out_fd;
	vm->serial_space_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->serial_space_fd < 0)
		return err_set(-errno, "eventfd: %s", strerror(errno));
	serial_init(&vm->serial, com1, out_fd, vm->serial_space_fd);
	ret = serial_register(&vm->serial, &vm->pio, SERIAL_COM1_BASE);
	if (!ret)
		ret = i8042_init(&vm->i8042, &vm->rs, &vm->pio, kbd);
	if (!ret)
		ret = debug_exit_init(&vm->rs, &vm->pio, DEBUG_EXIT_PORT);
	if (!ret)
		ret = acpi_pm_init(&vm->rs, &vm->pio);
	if (!ret)
		ret = post_init(&vm->pio);
	if (!ret)
		ret = irq_line_attach_irqfd(&vm->serial.irq);
	if (!ret)
		ret = irq_line_attach_irqfd(&vm->i8042.kbd_irq);
	/* The generation ID's GED line: KVM_IRQ_LINE, no irqfd (vmgenid.h). */
	vm->vmgenid.irq = (struct irq_line){ .vm_fd = vm->vm_fd, .gsi = X86_GED_GSI };
	return ret ? ret : vm_register_devices(vm);
}

/*
 * The user's command line followed by the device announcements.  A user
 * line that is too long by itself goes to the loader unchanged (it says so);
 * one that only the announcements push over the limit is refused here.
 */
static int vm_build_cmdline(struct vm *vm, char **out)
{
	const char *user = vm->cfg.cmdline ? vm->cfg.cmdline : "";
	const char *dev = vm->cmdline_dev ? vm->cmdline_dev : "";
	size_t ul = strlen(user), dl = strlen(dev);

	*out = malloc(ul + dl + 2);
	if (!*out)
		return err_set(-ENOMEM, "out of memory");
	snprintf(*out, ul + dl + 2, "%s%s%s", user, ul && dl ? " " : "", dev);
	if (ul < X86_CMDLINE_MAX && ul + dl + 1 >= X86_CMDLINE_MAX)
		return err_set(-E2BIG, "the kernel command line with the virtio-mmio device "
			       "announcements is longer than %llu bytes",
			       (unsigned long long)X86_CMDLINE_MAX - 1);
	return 0;
}

static int vm_load_guest(struct vm *vm)
{
	struct x86_acpi_config acpi = { .ncpus = vm->cfg.ncpus, .pci = vm->has_pci,
					.vmgenid_addr = X86_VMGENID_ADDR,
					.ged_gsi = X86_GED_GSI };
	struct mapped_file kernel, initrd = { 0 };
	struct x86_boot_args args;
	char *cmdline = NULL;
	int ret;

	/* Guests with more vCPUs than an MP table holds learn them from ACPI. */
	ret = 0;
	if (vm->cfg.ncpus <= X86_MPTABLE_MAX_CPUS)
		ret = x86_mptable_write(&vm->as, vm->cfg.ncpus);
	if (!ret)
		ret = x86_acpi_write(&vm->as, &acpi, &args.rsdp_gpa);
	if (!ret)
		ret = vmgenid_write_new(&vm->vmgenid);
	if (ret)
		return ret;
	ret = map_file("kernel", vm->cfg.kernel_path, &kernel);
	if (ret)
		return ret;
	if (vm->cfg.initrd_path)
		ret = map_file("initrd", vm->cfg.initrd_path, &initrd);
	if (!ret) {
		args.kernel = (struct x86_boot_image){ kernel.data, kernel.len };
		args.initrd = (struct x86_boot_image){ initrd.data, initrd.len };
		ret = vm_build_cmdline(vm, &cmdline);
		args.cmdline = cmdline;
		args.ram = vm->ram_layout;
		args.protocol = vm->cfg.boot_protocol;
		if (!ret) {
			ret = x86_boot_load(&vm->as, &args, &vm->entry);
			if (ret)
				err_prefix(ret, "kernel '%s'", vm->cfg.kernel_path);
		}
	}
	free(cmdline);
	unmap_file(&kernel);
	unmap_file(&initrd);
	if (!ret)
		ret = x86_boot_memory_setup(&vm->as, vm->entry.mode);
	return ret;
}

static int vm_create_vcpu(struct vm *vm, struct vcpu *vcpu, unsigned int id)
{
	size_t sz = sizeof(*vm->cpuid) + vm->cpuid_cap * sizeof(vm->cpuid->entries[0]);
	struct kvm_cpuid2 *cpuid;
	int ret;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = kvm_vcpu_create(vm->vm_fd, id);
	if (vcpu->fd < 0)
		return vcpu->fd;
	vcpu->run = mmap(NULL, (size_t)vm->kvm.vcpu_mmap_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return err_set(-errno, "cannot map vCPU %u: %s", id, strerror(errno));
	}
	cpuid = malloc(sz);
	if (!cpuid)
		return err_set(-ENOMEM, "out of memory");
	memcpy(cpuid, vm->cpuid, sz);
	ret = x86_cpuid_filter(cpuid, vm->cpuid_cap, id, vm->cfg.ncpus);
	/* A restored guest must see exactly the CPU it was saved on. */
	if (!ret && vm->cfg.restore)
		ret = vm_snapshot_check_cpuid(vm->cfg.restore, id, cpuid);
	if (!ret)
		ret = kvm_vcpu_set_cpuid(vcpu->fd, cpuid);
	free(cpuid);
	if (!ret)
		ret = x86_vcpu_setup_common(vcpu->fd);
	if (!ret && id == 0 && !vm->cfg.restore)
		ret = x86_vcpu_setup_boot(vcpu->fd, &vm->entry);
	return ret ? err_prefix(ret, "vCPU %u", id) : 0;
}

static int vm_create_vcpus(struct vm *vm)
{
	unsigned int i;
	int ret = kvm_supported_cpuid(&vm->kvm, &vm->cpuid, &vm->cpuid_cap);

	if (ret)
		return ret;
	vm->vcpus = calloc(vm->cfg.ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return err_set(-ENOMEM, "out of memory");
	for (i = 0; i < vm->cfg.ncpus; i++) {
		vm->vcpus[i].fd = -1;
		vm->nr_vcpus = i + 1;
		ret = vm_create_vcpu(vm, &vm->vcpus[i], i);
		if (ret)
			return ret;
	}
	return 0;
}

static void vm_init_empty(struct vm *vm, const struct vm_config *cfg)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->kvm.fd = vm->vm_fd = vm->ram_fd = -1;
	vm->rs.wake_fd = -1;
	vm->serial_out_fd = vm->serial_space_fd = -1;
	as_init(&vm->as);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	serial_init(&vm->serial, (struct irq_line){ .vm_fd = -1 }, -1, -1);
	vmgenid_init(&vm->vmgenid, &vm->as, X86_VMGENID_ADDR, (struct irq_line){ .vm_fd = -1 });
	pthread_mutex_init(&vm->pause.lock, NULL);
	pthread_mutex_init(&vm->irq.lock, NULL);
	pthread_cond_init(&vm->pause.cond, NULL);
	pthread_mutex_init(&vm->i8042.lock, NULL);
}

static int vm_check_limits(struct vm *vm)
{
	unsigned int max = (unsigned int)vm->kvm.max_vcpus;

	if (max > X86_MAX_CPUS)
		max = X86_MAX_CPUS;
	if (vm->cfg.ncpus < 1 || vm->cfg.ncpus > max)
		return err_set(-EINVAL, "--cpus %u is out of range: this host allows 1..%u",
			       vm->cfg.ncpus, max);
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, int *exit_status)
{
	int ret;

	vm_init_empty(vm, cfg);
	*exit_status = KITE_EXIT_HOST_ERROR;
	ret = runstate_init(&vm->rs);
	if (ret)
		goto fail;
	ret = kvm_sys_open(&vm->kvm, cfg->kvm_path);
	if (!ret)
		ret = vm_check_limits(vm);
	if (ret) {
		*exit_status = ret == -EINVAL ? KITE_EXIT_USAGE : KITE_EXIT_NO_KVM;
		goto fail;
	}
	vm->vm_fd = kvm_vm_create(&vm->kvm);
	/*
	 * Memory slots before the irqchip: once the in-kernel irqchip exists, a
	 * memslot update waits for an SRCU grace period (~6 ms here).
	 */
	ret = vm->vm_fd < 0 ? vm->vm_fd : vm_setup_ram(vm);
	if (!ret)
		ret = kvm_vm_setup_x86(vm->vm_fd);
	if (!ret)
		ret = irq_router_init(&vm->irq, vm->vm_fd, (uint32_t)kvm_max_irq_routes(vm->vm_fd));
	if (!ret)
		ret = vm_setup_devices(vm);
	if (!ret)
		ret = vm_setup_virtio(vm);
	if (ret)
		goto fail;
	ret = cfg->restore ? 0 : vm_load_guest(vm);
	if (ret) {
		*exit_status = KITE_EXIT_BAD_IMAGE;
		goto fail;
	}
	ret = vm_create_vcpus(vm);
	if (!ret)
		ret = vm_start_virtio(vm);
	if (!ret && cfg->restore && cfg->restore_later)
		ret = vm_pause(vm);	/* the state comes later: vm_restore_state() */
	else if (!ret && cfg->restore)
		ret = vm_restore_state(vm, cfg->restore);
	if (ret)
		goto fail;
	*exit_status = KITE_EXIT_OK;
	return 0;
fail:
	vm_destroy(vm);
	return ret;
}

int vm_restore_state(struct vm *vm, const struct vm_snapshot *snap)
{
	int ret = vm_pause(vm);

	if (!ret)
		ret = vm_snapshot_apply(vm, snap);
	if (!ret)
		ret = vm_snapshot_new_identity(vm);
	if (!ret && vm->cfg.diff_snapshots)
		ret = vm_memfile_track_from(vm, snap);
	if (!ret && vm->cfg.resume)
		ret = vm_resume(vm);
	return ret ? err_prefix(ret, "cannot restore the snapshot") : 0;
}

/* In the child: keep only @keep (sorted ascending, n >= 1) open. */
static void close_all_but(const int *keep, unsigned int n)
{
	unsigned int lo = 0, i;

	for (i = 0; i < n; i++) {
		if ((unsigned int)keep[i] > lo)
			close_range(lo, (unsigned int)keep[i] - 1, 0);
		lo = (unsigned int)keep[i] + 1;
	}
	close_range(lo, ~0u, 0);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void vm_detach_teardown(struct vm *vm)
{
	int keep[X86_MAX_CPUS + 4];
	unsigned int n = 0, i;
	int alive[2], ready[2];
	pid_t pid;
	char c;

	if (vm->vm_fd < 0 || pipe2(alive, O_CLOEXEC))
		return;
	if (pipe2(ready, O_CLOEXEC)) {
		close(alive[0]);
		close(alive[1]);
		return;
	}
	pid = fork();
	if (pid != 0) {		/* parent (or fork failed): teardown as usual */
		close(alive[0]);
		close(ready[1]);
		/*
		 * Wait until the child has closed its copies of everything but
		 * the KVM fds: a tap, disk or socket must be free for the next
		 * user when kite exits, not when the child gets scheduled.
		 */
		while (pid > 0 && read(ready[0], &c, 1) < 0 && errno == EINTR)
			;
		close(ready[0]);
		/* alive[1] stays open until kite exits: the child waits for EOF. */
		return;
	}
	keep[n++] = alive[0];
	keep[n++] = ready[1];
	keep[n++] = vm->vm_fd;
	keep[n++] = vm->kvm.fd;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].fd >= 0)
			keep[n++] = vm->vcpus[i].fd;
	qsort(keep, n, sizeof(keep[0]), cmp_int);
	close_all_but(keep, n);
	close(ready[1]);	/* the parent goes on */
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	while (read(alive[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);	/* the kernel closes the KVM fds and destroys the VM */
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	vm_destroy_virtio(vm);
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].run)
			munmap(vm->vcpus[i].run, (size_t)vm->kvm.vcpu_mmap_size);
		if (vm->vcpus[i].fd >= 0)
			close(vm->vcpus[i].fd);
	}
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	free(vm->cpuid);
	vm->cpuid = NULL;
	vm_memfile_free(vm);
	irq_line_detach(&vm->serial.irq);
	irq_line_detach(&vm->i8042.kbd_irq);
	vmgenid_destroy(&vm->vmgenid);
	serial_destroy(&vm->serial);
	i8042_destroy(&vm->i8042);
	irq_router_destroy(&vm->irq);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	/* Guest RAM belongs to the address space's regions (vm->ram, ram_fd are borrowed). */
	as_destroy(&vm->as);
	vm->ram = NULL;
	if (vm->serial_out_fd >= 0)
		close(vm->serial_out_fd);
	if (vm->serial_space_fd >= 0)
		close(vm->serial_space_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	kvm_sys_close(&vm->kvm);
	runstate_destroy(&vm->rs);
	vm->ram_fd = vm->serial_out_fd = vm->serial_space_fd = vm->vm_fd = -1;
}
