// SPDX-License-Identifier: MIT
/*
 * tap.c - open and configure tap interfaces for virtio-net.  See tap.h.
 */
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int tap_err(const char *ifname, const char *what, int err)
{
	const char *hint = "";

	if (err == EPERM)
		hint = " (needs CAP_NET_ADMIN, or a tap created for this user)";
	else if (err == EINVAL && !strcmp(what, "TUNSETIFF"))
		hint = " (does it exist with other flags, e.g. without multi_queue?)";
	return err_set(-err, "tap %s: %s: %s%s", ifname, what, strerror(err), hint);
}

static int tap_open_one(const char *ifname, bool multi)
{
	struct ifreq ifr;
	int fd, hdr = TAP_VNET_HDR_LEN, le = 1, ret;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return tap_err(ifname, "/dev/net/tun", errno);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (multi ? IFF_MULTI_QUEUE : 0);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		ret = tap_err(ifname, "TUNSETIFF", errno);
		goto fail;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr)) {
		ret = tap_err(ifname, "TUNSETVNETHDRSZ", errno);
		goto fail;
	}
	/* Native order is little-endian on x86; elsewhere this is needed. */
	if (ioctl(fd, TUNSETVNETLE, &le) && errno != EINVAL) {
		ret = tap_err(ifname, "TUNSETVNETLE", errno);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int tap_open(const char *ifname, unsigned int queues, int *fds)
{
	unsigned int i, j;
	int fd;

	if (!ifname[0] || strlen(ifname) >= IFNAMSIZ)
		return err_set(-EINVAL, "tap '%s': a name of 1..%d characters", ifname,
			       IFNAMSIZ - 1);
	if (!queues || queues > TAP_QUEUES_MAX)
		return err_set(-EINVAL, "tap %s: %u queues (1..%d)", ifname, queues,
			       TAP_QUEUES_MAX);
	for (i = 0; i < queues; i++) {
		fd = tap_open_one(ifname, queues > 1);
		if (fd < 0) {
			for (j = 0; j < i; j++)
				close(fds[j]);
			return fd;
		}
		fds[i] = fd;
	}
	return 0;
}

unsigned int tap_probe_offloads(int fd)
{
	static const unsigned int tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_UFO,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
	};
	unsigned int i, got = 0;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (!ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i])) {
			got = tries[i];
			break;
		}
	}
	if (ioctl(fd, TUNSETOFFLOAD, 0UL))
		return 0;
	return got;
}

int tap_set_offloads(int fd, unsigned int flags)
{
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags))
		return err_set(-errno, "tap: TUNSETOFFLOAD 0x%x: %s", flags, strerror(errno));
	return 0;
}

int tap_queue_enable(int fd, bool on)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(fd, TUNSETQUEUE, &ifr))
		return err_set(-errno, "tap: TUNSETQUEUE %s: %s", on ? "attach" : "detach",
			       strerror(errno));
	return 0;
}
