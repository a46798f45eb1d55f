/* SPDX-License-Identifier: MIT */
/*
 * test=identity [period_ms=100] [iters=0] [net=1 [transport=] [irq=]]
 *
 * What a restored copy of a VM learns about its new identity, for the host
 * test that snapshots this guest and restores copies of it:
 *
 *  - the VM generation ID: its address from the DSDT (\_SB.VGEN's ADDR
 *    package, found by _CID "VM_Gen_Counter"), the Generic Event Device's
 *    interrupt from its _CRS (_HID "ACPI0013"), routed on the IOAPIC to
 *    VEC_GED like an OS's GED driver does.  Printed at start:
 *        identity: vmgenid at 0x9f000 id=<32 hex digits>
 *        identity: GED GSI 3 (edge, active high) -> vector 0x23
 *    and when the interrupt arrives (the ID is read after it):
 *        identity: GED interrupt 1, generation id <hex> (changed)
 *    An ID that changes without an interrupt is printed as
 *        identity: generation id <hex> changed without a GED interrupt
 *  - net=1: virtio-net with MAC, STATUS, CTRL_VQ and GUEST_ANNOUNCE; the
 *    config generation is polled every period, and when it moved (in irq
 *    mode after waiting up to 500 ms for the config interrupt) the MAC is
 *    read again; N counts the device's interrupts:
 *        identity: net config generation G mac 52:54:00:.. status 0xS (N interrupts)
 *    With VIRTIO_NET_S_ANNOUNCE set the guest does what Linux does (it
 *    would send gratuitous ARPs) and acknowledges on the control queue:
 *        identity: net announce acknowledged, status 0xS
 *  - every period "identity tick=N", so the host sees the copy running.
 *
 * iters=N: PASS after N ticks (default: run until stopped).
 */
#include "lib.h"
#include "acpi.h"
#include "apic.h"
#include "irq.h"
#include "tsc.h"
#include "virtio.h"
#include "virtq.h"

#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_S_ANNOUNCE		2
#define VIRTIO_NET_CTRL_ANNOUNCE	3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK	0

static void id_hex(const volatile uint8_t *id, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[32] = 0;
}

/* ---- the generation ID and the GED ---- */

static const volatile uint8_t *genid;
static uint8_t last_id[16];

static void ged_setup(void)
{
	const struct acpi_info *a = acpi_get();
	uint32_t lo;
	char hex[33];

	if (!a)
		fail("identity: no ACPI tables: %s", acpi_error());
	if (!a->vmgenid)
		fail("identity: no VM generation ID in the DSDT (_CID VM_Gen_Counter with ADDR)");
	if (!a->ged)
		fail("identity: no Generic Event Device (ACPI0013) with an interrupt in the DSDT");
	genid = (const volatile uint8_t *)(uintptr_t)a->vmgenid_addr;
	memcpy(last_id, (const void *)genid, 16);
	id_hex(last_id, hex);
	printf("identity: vmgenid at 0x%llx id=%s\n", (unsigned long long)a->vmgenid_addr, hex);
	outb(0x21, 0xff);			/* mask both 8259s */
	outb(0xa1, 0xff);
	lapic_enable();
	irq_register(VEC_GED, NULL);		/* irq.c counts and EOIs */
	lo = VEC_GED | (a->ged_edge ? 0 : 1u << 15) | (a->ged_active_low ? 1u << 13 : 0);
	if (ioapic_route_gsi(a->ged_gsi, lo, lapic_id()) < 0)
		fail("identity: no IOAPIC pin for GSI %u", a->ged_gsi);
	printf("identity: GED GSI %u (%s, active %s) -> vector 0x%x\n", a->ged_gsi,
	       a->ged_edge ? "edge" : "level", a->ged_active_low ? "low" : "high", VEC_GED);
	irq_enable();
}

/* After the interrupt (what _EVT -> Notify(VGEN) makes an OS do), or by polling. */
static void ged_check(uint64_t *seen)
{
	uint64_t n = irq_count(VEC_GED);
	uint8_t id[16];
	char hex[33];
	bool changed;

	memcpy(id, (const void *)genid, 16);
	changed = memcmp(id, last_id, 16) != 0;
	id_hex(id, hex);
	if (n != *seen)
		printf("identity: GED interrupt %llu, generation id %s (%s)\n",
		       (unsigned long long)n, hex, changed ? "changed" : "same");
	else if (changed)
		printf("identity: generation id %s changed without a GED interrupt\n", hex);
	*seen = n;
	memcpy(last_id, id, 16);
}

/* ---- virtio-net: the MAC after a config change ---- */

static struct virtio_dev ndev;
static struct virtq ctrlq;
static uint8_t *ctrl_hdr, *ctrl_ack;
static uint32_t net_gen;
static uint64_t net_irqs;		/* the device's interrupts at the last look */

