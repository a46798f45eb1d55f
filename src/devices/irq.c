// SPDX-License-Identifier: MIT
#include "devices/irq.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "kvm/kvm.h"

static int irq_eventfd(const struct irq_line *line, const char *what)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return err_set(-errno, "%s for GSI %u: %s", what, line->gsi, strerror(errno));
	return fd;
}

int irq_line_attach_irqfd(struct irq_line *line)
{
	int fd, ret;

	if (line->vm_fd < 0 || line->has_irqfd)
		return 0;
	fd = irq_eventfd(line, "eventfd");
	if (fd < 0)
		return fd;
	ret = kvm_vm_irqfd(line->vm_fd, fd, line->gsi, -1);
	if (ret) {
		close(fd);
		return ret;
	}
	line->irqfd = fd;
	line->has_irqfd = true;
	return 0;
}

int irq_line_attach_level(struct irq_line *line)
{
	int fd, rfd, ret;

	if (line->vm_fd < 0 || line->has_irqfd)
		return 0;
	fd = irq_eventfd(line, "eventfd");
	if (fd < 0)
		return fd;
	rfd = irq_eventfd(line, "resample eventfd");
	if (rfd < 0) {
		close(fd);
		return rfd;
	}
	ret = kvm_vm_irqfd(line->vm_fd, fd, line->gsi, rfd);
	if (ret) {
		close(rfd);
		close(fd);
		return ret;
	}
	line->irqfd = fd;
	line->resample_fd = rfd;
	line->has_irqfd = true;
	line->has_resample = true;
	return 0;
}

void irq_line_detach(struct irq_line *line)
{
	/* Closing the eventfd releases KVM's irqfd (and its resampler). */
	if (line->has_irqfd)
		close(line->irqfd);
	if (line->has_resample)
		close(line->resample_fd);
	line->has_irqfd = false;
	line->has_resample = false;
}

static void irq_line_assert(struct irq_line *line)
{
	uint64_t one = 1;

	__atomic_add_fetch(&line->raised, 1, __ATOMIC_RELAXED);
	if (write(line->irqfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("irqfd for GSI %u: %s", line->gsi, strerror(errno));
}

void irq_line_set(struct irq_line *line, int level)
{
	__atomic_store_n(&line->level, level ? 1 : 0, __ATOMIC_RELAXED);
	if (line->has_irqfd) {
		/* Edge: KVM pulses the GSI.  Level: KVM holds it until the
		 * EOI.  Either way lowering needs nothing. */
		if (level)
			irq_line_assert(line);
		return;
	}
	if (level)
		__atomic_add_fetch(&line->raised, 1, __ATOMIC_RELAXED);
	if (line->vm_fd < 0)
		return;
	if (kvm_vm_irq_line(line->vm_fd, line->gsi, level))
		log_warn("%s", err_msg());
}

int irq_line_resample_fd(const struct irq_line *line)
{
	return line->has_resample ? line->resample_fd : -1;
}

void irq_line_resampled(struct irq_line *line, bool pending)
{
	uint64_t n;

	if (line->has_resample && read(line->resample_fd, &n, sizeof(n)) < 0 &&
	    errno != EAGAIN)
		log_warn("resample fd for GSI %u: %s", line->gsi, strerror(errno));
	__atomic_add_fetch(&line->resamples, 1, __ATOMIC_RELAXED);
	if (pending && line->has_irqfd)
		irq_line_assert(line);
}
