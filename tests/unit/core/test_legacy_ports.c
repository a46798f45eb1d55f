// SPDX-License-Identifier: MIT
/*
 * Unit tests of the small PC ports that end a VM: the i8042 reset, the
 * debug-exit port and ACPI S5, each driven through a port I/O bus.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "core/bus.h"
#include "core/runstate.h"
#include "devices/legacy.h"
#include "harness.h"

struct rig {
	struct runstate rs;
	struct bus bus;
	struct i8042 kbd;
};

/* A runstate and a bus with the i8042, debug-exit at 0x501 and ACPI PM. */
static int rig_setup(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	if (runstate_init(&r->rs))
		return -1;
	bus_init(&r->bus, "pio");
	if (i8042_init(&r->kbd, &r->rs, &r->bus, (struct irq_line){ .vm_fd = -1 }) ||
	    debug_exit_init(&r->rs, &r->bus, DEBUG_EXIT_PORT) ||
	    acpi_pm_init(&r->rs, &r->bus) || post_init(&r->bus))
		return -1;
	return 0;
}

static void rig_teardown(struct rig *r)
{
	i8042_destroy(&r->kbd);
	bus_destroy(&r->bus);
	runstate_destroy(&r->rs);
}

#define SETUP(r)						\
	do {							\
		if (rig_setup(r))				\
			SKIP("cannot build the rig: no eventfd?");	\
	} while (0)

static uint8_t inb(struct rig *r, uint16_t port)
{
	uint8_t v = 0xee;

	if (!bus_access(&r->bus, port, &v, 1, false))
		return 0xee;
	return v;
}

static bool outb(struct rig *r, uint16_t port, uint8_t v)
{
	return bus_access(&r->bus, port, &v, 1, true);
}

static bool wake_fd_readable(struct rig *r)
{
	uint64_t v;

	return read(r->rs.wake_fd, &v, sizeof(v)) == (ssize_t)sizeof(v) && v > 0;
}

static void i8042_command_0xfe_requests_a_reset_with_status_0(void)
{
	struct rig r;

	SETUP(&r);
	CHECK(outb(&r, I8042_CMD_PORT, 0xfe));
	CHECK(runstate_stopping(&r.rs));
	CHECK_EQ(r.rs.reason, VM_STOP_RESET);
	CHECK_EQ(r.rs.exit_status, 0);
	CHECK(strstr(r.rs.message, "reset") != NULL);
	CHECK(wake_fd_readable(&r));
	rig_teardown(&r);
}

static void i8042_reads_back_the_ctr_written_with_command_0x60(void)
{
	struct rig r;

	SETUP(&r);
	CHECK(outb(&r, I8042_CMD_PORT, 0x20));
	CHECK_EQ(inb(&r, I8042_DATA_PORT), 0x00);	/* reset value */
	CHECK(outb(&r, I8042_CMD_PORT, 0x60));
	CHECK(outb(&r, I8042_DATA_PORT, 0x47));
	CHECK(outb(&r, I8042_CMD_PORT, 0x20));
	CHECK_EQ(inb(&r, I8042_DATA_PORT), 0x47);
	/* A data byte with no command pending does not touch the CTR. */
	CHECK(outb(&r, I8042_DATA_PORT, 0x11));
	CHECK(outb(&r, I8042_CMD_PORT, 0x20));
	CHECK_EQ(inb(&r, I8042_DATA_PORT), 0x47);
	CHECK(!runstate_stopping(&r.rs));
	rig_teardown(&r);
}

static void i8042_self_test_answers_0x55(void)
{
	struct rig r;

	SETUP(&r);
	CHECK(outb(&r, I8042_CMD_PORT, 0xaa));
	CHECK_EQ(inb(&r, I8042_DATA_PORT), 0x55);
	CHECK(outb(&r, I8042_CMD_PORT, 0xab));		/* keyboard port test */
	CHECK_EQ(inb(&r, I8042_DATA_PORT), 0x00);
	rig_teardown(&r);
}

static void i8042_status_sets_obf_until_the_output_is_read(void)
{
	struct rig r;

	SETUP(&r);
	CHECK_EQ(inb(&r, I8042_CMD_PORT) & 0x01, 0);
	CHECK_EQ(inb(&r, I8042_CMD_PORT) & 0x04, 0x04);	/* system flag */
	CHECK(outb(&r, I8042_CMD_PORT, 0xaa));
	CHECK_EQ(inb(&r, I8042_CMD_PORT) & 0x01, 0x01);
	CHECK_EQ(inb(&r, I8042_DATA_PORT), 0x55);
	CHECK_EQ(inb(&r, I8042_CMD_PORT) & 0x01, 0);
	rig_teardown(&r);
}

static void i8042_port_0x61_reads_as_zero(void)
{
	struct rig r;

	SETUP(&r);
	CHECK_EQ(inb(&r, 0x61), 0x00);
	rig_teardown(&r);
}