static void net_print_config(const char *what)
{
	uint8_t m[6];
	unsigned int i;

	for (i = 0; i < 6; i++)
		m[i] = virtio_cfg8(&ndev, i);
	printf("identity: net %s %u mac %02x:%02x:%02x:%02x:%02x:%02x status 0x%x "
	       "(%llu interrupts)\n", what, net_gen, m[0], m[1], m[2], m[3], m[4], m[5],
	       virtio_cfg16(&ndev, 6), (unsigned long long)virtio_irq_count(&ndev));
}

static void net_setup(void)
{
	uint16_t qmax;

	virtio_start_cmdline(VIRTIO_ID_NET, &ndev, BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
			     BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_GUEST_ANNOUNCE));
	if (!virtio_has(&ndev, VIRTIO_NET_F_MAC) || !virtio_has(&ndev, VIRTIO_NET_F_STATUS))
		fail("identity: %s offers no MAC or no status", ndev.name);
	if (virtio_has(&ndev, VIRTIO_NET_F_CTRL_VQ)) {
		qmax = virtio_queue_max(&ndev, 2);	/* no MQ: rx 0, tx 1, control 2 */
		if (!qmax)
			fail("identity: %s has no control queue", ndev.name);
		virtq_create(&ctrlq, &ndev, 2, qmax < 8 ? qmax : 8);
		ctrl_hdr = dma_alloc(2, 16);
		ctrl_ack = dma_alloc(1, 16);
	}
	virtio_driver_ok(&ndev);
	net_gen = virtio_cfg_generation(&ndev);
	net_irqs = virtio_irq_count(&ndev);
	printf("identity: net %s%s\n", ndev.name,
	       virtio_has(&ndev, VIRTIO_NET_F_GUEST_ANNOUNCE) ? " (GUEST_ANNOUNCE)" : "");
	net_print_config("config generation");
}

/* VIRTIO_NET_CTRL_ANNOUNCE_ACK: the device clears the announce bit. */
static void net_announce_ack(void)
{
	struct vq_buf b[2];
	uint32_t len;

	ctrl_hdr[0] = VIRTIO_NET_CTRL_ANNOUNCE;
	ctrl_hdr[1] = VIRTIO_NET_CTRL_ANNOUNCE_ACK;
	*ctrl_ack = 0xff;
	b[0] = (struct vq_buf){ dma_pa(ctrl_hdr), 2, false };
	b[1] = (struct vq_buf){ dma_pa(ctrl_ack), 1, true };
	if (!virtq_submit_wait(&ctrlq, b, 2, false, &len, 2000))
		fail("identity: announce ack: no completion in 2 s");
	if (READ_ONCE(*ctrl_ack) != 0)
		fail("identity: announce ack: status %u", *ctrl_ack);
	printf("identity: net announce acknowledged, status 0x%x\n", virtio_cfg16(&ndev, 6));
}

static void net_check(void)
{
	uint32_t gen = virtio_cfg_generation(&ndev);

	if (gen == net_gen)
		return;
	net_gen = gen;
	/* The config interrupt may land a little after the change (KVM injects
	 * an irqfd on an IOAPIC pin from a work item): wait for it. */
	if (ndev.irq_mode != VIRTIO_IRQ_NONE) {
		uint64_t end = rdtsc() + tsc_from_us(500000);

		while (virtio_irq_count(&ndev) == net_irqs && (int64_t)(end - rdtsc()) > 0)
			cpu_relax();
	}
	net_irqs = virtio_irq_count(&ndev);
	net_print_config("config generation");
	if ((virtio_cfg16(&ndev, 6) & VIRTIO_NET_S_ANNOUNCE) &&
	    virtio_has(&ndev, VIRTIO_NET_F_GUEST_ANNOUNCE))
		net_announce_ack();
}

GUEST_TEST(identity, "[period_ms=100] [iters=0] [net=1]: VM generation ID (GED interrupt) "
	   "and virtio-net MAC changes, for restored copies")
{
	uint64_t period_ms = 100, iters = 0, use_net = 0, seen = 0, tick, next, step;

	cmdline_get_u64("period_ms", &period_ms);
	cmdline_get_u64("iters", &iters);
	cmdline_get_u64("net", &use_net);
	if (!period_ms || period_ms > 10000)
		fail("identity: period_ms must be 1..10000");
	ged_setup();
	if (use_net)
		net_setup();
	step = tsc_from_us(period_ms * 1000);
	next = rdtsc() + step;
	for (tick = 1; !iters || tick <= iters; tick++) {
		while ((int64_t)(rdtsc() - next) < 0)
			cpu_relax();
		next += step;
		if ((int64_t)(rdtsc() - next) > (int64_t)(10 * step))	/* paused: no burst */
			next = rdtsc() + step;
		ged_check(&seen);
		if (use_net)
			net_check();
		printf("identity tick=%llu\n", (unsigned long long)tick);
	}
	pass();
}
