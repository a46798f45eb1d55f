// SPDX-License-Identifier: MIT
/*
 * The device model's contract, checked on every device class kite has:
 * attributes read without side effects, state is writable only while
 * paused, info is never writable, types are enforced, unknown names are
 * refused, and every state attribute round-trips (get -> set -> get).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/device.h"
#include "devices/legacy.h"
#include "devices/serial.h"
#include "devices/virtio/virtio_devs.h"
#include "harness.h"

static struct serial ser;
static struct i8042 kbd;
static struct runstate rs;
static struct bus pio;
static struct device devs[4];

static void setup(void)
{
	static const struct {
		const char *id;
		const struct dev_class *cls;
		void *priv;
	} tbl[] = {
		{ "serial0", &serial_class, &ser },
		{ "i8042", &i8042_class, &kbd },
		{ "debug-exit", &debug_exit_class, NULL },
		{ "acpi-pm", &acpi_pm_class, NULL },
	};
	unsigned int i;

	bus_init(&pio, "pio");
	if (runstate_init(&rs))
		abort();
	serial_init(&ser, (struct irq_line){ .vm_fd = -1 }, -1, -1);
	if (i8042_init(&kbd, &rs, &pio, (struct irq_line){ .vm_fd = -1 }))
		abort();
	for (i = 0; i < 4; i++) {
		memset(&devs[i], 0, sizeof(devs[i]));
		snprintf(devs[i].id, sizeof(devs[i].id), "%s", tbl[i].id);
		devs[i].cls = tbl[i].cls;
		devs[i].priv = tbl[i].priv;
	}
}

static void teardown(void)
{
	serial_destroy(&ser);
	i8042_destroy(&kbd);
	bus_destroy(&pio);
	runstate_destroy(&rs);
}

static void registry_refuses_duplicate_and_empty_ids(void)
{
	struct dev_registry reg = { .nr = 0 };
	struct device empty = { .cls = &post_class };

	setup();
	CHECK_EQ(dev_register(&reg, &devs[0]), 0);
	CHECK_EQ(dev_register(&reg, &devs[1]), 0);
	CHECK_EQ(dev_register(&reg, &devs[0]), -EEXIST);
	CHECK_EQ(dev_register(&reg, &empty), -EEXIST);
	CHECK(dev_find(&reg, "i8042") == &devs[1]);
	CHECK(dev_find(&reg, "nope") == NULL);
	teardown();
}

/* Every attribute of @dev obeys its access rules; 0 or the failing line. */
static int check_attr_rules(struct device *dev)
{
	const struct dev_class *c = dev->cls;
	unsigned int i;

	for (i = 0; i < c->nr_attrs; i++) {
		const struct dev_attr *a = &c->attrs[i];
		struct dev_value v, w;

		if (dev_attr_get(dev, a->name, &v) || v.type != a->type)
			return __LINE__;
		if (dev_attr_get(dev, a->name, &w) || v.u64 != w.u64 || v.b != w.b ||
		    strcmp(v.str, w.str))
			return __LINE__;	/* reads have no side effects */
		if (a->access == DEV_ATTR_STATE &&
		    (dev_attr_set(dev, a->name, &v, false) != -EBUSY ||
		     dev_attr_set(dev, a->name, &v, true) != 0))
			return __LINE__;
		if (a->access == DEV_ATTR_INFO && dev_attr_set(dev, a->name, &v, true) != -EPERM)
			return __LINE__;
		v.type = a->type == DEV_ATTR_STR ? DEV_ATTR_U64 : DEV_ATTR_STR;
		if (a->set && a->access != DEV_ATTR_INFO &&
		    dev_attr_set(dev, a->name, &v, true) != -EINVAL)
			return __LINE__;
	}
	if (dev_attr_get(dev, "no-such-attr", &(struct dev_value){ 0 }) != -ENOENT ||
	    dev_cmd_run(dev, "no-such-cmd", NULL) != -ENOENT)
		return __LINE__;
	return 0;
}

/* For each device: every attribute obeys its access rules. */
static void every_attribute_obeys_its_access_rules(void)
{
	unsigned int d;

	setup();
	for (d = 0; d < 4; d++)
		CHECK_EQ(check_attr_rules(&devs[d]), 0);
	teardown();
}