static void debug_exit_write_gives_status_v_shl_1_or_1(void)
{
	static const struct { uint8_t v; int status; } cases[] = {
		{ 0x00, 0x01 }, { 0x01, 0x03 }, { 0x2a, 0x55 }, { 0x7f, 0xff }, { 0xff, 0xff },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig r;

		SETUP(&r);
		CHECK(outb(&r, DEBUG_EXIT_PORT, cases[i].v));
		CHECK(runstate_stopping(&r.rs));
		CHECK_EQ(r.rs.reason, VM_STOP_DEBUG_EXIT);
		CHECK_EQ(r.rs.exit_status, cases[i].status);
		CHECK(wake_fd_readable(&r));
		rig_teardown(&r);
	}
}

static void debug_exit_status_is_always_odd_for_every_byte(void)
{
	unsigned int v;

	for (v = 0; v < 256; v++) {
		struct rig r;

		SETUP(&r);
		CHECK(outb(&r, DEBUG_EXIT_PORT, (uint8_t)v));
		CHECK_EQ(r.rs.exit_status, ((v << 1) | 1) & 0xff);
		CHECK_EQ(r.rs.exit_status & 1, 1);
		rig_teardown(&r);
	}
}

static void debug_exit_first_stop_request_wins(void)
{
	struct rig r;

	SETUP(&r);
	CHECK(outb(&r, DEBUG_EXIT_PORT, 0x2a));
	CHECK(outb(&r, DEBUG_EXIT_PORT, 0x01));		/* ignored */
	CHECK(outb(&r, I8042_CMD_PORT, 0xfe));		/* ignored */
	CHECK(!runstate_request_stop(&r.rs, VM_STOP_SIGNAL, KITE_EXIT_SIGNAL, "late"));
	CHECK_EQ(r.rs.reason, VM_STOP_DEBUG_EXIT);
	CHECK_EQ(r.rs.exit_status, 0x55);
	CHECK(strstr(r.rs.message, "0x2a") != NULL);
	rig_teardown(&r);
}

static void acpi_s5_with_slp_en_powers_off_with_status_0(void)
{
	struct rig r;

	SETUP(&r);
	CHECK(outb(&r, X86_PM_SLEEP_CTL_PORT, 0x34));	/* SLP_TYP 5 | SLP_EN */
	CHECK(runstate_stopping(&r.rs));
	CHECK_EQ(r.rs.reason, VM_STOP_POWEROFF);
	CHECK_EQ(r.rs.exit_status, 0);
	CHECK(wake_fd_readable(&r));
	rig_teardown(&r);
}

static void acpi_s5_without_slp_en_does_not_stop(void)
{
	struct rig r;

	SETUP(&r);
	CHECK(outb(&r, X86_PM_SLEEP_CTL_PORT, 0x14));
	CHECK(!runstate_stopping(&r.rs));
	CHECK_EQ(r.rs.reason, VM_STOP_NONE);
	CHECK(!wake_fd_readable(&r));
	rig_teardown(&r);
}

static void acpi_other_sleep_types_do_not_stop(void)
{
	static const uint8_t vals[] = { 0x24, 0x20, 0x2c, 0x3c };	/* S1, S0, S3, S7 */
	struct rig r;
	unsigned int i;

	SETUP(&r);
	for (i = 0; i < sizeof(vals); i++)
		CHECK(outb(&r, X86_PM_SLEEP_CTL_PORT, vals[i]));
	CHECK(outb(&r, X86_PM_SLEEP_STS_PORT, 0x34));	/* status, not control */
	CHECK(!runstate_stopping(&r.rs));
	CHECK(!wake_fd_readable(&r));
	rig_teardown(&r);
}

static void acpi_sleep_status_reads_as_zero(void)
{
	struct rig r;

	SETUP(&r);
	CHECK_EQ(inb(&r, X86_PM_SLEEP_STS_PORT), 0x00);
	CHECK_EQ(inb(&r, X86_PM_SLEEP_CTL_PORT), 0x00);
	rig_teardown(&r);
}

static void post_port_is_claimed_and_does_not_stop(void)
{
	struct rig r;

	SETUP(&r);
	CHECK(outb(&r, POST_PORT, 0x12));
	CHECK_EQ(inb(&r, POST_PORT), 0x00);
	CHECK(!runstate_stopping(&r.rs));
	rig_teardown(&r);
}

static void wake_fd_is_not_readable_before_a_stop_request(void)
{
	struct rig r;

	SETUP(&r);
	CHECK(!wake_fd_readable(&r));
	CHECK(!runstate_stopping(&r.rs));
	rig_teardown(&r);
}

int main(void)
{
	RUN(i8042_command_0xfe_requests_a_reset_with_status_0);
	RUN(i8042_reads_back_the_ctr_written_with_command_0x60);
	RUN(i8042_self_test_answers_0x55);
	RUN(i8042_status_sets_obf_until_the_output_is_read);
	RUN(i8042_port_0x61_reads_as_zero);
	RUN(debug_exit_write_gives_status_v_shl_1_or_1);
	RUN(debug_exit_status_is_always_odd_for_every_byte);
	RUN(debug_exit_first_stop_request_wins);
	RUN(acpi_s5_with_slp_en_powers_off_with_status_0);
	RUN(acpi_s5_without_slp_en_does_not_stop);
	RUN(acpi_other_sleep_types_do_not_stop);
	RUN(acpi_sleep_status_reads_as_zero);
	RUN(post_port_is_claimed_and_does_not_stop);
	RUN(wake_fd_is_not_readable_before_a_stop_request);
	return harness_done();
}
