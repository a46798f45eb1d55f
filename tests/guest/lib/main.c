/* SPDX-License-Identifier: MIT */
/*
 * main.c - ring-3 start of the BSP: check start_info, read test= from the
 * command line, run that test.  Verdicts and exception reports.
 */
#include "lib.h"
#include "boot.h"
#include "serial.h"

extern const struct guest_test __guest_tests_start[], __guest_tests_end[];

NORETURN void halt(void)
{
	for (;;)
		__asm__ volatile("call gate_halt" ::: "memory");
}

NORETURN void guest_exit(uint8_t v)
{
	outb(DEBUG_EXIT_PORT, v);
	halt();
}

/* Ring 0: load an empty IDT and raise #UD: #UD -> #GP -> #DF -> shutdown. */
static unsigned long k_triple_fault(unsigned long arg)
{
	static const struct { uint16_t limit; uint64_t base; } __attribute__((packed)) empty = { 0, 0 };

	(void)arg;
	__asm__ volatile("lidt %0; ud2" :: "m"(empty));
	return 0;
}

NORETURN void triple_fault(void)
{
	kcall(k_triple_fault, 0);
	fail("still running after a triple fault");
}

NORETURN void pass(void)
{
	puts_raw("PASS\n");
	guest_exit(0);
}

NORETURN void fail(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("FAIL: %s\n", buf);
	guest_exit(1);
}

struct cpuid_req {
	uint32_t leaf, sub;
	uint32_t r[4];
};

/* Ring 0 */
static unsigned long k_cpuid(unsigned long arg)
{
	struct cpuid_req *q = (struct cpuid_req *)arg;

	cpuid_native(q->leaf, q->sub, q->r);
	return 0;
}

void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct cpuid_req q = { leaf, sub, { 0, 0, 0, 0 } };

	kcall(k_cpuid, (uintptr_t)&q);
	memcpy(r, q.r, sizeof(q.r));
}

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
	"#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

/* Ring 3, on a dedicated stack (entry.S isr_exception). */
void exception_report(uint64_t vec, uint64_t rip, uint64_t err, uint64_t cr2, uint64_t cs,
		      uint64_t rsp);
void exception_report(uint64_t vec, uint64_t rip, uint64_t err, uint64_t cr2, uint64_t cs,
		      uint64_t rsp)
{
	const char *name = vec < 32 && exc_names[vec] ? exc_names[vec] : "?";

	if (vec == 14)
		fail("exception %llu (%s) at RIP=0x%llx error=0x%llx CR2=0x%llx CS=0x%llx RSP=0x%llx",
		     (unsigned long long)vec, name, (unsigned long long)rip, (unsigned long long)err,
		     (unsigned long long)cr2, (unsigned long long)cs, (unsigned long long)rsp);
	fail("exception %llu (%s) at RIP=0x%llx error=0x%llx CS=0x%llx RSP=0x%llx",
	     (unsigned long long)vec, name, (unsigned long long)rip, (unsigned long long)err,
	     (unsigned long long)cs, (unsigned long long)rsp);
}

/* Ring 3, BSP (entry.S). */
void guest_main(uint32_t start_info_pa);
void guest_main(uint32_t start_info_pa)
{
	const struct guest_test *t;
	char name[32] = "hello";

	serial_init();
	start_info = (const struct hvm_start_info *)(uintptr_t)start_info_pa;
	if (!start_info_pa || start_info->magic != HVM_START_MAGIC) {
		start_info = NULL;
		fail("bad PVH start_info at 0x%x (magic 0x%x)", start_info_pa,
		     start_info_pa ? ((const uint32_t *)(uintptr_t)start_info_pa)[0] : 0);
	}
	if (start_info->cmdline_paddr)
		cmdline_set((const char *)(uintptr_t)start_info->cmdline_paddr);
	cmdline_get("test", name, sizeof(name));
	for (t = __guest_tests_start; t < __guest_tests_end; t++) {
		if (!strcmp(t->name, name)) {
			t->run();
			fail("test %s returned without a verdict", name);
		}
	}
	printf("unknown test '%s'; tests:\n", name);
	for (t = __guest_tests_start; t < __guest_tests_end; t++)
		printf("  test=%-10s %s\n", t->name, t->help);
	fail("unknown test '%s'", name);
}
