/* SPDX-License-Identifier: MIT */
/* tsc.h - time from the TSC. */
#ifndef GUEST_TSC_H
#define GUEST_TSC_H

#include <stdint.h>

uint64_t tsc_hz(void);			/* calibrated on first use */
const char *tsc_source(void);		/* where tsc_hz() came from */
uint64_t tsc_from_us(uint64_t us);
uint64_t tsc_to_us(uint64_t ticks);
void udelay(uint64_t us);
static inline void mdelay(uint64_t ms) { udelay(ms * 1000); }

#endif
