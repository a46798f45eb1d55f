/* SPDX-License-Identifier: MIT */
/* test=pcilist: how PCI config space is reached, every function on bus 0
 * with its BARs (as the VMM left them; nothing is assigned). */
#include "lib.h"
#include "pci.h"

GUEST_TEST(pcilist, "list PCI bus 0 (ECAM via MCFG / 0xcf8 / probe) with BARs")
{
	struct pci_dev all[64];
	unsigned int i, n, b;

	n = pci_enumerate(all, ARRAY_SIZE(all));
	printf("pci: %s, %u function(s)\n", pci_access_name(), n);
	for (i = 0; i < n; i++) {
		printf("pci: %02x:%02x.%x %04x:%04x class %06x cmd 0x%04x INT pin %u line %u\n",
		       all[i].bus, all[i].slot, all[i].func, all[i].vendor, all[i].device,
		       all[i].class_rev >> 8, pci_read16(&all[i], PCI_COMMAND),
		       pci_read8(&all[i], PCI_INT_PIN), pci_read8(&all[i], PCI_INT_LINE));
		for (b = 0; b < 6; b++) {
			uint64_t a, sz;
			bool io, is64;

			if (!pci_bar_info(&all[i], b, &a, &sz, &io, &is64))
				continue;
			printf("pci:   BAR%u %s%s 0x%llx size 0x%llx\n", b, io ? "io" : "mem",
			       is64 ? "64" : "32", (unsigned long long)a, (unsigned long long)sz);
			if (is64)
				b++;
		}
	}
	pass();
}
