// SPDX-License-Identifier: MIT
/*
 * netspec.c - the --net option: "tap=NAME[,mac=..][,queues=N][,id=ID]" or
 * "user[,hostfwd=RULE]...[,mac=..][,id=ID]" into struct
 * virtio_net_config_in (devices/virtio/virtio_devs.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/virtio/virtio_devs.h"
#include "net/slirp.h"
#include "net/tap.h"

#define NETSPEC_MAX	1024

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int net_parse_mac(const char *val, uint8_t *mac)
{
	unsigned int i;

	if (!val || strlen(val) != 17)
		return err_set(-EINVAL, "--net: mac=%s: use six hex bytes, 52:54:00:12:34:56",
			       val ? val : "");
	for (i = 0; i < 6; i++) {
		int hi = hexval(val[3 * i]), lo = hexval(val[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && val[3 * i + 2] != ':'))
			return err_set(-EINVAL, "--net: mac=%s: use six hex bytes, 52:54:00:12:34:56",
				       val);
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (mac[0] & 1)
		return err_set(-EINVAL, "--net: mac=%s is a multicast address", val);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return err_set(-EINVAL, "--net: mac=%s is all zeros", val);
	return 0;
}

static int net_parse_queues(const char *val, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!val || !*val)
		return err_set(-EINVAL, "--net: queues needs a value (1..%d)", VNET_PAIRS_MAX);
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || v < 1 || v > VNET_PAIRS_MAX)
		return err_set(-EINVAL, "--net: queues=%s is out of range (1..%d)", val,
			       VNET_PAIRS_MAX);
	*out = (unsigned int)v;
	return 0;
}

static int net_parse_id(const char *val, char *id)
{
	size_t i, n = val ? strlen(val) : 0;

	if (!n || n >= DEV_ID_MAX)
		return err_set(-EINVAL, "--net: id must have 1..%d characters", DEV_ID_MAX - 1);
	for (i = 0; i < n; i++) {
		char c = val[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return err_set(-EINVAL, "--net: id '%s': use letters, digits, '-', '_', '.'",
				       val);
	}
	memcpy(id, val, n + 1);
	return 0;
}

static int net_parse_hostfwd(const char *val, struct virtio_net_config_in *out)
{
	struct net_hostfwd f;
	int ret;

	if (out->kind != NET_USER)
		return err_set(-EINVAL, "--net: hostfwd is for the user back end only");
	if (!val || !*val)
		return err_set(-EINVAL, "--net: hostfwd needs a rule, tcp::HOSTPORT-:GUESTPORT");
	if (out->nr_hostfwd == VNET_HOSTFWD_MAX)
		return err_set(-EINVAL, "--net: more than %d hostfwd rules", VNET_HOSTFWD_MAX);
	ret = net_hostfwd_parse(val, &f);
	if (ret)
		return err_prefix(ret, "--net");
	snprintf(out->hostfwd[out->nr_hostfwd++], sizeof(out->hostfwd[0]), "%s", val);
	return 0;
}

/* The first item: the back end. */
static int net_parse_kind(const char *key, const char *val, struct virtio_net_config_in *out)
{
	if (!strcmp(key, "user")) {
		if (val)
			return err_set(-EINVAL, "--net: user takes no value");
		out->kind = NET_USER;
		return 0;
	}
	if (!strcmp(key, "tap")) {
		if (!val || !*val || strlen(val) >= sizeof(out->ifname))
			return err_set(-EINVAL, "--net: tap=NAME needs an interface name of 1..%zu characters",
				       sizeof(out->ifname) - 1);
		out->kind = NET_TAP;
		memcpy(out->ifname, val, strlen(val) + 1);
		return 0;
	}
	return err_set(-EINVAL, "--net: '%s': start with tap=NAME or user", key);
}

static int net_parse_item(const char *key, const char *val, struct virtio_net_config_in *out)
{
	if (!strcmp(key, "mac")) {
		out->has_mac = true;
		return net_parse_mac(val, out->mac);
	}
	if (!strcmp(key, "queues")) {
		if (out->kind != NET_TAP)
			return err_set(-EINVAL, "--net: queues is for the tap back end only");
		return net_parse_queues(val, &out->queues);
	}
	if (!strcmp(key, "id"))
		return net_parse_id(val, out->id);
	if (!strcmp(key, "hostfwd"))
		return net_parse_hostfwd(val, out);
	return err_set(-EINVAL, "--net: unknown key '%s' (mac, queues, id, hostfwd)", key);
}

int virtio_net_parse(const char *arg, struct virtio_net_config_in *out)
{
	char buf[NETSPEC_MAX], *p = buf, *item;
	bool first = true;
	int ret = 0;

	memset(out, 0, sizeof(*out));	/* queues 0: tap: one pair per vCPU; user: 1 */
	if (!arg || !*arg)
		return err_set(-EINVAL, "--net: say tap=NAME or user");
	if (strlen(arg) >= sizeof(buf))
		return err_set(-EINVAL, "--net: longer than %zu characters", sizeof(buf) - 1);
	memcpy(buf, arg, strlen(arg) + 1);
	while (!ret && (item = strsep(&p, ","))) {
		char *val = strchr(item, '=');

		if (val)
			*val++ = '\0';
		if (!*item)
			ret = err_set(-EINVAL, "--net: empty item in '%s'", arg);
		else if (first)
			ret = net_parse_kind(item, val, out);
		else
			ret = net_parse_item(item, val, out);
		first = false;
	}
	if (out->kind == NET_USER)
		out->queues = 1;
	return ret;
}