/* The same contract on every virtio class (devices built, threads not started). */
static void every_virtio_attribute_obeys_its_access_rules(void)
{
	struct virtio_blk_config_in bc = { .id = "vda" };
	struct virtio_console_config_in cc = { .in_fd = -1, .out_fd = -1 };
	struct virtio_net_config_in nc;
	struct virtio_dev *vd[4];
	unsigned int i, n = 0;
	int fd;

	snprintf(bc.path, sizeof(bc.path), "/tmp/kite-devtest-XXXXXX");
	fd = mkstemp(bc.path);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	close(fd);
	CHECK_EQ(virtio_rng_create("rng0", NULL, &vd[n]), 0);
	n++;
	CHECK_EQ(virtio_blk_create(&bc, NULL, &vd[n]), 0);
	n++;
	CHECK_EQ(virtio_console_create(&cc, NULL, &vd[n]), 0);
	n++;
	CHECK_EQ(virtio_net_parse("user", &nc), 0);
	CHECK_EQ(virtio_net_create(&nc, NULL, &vd[n]), 0);
	n++;
	unlink(bc.path);
	for (i = 0; i < n; i++)
		CHECK_EQ(check_attr_rules(&vd[i]->dev), 0);
	for (i = 0; i < n; i++)
		virtio_dev_destroy(vd[i]);
}

static void serial_state_round_trips_and_range_is_checked(void)
{
	struct dev_value v = { .type = DEV_ATTR_U64, .u64 = 0x5a };

	setup();
	CHECK_EQ(dev_attr_set(&devs[0], "scr", &v, true), 0);
	memset(&v, 0, sizeof(v));
	CHECK_EQ(dev_attr_get(&devs[0], "scr", &v), 0);
	CHECK_EQ(v.u64, 0x5a);
	CHECK_EQ(ser.scr, 0x5a);
	v.u64 = 0x100;
	CHECK_EQ(dev_attr_set(&devs[0], "scr", &v, true), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "out of range");
	teardown();
}

static void serial_commands_inject_input_and_reset(void)
{
	struct dev_value v;

	setup();
	CHECK_EQ(dev_cmd_run(&devs[0], "inject", "abc"), 0);
	CHECK_EQ(dev_attr_get(&devs[0], "rx_len", &v), 0);
	CHECK_EQ(v.u64, 3);
	CHECK_EQ(dev_cmd_run(&devs[0], "inject", NULL), -EINVAL);
	serial_freeze(&ser, true);
	CHECK_EQ(dev_cmd_run(&devs[0], "inject", "x"), -EBUSY);
	serial_freeze(&ser, false);
	CHECK_EQ(dev_cmd_run(&devs[0], "reset", NULL), 0);
	CHECK_EQ(dev_attr_get(&devs[0], "rx_len", &v), 0);
	CHECK_EQ(v.u64, 0);
	teardown();
}

static void i8042_ctrl_alt_del_queues_eight_scancodes(void)
{
	struct dev_value v;
	uint8_t b;

	setup();
	CHECK_EQ(dev_cmd_run(&devs[1], "ctrl-alt-del", NULL), 0);
	CHECK_EQ(dev_attr_get(&devs[1], "pending", &v), 0);
	CHECK_EQ(v.u64, 8);
	CHECK(bus_access(&pio, 0x60, &b, 1, false));
	CHECK_EQ(b, 0x1d);	/* left Ctrl pressed */
	CHECK_EQ(dev_cmd_run(&devs[1], "ctrl-alt-del", NULL), 0);
	CHECK_EQ(dev_cmd_run(&devs[1], "ctrl-alt-del", NULL), -EBUSY);
	teardown();
}

int main(void)
{
	RUN(registry_refuses_duplicate_and_empty_ids);
	RUN(every_attribute_obeys_its_access_rules);
	RUN(every_virtio_attribute_obeys_its_access_rules);
	RUN(serial_state_round_trips_and_range_is_checked);
	RUN(serial_commands_inject_input_and_reset);
	RUN(i8042_ctrl_alt_del_queues_eight_scancodes);
	return harness_done();
}
