/* SPDX-License-Identifier: MIT */
/* test=ring0: the ring-3 -> ring-0 gates the library relies on. */
#include "lib.h"
#include "tsc.h"

static unsigned long k_add1(unsigned long x)
{
	return x + 1;
}

static unsigned long k_rflags(unsigned long x)
{
	unsigned long f;

	(void)x;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

GUEST_TEST(ring0, "kcall, sti/cli gates and the TSC calibration work")
{
	unsigned long f;

	if (kcall(k_add1, 41) != 42)
		fail("kcall returned the wrong value");
	printf("ring0: kcall ok, ring-0 RFLAGS 0x%lx\n", kcall(k_rflags, 0));
	irq_enable();
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	irq_disable();
	printf("ring0: RFLAGS after sti gate 0x%lx\n", f);
	if (!(f & 0x200))
		fail("IF still clear after the sti gate");
	printf("ring0: TSC %llu kHz (%s)\n", (unsigned long long)(tsc_hz() / 1000), tsc_source());
	pass();
}
