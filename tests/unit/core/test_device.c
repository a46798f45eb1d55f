// SPDX-License-Identifier: MIT
/*
 * The device model's contract, checked on every device class kite has:
 * attributes read without side effects, state is writable only while
 * paused, info is never writable, types are enforced, unknown names are
 * refused, and every state attribute round-trips (get -> set -> get).
 */
#include <errno.h>
#include <stdbool.h>
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

static bool same_value(const struct dev_value *a, const struct dev_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case DEV_ATTR_U64: return a->u64 == b->u64;
	case DEV_ATTR_BOOL: return a->b == b->b;
	case DEV_ATTR_STR: return !strcmp(a->str, b->str);
	case DEV_ATTR_BYTES:
		return a->bytes && b->bytes && a->len == b->len &&
		       !memcmp(a->bytes, b->bytes, a->len);
	}
	return false;
}

/* One attribute obeys its access rules; 0 or the failing line. */
static int check_one_attr(struct device *dev, const struct dev_attr *a)
{
	struct dev_value v, w, x;
	int line = 0;

	if (dev_attr_get(dev, a->name, &v) || v.type != a->type)
		return __LINE__;
	if (dev_attr_get(dev, a->name, &w) || !same_value(&v, &w))
		line = __LINE__;	/* reads have no side effects */
	dev_value_release(&w);
	if (!line && a->access == DEV_ATTR_STATE &&
	    (dev_attr_set(dev, a->name, &v, false) != -EBUSY ||
	     dev_attr_set(dev, a->name, &v, true) != 0))
		line = __LINE__;
	/* State round-trips: what was read, written back, reads the same. */
	if (!line && a->access == DEV_ATTR_STATE) {
		if (dev_attr_get(dev, a->name, &x) || !same_value(&v, &x))
			line = __LINE__;
		dev_value_release(&x);
	}
	if (!line && a->access == DEV_ATTR_INFO && dev_attr_set(dev, a->name, &v, true) != -EPERM)
		line = __LINE__;
	dev_value_release(&v);
	v.type = a->type == DEV_ATTR_STR ? DEV_ATTR_U64 : DEV_ATTR_STR;
	if (!line && a->set && a->access != DEV_ATTR_INFO &&
	    dev_attr_set(dev, a->name, &v, true) != -EINVAL)
		line = __LINE__;
	if (line)
		printf("# attribute '%s' of '%s': %s\n", a->name, dev->id, err_msg());
	return line;
}

