/* SPDX-License-Identifier: MIT */
#include "lib.h"

GUEST_TEST(hello, "print a greeting and PASS")
{
	printf("hello from the kite test guest\n");
	pass();
}

/* Normally caught by the 32-bit entry stub before anything else runs; this
 * one handles test=quit when it is not the first word of the command line. */
GUEST_TEST(quit, "exit at once with status 1 (start-up benchmark)")
{
	guest_exit(0);
}

GUEST_TEST(exit, "code=N: write N to the debug-exit port (status 2N+1)")
{
	uint64_t code = 0;

	if (!cmdline_get_u64("code", &code) || code > 255)
		fail("exit needs code=N with N in 0..255");
	outb(DEBUG_EXIT_PORT, (uint8_t)code);
	fail("still running after writing %llu to port 0x501", (unsigned long long)code);
}
