// SPDX-License-Identifier: MIT
/*
 * devspec.c - "key=value,key,..." device options of `kite run`.
 */
#include "cli/devspec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_MAX 512

/*
 * Split the next "key[=value]" item off *p (a writable copy of the option);
 * NULL at the end.  *val is NULL for a bare key.
 */
static char *spec_next(char **p, char **val)
{
	char *item = *p, *comma, *eq;

	if (!item || !*item)
		return NULL;
	comma = strchr(item, ',');
	if (comma) {
		*comma = '\0';
		*p = comma + 1;
	} else {
		*p = NULL;
	}
	eq = strchr(item, '=');
	*val = NULL;
	if (eq) {
		*eq = '\0';
		*val = eq + 1;
	}
	return item;
}

static int spec_bool(const char *opt, const char *key, const char *val, bool *out)
{
	if (!val || !strcmp(val, "on") || !strcmp(val, "true") || !strcmp(val, "1"))
		*out = true;
	else if (!strcmp(val, "off") || !strcmp(val, "false") || !strcmp(val, "0"))
		*out = false;
	else
		return err_set(-EINVAL, "%s: %s=%s: use on or off", opt, key, val);
	return 0;
}

static int spec_uint(const char *opt, const char *key, const char *val, unsigned int lo,
		     unsigned int hi, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!val || !*val)
		return err_set(-EINVAL, "%s: %s needs a value", opt, key);
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return err_set(-EINVAL, "%s: %s=%s is out of range (%u..%u)", opt, key, val, lo, hi);
	*out = (unsigned int)v;
	return 0;
}

static int spec_id(const char *opt, const char *val, char *id, size_t size)
{
	size_t i, n = val ? strlen(val) : 0;

	if (!n || n >= size)
		return err_set(-EINVAL, "%s: id must have 1..%zu characters", opt, size - 1);
	for (i = 0; i < n; i++) {
		char c = val[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return err_set(-EINVAL, "%s: id '%s': use letters, digits, '-', '_', '.'",
				       opt, val);
	}
	memcpy(id, val, n + 1);
	return 0;
}

static int spec_copy(const char *opt, const char *arg, char *buf)
{
	if (strlen(arg) >= SPEC_MAX)
		return err_set(-EINVAL, "%s: option too long", opt);
	strcpy(buf, arg);
	return 0;
}

/* "path=FILE[,ro][,id=ID][,queues=N][,direct=on]" */
static int disk_item(struct virtio_blk_config_in *d, const char *key, char *val)
{
	if (!strcmp(key, "path")) {
		if (!val || !*val || strlen(val) >= sizeof(d->path))
			return err_set(-EINVAL, "--disk: path needs a file name (shorter than %zu)",
				       sizeof(d->path));
		strcpy(d->path, val);
		return 0;
	}
	if (!strcmp(key, "ro") || !strcmp(key, "readonly"))
		return spec_bool("--disk", key, val, &d->ro);
	if (!strcmp(key, "direct"))
		return spec_bool("--disk", key, val, &d->direct);
	if (!strcmp(key, "id"))
		return spec_id("--disk", val, d->id, sizeof(d->id));
	if (!strcmp(key, "queues"))
		return spec_uint("--disk", key, val, 1, VBLK_QUEUES_MAX, &d->queues);
	return err_set(-EINVAL, "--disk: unknown key '%s' (path, ro, id, queues, direct)", key);
}

static bool vm_id_taken(const struct vm_config *cfg, const char *id)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_disks; i++)
		if (!strcmp(cfg->disks[i].id, id))
			return true;
	for (i = 0; i < cfg->nr_nets; i++)
		if (!strcmp(cfg->nets[i].id, id))
			return true;
	return false;
}

int devspec_parse_net(const char *arg, struct vm_config *cfg)
{
	struct virtio_net_config_in n;
	int ret;

	if (cfg->nr_nets >= VM_NETS_MAX)
		return err_set(-EINVAL, "--net: at most %d network devices", VM_NETS_MAX);
	ret = virtio_net_parse(arg, &n);
	if (ret)
		return ret;
	if (!n.id[0])
		snprintf(n.id, sizeof(n.id), "net%u", cfg->nr_nets);
	if (vm_id_taken(cfg, n.id))
		return err_set(-EINVAL, "--net: id '%s' is used twice", n.id);
	cfg->nets[cfg->nr_nets++] = n;
	return 0;
}

/* Append ",@key[=@val]" to @rest (sized SPEC_MAX; the whole option fits there). */
static void spec_append(char *rest, const char *key, const char *val)
{
	size_t n = strlen(rest);

	snprintf(rest + n, SPEC_MAX - n, ",%s%s%s", key, val ? "=" : "", val ? val : "");
}

