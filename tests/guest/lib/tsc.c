/* SPDX-License-Identifier: MIT */
/*
 * tsc.c - TSC frequency, in order of preference:
 *   1. CPUID 0x40000010 EAX (hypervisor timing leaf, TSC kHz)
 *   2. kvmclock (KVM signature + KVM_FEATURE_CLOCKSOURCE2): the pvclock
 *      tsc_to_system_mul/tsc_shift give the exact frequency (two wrmsr in
 *      ring 0 through kcall)
 *   3. CPUID 0x15 (crystal ratio), 4. CPUID 0x16 (base MHz)
 *   5. assume 2 GHz (timeouts are generous, so this only stretches them)
 */
#include "lib.h"
#include "tsc.h"

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed, aligned(32)));

static struct pvclock pvclock;
static uint64_t hz;
static const char *source = "none";

/* Ring 0 */
static unsigned long k_kvmclock(unsigned long val)
{
	__asm__ volatile("wrmsr" :: "c"(MSR_KVM_SYSTEM_TIME_NEW), "a"((uint32_t)val),
			 "d"((uint32_t)(val >> 32)) : "memory");
	return 0;
}

static uint64_t kvmclock_hz(void)
{
	uint32_t r[4], base;
	uint64_t mul;
	int shift;

	for (base = 0x40000000; base <= 0x40000100; base += 0x100) {
		cpuid(base, r);
		if (r[1] == 0x4b4d564b && r[2] == 0x564b4d56 && r[3] == 0x4d)
			break;
	}
	if (base > 0x40000100)
		return 0;
	cpuid(base + 1, r);
	if (!(r[0] & (1u << 3)))	/* KVM_FEATURE_CLOCKSOURCE2 */
		return 0;
	kcall(k_kvmclock, (uintptr_t)&pvclock | 1);
	mul = READ_ONCE(pvclock.tsc_to_system_mul);
	shift = READ_ONCE(pvclock.tsc_shift);
	kcall(k_kvmclock, 0);
	if (!mul)
		return 0;
	/* ns = ((tsc << shift) * mul) >> 32  =>  Hz = 1e9 * 2^32 / mul / 2^shift */
	{
		uint64_t f = (1000000000ull << 32) / mul;

		return shift >= 0 ? f >> shift : f << -shift;
	}
}

uint64_t tsc_hz(void)
{
	uint32_t r[4];

	if (hz)
		return hz;
	cpuid(0x40000000, r);
	if (r[0] >= 0x40000010) {
		cpuid(0x40000010, r);
		if (r[0]) {
			hz = (uint64_t)r[0] * 1000;
			source = "cpuid 0x40000010";
			return hz;
		}
	}
	hz = kvmclock_hz();
	if (hz) {
		source = "kvmclock";
		return hz;
	}
	cpuid(0, r);
	if (r[0] >= 0x15) {
		cpuid(0x15, r);
		if (r[0] && r[1] && r[2]) {
			hz = (uint64_t)r[2] * r[1] / r[0];
			source = "cpuid 0x15";
			return hz;
		}
		cpuid(0, r);
		if (r[0] >= 0x16) {
			cpuid(0x16, r);
			if (r[0] & 0xffff) {
				hz = (uint64_t)(r[0] & 0xffff) * 1000000;
				source = "cpuid 0x16";
				return hz;
			}
		}
	}
	hz = 2000000000ull;
	source = "assumed 2 GHz";
	return hz;
}

const char *tsc_source(void)
{
	tsc_hz();
	return source;
}

uint64_t tsc_from_us(uint64_t us)
{
	return us * (tsc_hz() / 1000000);
}

uint64_t tsc_to_us(uint64_t ticks)
{
	return ticks / (tsc_hz() / 1000000);
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + tsc_from_us(us);

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}
