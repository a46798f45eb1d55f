// SPDX-License-Identifier: MIT
/*
 * The stateless ports: debug-exit, ACPI sleep control, POST code.
 */
#include "arch/x86/layout.h"
#include "core/log.h"
#include "devices/legacy.h"

static void debug_exit_write(void *opaque, uint64_t offset, const uint8_t *data,
			     uint32_t size)
{
	uint32_t v = 0;
	uint32_t i;

	(void)offset;
	for (i = 0; i < size && i < 4; i++)
		v |= (uint32_t)data[i] << (8 * i);
	/* QEMU's isa-debug-exit: exit((val << 1) | 1); the OS keeps 8 bits. */
	runstate_request_stop(opaque, VM_STOP_DEBUG_EXIT, (int)(((v << 1) | 1) & 0xff),
			      "guest wrote 0x%x to the debug-exit port", v);
}

static const struct bus_ops debug_exit_ops = { .write = debug_exit_write };

int debug_exit_init(struct runstate *rs, struct bus *pio, uint64_t port)
{
	return bus_register(pio, port, 1, &debug_exit_ops, rs, "debug-exit");
}

#define SLP_EN		(1u << 5)
#define SLP_TYP(v)	(((v) >> 2) & 7)

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t size)
{
	uint32_t i;

	(void)opaque;
	(void)offset;
	for (i = 0; i < size; i++)
		data[i] = 0;	/* sleep status: never woken */
}

static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data,
			  uint32_t size)
{
	(void)size;
	if (offset != X86_PM_SLEEP_CTL_PORT - X86_PM_SLEEP_CTL_PORT || !(data[0] & SLP_EN))
		return;
	if (SLP_TYP(data[0]) == X86_PM_SLP_TYP_S5)
		runstate_request_stop(opaque, VM_STOP_POWEROFF, KITE_EXIT_OK,
				      "guest powered off (ACPI S5)");
	else
		log_info("guest asked for ACPI sleep type %u, which kite does not support",
			 SLP_TYP(data[0]));
}

static const struct bus_ops acpi_pm_ops = { .read = acpi_pm_read, .write = acpi_pm_write };

int acpi_pm_init(struct runstate *rs, struct bus *pio)
{
	return bus_register(pio, X86_PM_SLEEP_CTL_PORT, 2, &acpi_pm_ops, rs, "acpi-pm");
}

static const struct bus_ops post_ops = { .read = acpi_pm_read };

int post_init(struct bus *pio)
{
	return bus_register(pio, POST_PORT, 1, &post_ops, NULL, "post");
}

/* Stateless devices: listed with their resources, no attributes. */
const struct dev_class debug_exit_class = { .type = "debug-exit" };
const struct dev_class acpi_pm_class = { .type = "acpi-sleep-control" };
const struct dev_class post_class = { .type = "post-port" };
