// SPDX-License-Identifier: MIT
#include "devices/irq.h"

#include "core/log.h"
#include "kvm/kvm.h"

void irq_line_set(const struct irq_line *line, int level)
{
	if (line->vm_fd < 0)
		return;
	if (kvm_vm_irq_line(line->vm_fd, line->gsi, level))
		log_warn("%s", err_msg());
}