/*
 * With --restore: "id=ID[,mac=M][,tap=NAME|user[,hostfwd=...]...]" changes
 * the snapshot's network device ID.  The back end and MAC are checked by
 * the --net parser (virtio_net_parse), given "BACKEND,mac=..,hostfwd=..".
 */
int devspec_parse_net_override(const char *arg, struct vm_config *cfg)
{
	char buf[SPEC_MAX], rest[SPEC_MAX] = "", spec[2 * SPEC_MAX], *p = buf, *key, *val;
	struct vm_net_override o = { .backend = false };
	const char *backend = NULL;
	char id[DEV_ID_MAX] = "";
	unsigned int i;
	int ret;

	if (cfg->nr_net_overrides >= VM_NETS_MAX)
		return err_set(-EINVAL, "--net: at most %d network devices", VM_NETS_MAX);
	ret = spec_copy("--net", arg, buf);
	while (!ret && (key = spec_next(&p, &val))) {
		if (!strcmp(key, "id")) {
			ret = spec_id("--net", val, id, sizeof(id));
		} else if (!strcmp(key, "tap") || !strcmp(key, "user")) {
			if (backend)
				ret = err_set(-EINVAL, "--net: two back ends in '%s'", arg);
			backend = arg + (key - buf);	/* "tap=NAME..." or "user..." */
		} else if (!strcmp(key, "mac") || !strcmp(key, "hostfwd")) {
			o.mac |= !strcmp(key, "mac");
			spec_append(rest, key, val);
		} else {
			ret = err_set(-EINVAL, "--net with --restore: '%s' cannot change (id, mac, "
				      "tap, user, hostfwd)", key);
		}
	}
	if (ret)
		return ret;
	if (!id[0])
		return err_set(-EINVAL, "--net with --restore: say which saved device with id=ID");
	if (!backend && !o.mac)
		return err_set(-EINVAL, "--net id=%s: nothing to change (mac=, tap= or user)", id);
	if (!backend && strstr(rest, ",hostfwd"))
		return err_set(-EINVAL, "--net id=%s: hostfwd goes with a new user back end", id);
	/* the back end's own item, up to its comma, then what the parser checks */
	snprintf(spec, sizeof(spec), "%.*s%s", backend ? (int)strcspn(backend, ",") : 4,
		 backend ? backend : "user", rest);
	ret = virtio_net_parse(spec, &o.net);
	if (ret)
		return ret;
	memcpy(o.net.id, id, sizeof(id));
	o.backend = backend != NULL;
	for (i = 0; i < cfg->nr_net_overrides; i++)
		if (!strcmp(cfg->net_overrides[i].net.id, id))
			return err_set(-EINVAL, "--net: id '%s' is given twice", id);
	cfg->net_overrides[cfg->nr_net_overrides++] = o;
	return 0;
}

int devspec_parse_disk(const char *arg, struct vm_config *cfg)
{
	char buf[SPEC_MAX], *p = buf, *key, *val;
	struct virtio_blk_config_in d = { .queues = 1 };
	int ret;

	if (cfg->nr_disks >= VM_DISKS_MAX)
		return err_set(-EINVAL, "--disk: at most %d disks", VM_DISKS_MAX);
	ret = spec_copy("--disk", arg, buf);
	while (!ret && (key = spec_next(&p, &val)))
		ret = disk_item(&d, key, val);
	if (ret)
		return ret;
	if (!d.path[0])
		return err_set(-EINVAL, "--disk needs path=FILE");
	if (!d.id[0])
		snprintf(d.id, sizeof(d.id), "disk%u", cfg->nr_disks);
	if (vm_id_taken(cfg, d.id))
		return err_set(-EINVAL, "--disk: id '%s' is used twice", d.id);
	cfg->disks[cfg->nr_disks++] = d;
	return 0;
}

int devspec_parse_transport(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "pci"))
		cfg->transport = VIRTIO_TRANSPORT_PCI;
	else if (!strcmp(arg, "mmio"))
		cfg->transport = VIRTIO_TRANSPORT_MMIO;
	else
		return err_set(-EINVAL, "--transport '%s': use pci or mmio", arg);
	return 0;
}

/* "stdio" | "socket=PATH" | "none" */
int devspec_parse_console(const char *arg, struct vm_config *cfg)
{
	if (!strcmp(arg, "stdio")) {
		cfg->console = VM_CONSOLE_STDIO;
	} else if (!strcmp(arg, "none")) {
		cfg->console = VM_CONSOLE_NONE;
	} else if (!strncmp(arg, "socket=", 7) && arg[7]) {
		cfg->console = VM_CONSOLE_SOCKET;
		cfg->console_path = arg + 7;
	} else {
		return err_set(-EINVAL, "--console '%s': use stdio, socket=PATH or none", arg);
	}
	return 0;
}
