/* SPDX-License-Identifier: MIT */
/* test=reset, test=poweroff: the VM must stop. */
#include "lib.h"
#include "acpi.h"
#include "tsc.h"

GUEST_TEST(reset, "[method=i8042|triple]: reset the machine (i8042: 0xfe to port 0x64)")
{
	char method[16] = "i8042";

	cmdline_get("method", method, sizeof(method));
	printf("resetting (%s)\n", method);
	if (!strcmp(method, "i8042"))
		outb(0x64, 0xfe);
	else if (!strcmp(method, "triple"))
		triple_fault();
	else
		fail("unknown reset method '%s'", method);
	mdelay(100);
	fail("still running 100 ms after the %s reset", method);
}

GUEST_TEST(poweroff, "ACPI S5 through the FADT (sleep control register or PM1a_CNT)")
{
	const struct acpi_info *a = acpi_get();

	if (!a)
		fail("no ACPI tables: %s", acpi_error());
	if (!a->fadt)
		fail("no FADT");
	if (a->hw_reduced) {
		if (!a->has_sleep_ctl)
			fail("hardware-reduced FADT without a sleep control register");
		printf("powering off: SLP_TYP %d via sleep control register (%s 0x%llx)\n",
		       a->s5_slp_typ >= 0 ? a->s5_slp_typ : 5,
		       a->sleep_ctl.space_id == 1 ? "port" : "mmio",
		       (unsigned long long)a->sleep_ctl.address);
	} else {
		if (!a->pm1a_cnt)
			fail("FADT without PM1a_CNT_BLK");
		printf("powering off: SLP_TYP %d via PM1a_CNT port 0x%x\n",
		       a->s5_slp_typ >= 0 ? a->s5_slp_typ : 5, a->pm1a_cnt);
	}
	acpi_poweroff();
	fail("still running 100 ms after the ACPI S5 write");
}
