// SPDX-License-Identifier: MIT
#include "devices/irq.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "kvm/kvm.h"

int irq_line_attach_irqfd(struct irq_line *line)
{
	int fd, ret;

	if (line->vm_fd < 0 || line->has_irqfd)
		return 0;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return err_set(-errno, "eventfd for GSI %u: %s", line->gsi, strerror(errno));
	ret = kvm_vm_irqfd(line->vm_fd, fd, line->gsi, -1);
	if (ret) {
		close(fd);
		return ret;
	}
	line->irqfd = fd;
	line->has_irqfd = true;
	return 0;
}

void irq_line_detach(struct irq_line *line)
{
	/* Closing the eventfd releases KVM's irqfd. */
	if (line->has_irqfd)
		close(line->irqfd);
	line->has_irqfd = false;
}

void irq_line_set(struct irq_line *line, int level)
{
	uint64_t one = 1;

	if (level)
		__atomic_add_fetch(&line->raised, 1, __ATOMIC_RELAXED);
	if (line->has_irqfd) {
		/* KVM pulses the GSI: a rising edge; lowering needs nothing. */
		if (level && write(line->irqfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("irqfd for GSI %u: %s", line->gsi, strerror(errno));
		return;
	}
	if (line->vm_fd < 0)
		return;
	if (kvm_vm_irq_line(line->vm_fd, line->gsi, level))
		log_warn("%s", err_msg());
}