/* Every attribute of @dev obeys its access rules; 0 or the failing line. */
static int check_attr_rules(struct device *dev)
{
	const struct dev_class *c = dev->cls;
	unsigned int i;
	int line;

	for (i = 0; i < c->nr_attrs; i++) {
		line = check_one_attr(dev, &c->attrs[i]);
		if (line)
			return line;
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
	CHECK_STR_CONTAINS(err_msg(),
			   "device 'serial0': scr 0x100 is out of range (bits outside 0xff)");
	v.u64 = 0x10;		/* IER has four bits */
	CHECK_EQ(dev_attr_set(&devs[0], "ier", &v, true), -EINVAL);
	CHECK_EQ(ser.ier, 0);
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

/* ---- state transfer between two devices of a class ---- */

/* Read every STATE attribute of @from and write it, in the class's order,
 * to @to (paused); 0 or the failing attribute's index + 1. */
static int copy_state(struct device *from, struct device *to)
{
	unsigned int i;

	for (i = 0; i < from->cls->nr_attrs; i++) {
		const struct dev_attr *a = &from->cls->attrs[i];
		struct dev_value v;
		int ret;

		if (a->access != DEV_ATTR_STATE)
			continue;
		if (dev_attr_get(from, a->name, &v))
			return (int)i + 1;
		ret = dev_attr_set(to, a->name, &v, true);
		dev_value_release(&v);
		if (ret) {
			printf("# %s\n", err_msg());
			return (int)i + 1;
		}
	}
	return 0;
}

/* Every STATE attribute of @a reads the same as @b's. */
static bool same_state(struct device *a, struct device *b)
{
	unsigned int i;
	bool same = true;

	for (i = 0; same && i < a->cls->nr_attrs; i++) {
		const struct dev_attr *at = &a->cls->attrs[i];
		struct dev_value x, y;

		if (at->access != DEV_ATTR_STATE)
			continue;
		if (dev_attr_get(a, at->name, &x))
			return false;
		if (dev_attr_get(b, at->name, &y)) {
			dev_value_release(&x);
			return false;
		}
		same = same_value(&x, &y);
		dev_value_release(&x);
		dev_value_release(&y);
	}
	return same;
}

static uint8_t port_rd(struct bus *b, uint64_t port)
{
	uint8_t v = 0xee;

	bus_access(b, port, &v, 1, false);
	return v;
}

static void port_wr(struct bus *b, uint64_t port, uint8_t v)
{
	bus_access(b, port, &v, 1, true);
}

/* A bytes value of @n bytes from @p, for the hostile-value tests. */
static struct dev_value bytes_value(const uint8_t *p, size_t n)
{
	static uint8_t buf[2048];
	struct dev_value v = { .type = DEV_ATTR_BYTES, .bytes = buf, .len = n };

	memcpy(buf, p, n);
	return v;
}

static void serial_state_moves_registers_fifo_and_pending_interrupt(void)
{
	struct serial s2;
	struct bus pio2;
	struct device d2 = { .id = "serial1", .cls = &serial_class, .priv = &s2 };
	unsigned int i;

	setup();
	bus_init(&pio2, "pio2");
	serial_init(&s2, (struct irq_line){ .vm_fd = -1 }, -1, -1);
	CHECK_EQ(serial_register(&ser, &pio, 0x3f8), 0);
	CHECK_EQ(serial_register(&s2, &pio2, 0x3f8), 0);
	port_wr(&pio, 0x3fb, 0x83);		/* DLAB */
	port_wr(&pio, 0x3f8, 0x01);		/* 115200 baud */
	port_wr(&pio, 0x3fb, 0x1b);		/* 8e1 */
	port_wr(&pio, 0x3f9, 0x03);		/* RDI | THRI: THRE pending */
	port_wr(&pio, 0x3fc, 0x0b);
	port_wr(&pio, 0x3ff, 0x5a);
	port_wr(&pio, 0x3fa, 0xc1);
	CHECK_EQ(serial_rx_push(&ser, (const uint8_t *)"kite!", 5), 5);
	CHECK_EQ(port_rd(&pio, 0x3f8), 'k');
	CHECK_EQ(copy_state(&devs[0], &d2), 0);
	CHECK(same_state(&devs[0], &d2));
	CHECK(__atomic_load_n(&s2.irq.raised, __ATOMIC_RELAXED) >= 1);	/* line re-driven */
	/* The guest goes on on the second UART where it left the first. */
	CHECK_EQ(port_rd(&pio2, 0x3fb), 0x1b);
	CHECK_EQ(port_rd(&pio2, 0x3fa), 0xc0 | 0x04);	/* FIFOs on, data available */
	CHECK_EQ(port_rd(&pio2, 0x3fd) & 0x01, 0x01);
	for (i = 0; i < 4; i++)
		CHECK_EQ(port_rd(&pio2, 0x3f8), (uint8_t)"ite!"[i]);
	CHECK_EQ(port_rd(&pio2, 0x3fa), 0xc0 | 0x02);	/* then THRE, still pending */
	CHECK_EQ(port_rd(&pio2, 0x3fa), 0xc0 | 0x01);	/* reading IIR cleared it */
	port_wr(&pio2, 0x3fb, 0x9b);
	CHECK_EQ(port_rd(&pio2, 0x3f8), 0x01);		/* the divisor latch came along */
	serial_destroy(&s2);
	bus_destroy(&pio2);
	teardown();
}

static void serial_refuses_malformed_fifo_and_keeps_its_state(void)
{
	static const struct { uint8_t b[8]; size_t n; const char *why; } bad[] = {
		{ { 1, 0xd0, 0x07 }, 3, "2000 bytes, the FIFO holds 1024" },
		{ { 1, 5, 0, 'a', 'b' }, 5, "truncated at byte 3: need 5 bytes, 2 left" },
		{ { 2, 0, 0 }, 3, "layout version 2 is not known" },
		{ { 1, 1, 0, 'a', 'b' }, 5, "1 bytes left over at byte 4" },
		{ { 0 }, 0, "empty" },
	};
	struct dev_value v;
	unsigned int i;

	setup();
	CHECK_EQ(serial_rx_push(&ser, (const uint8_t *)"xy", 2), 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = bytes_value(bad[i].b, bad[i].n);
		CHECK_EQ(dev_attr_set(&devs[0], "rx_fifo", &v, true), -EINVAL);
		CHECK_STR_CONTAINS(err_msg(), "device 'serial0': rx_fifo: ");
		CHECK_STR_CONTAINS(err_msg(), bad[i].why);
		CHECK_EQ(ser.rx_len, 2);
		CHECK_EQ(ser.rx[ser.rx_head], 'x');
	}
	v.type = DEV_ATTR_U64;
	CHECK_EQ(dev_attr_set(&devs[0], "rx_fifo", &v, true), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "is of type bytes, not u64");
	teardown();
}

static void i8042_state_moves_output_buffer_and_pending_command(void)
{
	struct i8042 k2;
	struct bus pio2;
	struct device d2 = { .id = "i8042b", .cls = &i8042_class, .priv = &k2 };
	static const uint8_t want[] = { 0x55, 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
	unsigned int i;

	setup();
	bus_init(&pio2, "pio2");
	CHECK_EQ(i8042_init(&k2, &rs, &pio2, (struct irq_line){ .vm_fd = -1 }), 0);
	port_wr(&pio, 0x64, 0x60);
	port_wr(&pio, 0x60, 0x01);		/* keyboard interrupt on */
	port_wr(&pio, 0x64, 0xaa);		/* self test: 0x55 queued */
	CHECK_EQ(dev_cmd_run(&devs[1], "ctrl-alt-del", NULL), 0);
	port_wr(&pio, 0x64, 0x60);		/* waits for its data byte */
	CHECK_EQ(copy_state(&devs[1], &d2), 0);
	CHECK(same_state(&devs[1], &d2));
	CHECK(__atomic_load_n(&k2.kbd_irq.raised, __ATOMIC_RELAXED) >= 1);
	CHECK_EQ(port_rd(&pio2, 0x64) & 0x01, 0x01);	/* output buffer full */
	for (i = 0; i < sizeof(want); i++)
		CHECK_EQ(port_rd(&pio2, 0x60), want[i]);
	CHECK_EQ(port_rd(&pio2, 0x64) & 0x01, 0);
	port_wr(&pio2, 0x60, 0x45);		/* the pending command's data */
	CHECK_EQ(k2.ctr, 0x45);
	CHECK_EQ(k2.pending_cmd, 0);
	i8042_destroy(&k2);
	bus_destroy(&pio2);
	teardown();
}

static void i8042_refuses_impossible_state(void)
{
	static const uint8_t too_many[] = { 1, 17, 0 };
	struct dev_value v = { .type = DEV_ATTR_U64, .u64 = 0x20 };

	setup();
	CHECK_EQ(dev_attr_set(&devs[1], "pending_cmd", &v, true), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "only 0 (none) or 0x60");
	v = bytes_value(too_many, sizeof(too_many));
	CHECK_EQ(dev_attr_set(&devs[1], "output_queue", &v, true), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "output_queue: 17 bytes, the controller holds 16");
	CHECK_EQ(kbd.q_len, 0);
	CHECK_EQ(kbd.pending_cmd, 0);
	teardown();
}

static void virtio_net_state_holds_pairs_and_link_and_refuses_others(void)
{
	static const uint8_t down[] = { 1, 1, 0, 0 }, two[] = { 1, 2, 0, 1 };
	struct virtio_net_config_in nc;
	struct virtio_dev *vd;
	struct dev_value v;

	CHECK_EQ(virtio_net_parse("user", &nc), 0);
	CHECK_EQ(virtio_net_create(&nc, NULL, &vd), 0);
	CHECK_EQ(dev_attr_get(&vd->dev, "net_state", &v), 0);
	CHECK(v.len == 4 && !memcmp(v.bytes, "\x01\x01\x00\x01", 4));
	dev_value_release(&v);
	v = bytes_value(two, sizeof(two));
	CHECK_EQ(dev_attr_set(&vd->dev, "net_state", &v, true), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "net_state: 2 queue pairs in use (the device has 1)");
	v = bytes_value(down, sizeof(down));
	CHECK_EQ(dev_attr_set(&vd->dev, "net_state", &v, true), 0);
	CHECK_EQ(dev_attr_get(&vd->dev, "link", &v), 0);
	CHECK(!v.b);
	CHECK_EQ(vd->config[6], 0);			/* the status the guest reads */
	virtio_dev_destroy(vd);
}

int main(void)
{
	RUN(registry_refuses_duplicate_and_empty_ids);
	RUN(every_attribute_obeys_its_access_rules);
	RUN(every_virtio_attribute_obeys_its_access_rules);
	RUN(serial_state_round_trips_and_range_is_checked);
	RUN(serial_commands_inject_input_and_reset);
	RUN(i8042_ctrl_alt_del_queues_eight_scancodes);
	RUN(serial_state_moves_registers_fifo_and_pending_interrupt);
	RUN(serial_refuses_malformed_fifo_and_keeps_its_state);
	RUN(i8042_state_moves_output_buffer_and_pending_command);
	RUN(i8042_refuses_impossible_state);
	RUN(virtio_net_state_holds_pairs_and_link_and_refuses_others);
	return harness_done();
}
