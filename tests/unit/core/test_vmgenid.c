// SPDX-License-Identifier: MIT
/*
 * The VM generation ID device on a fake guest RAM: the ID it writes is where
 * it says and what its attribute shows, a regenerate changes it and raises
 * the GED line once, it has no state of its own, and guest memory it cannot
 * reach is an error with a message.
 */
#include <errno.h>
#include <stdio.h>

#include "arch/x86/layout.h"
#include "devices/vmgenid.h"
#include "harness.h"
#include "platform/guest_ram.h"

struct fixture {
	struct guest_ram g;
	struct vmgenid v;
	struct device dev;
};

static void setup(struct fixture *f, uint64_t gpa)
{
	guest_ram_init(&f->g, GUEST_RAM_SIZE);
	vmgenid_init(&f->v, &f->g.as, gpa, (struct irq_line){ .vm_fd = -1, .gsi = X86_GED_GSI });
	memset(&f->dev, 0, sizeof(f->dev));
	snprintf(f->dev.id, sizeof(f->dev.id), "vmgenid");
	f->dev.cls = &vmgenid_class;
	f->dev.priv = &f->v;
}

static void teardown(struct fixture *f)
{
	vmgenid_destroy(&f->v);
	guest_ram_free(&f->g);
}

static uint64_t attr_u64(struct device *dev, const char *name)
{
	struct dev_value v = { 0 };

	return dev_attr_get(dev, name, &v) ? ~0ull : v.u64;
}

/* The attribute as the guest's bytes at @gpa would print. */
static bool attr_is_memory(struct fixture *f, uint64_t gpa)
{
	struct dev_value v = { 0 };
	char want[33];
	unsigned int i;

	for (i = 0; i < 16; i++)
		snprintf(want + 2 * i, 3, "%02x", f->g.mem[gpa + i]);
	return !dev_attr_get(&f->dev, "generation_id", &v) && !strcmp(v.str, want);
}

static void write_new_puts_a_random_id_at_the_address_and_raises_nothing(void)
{
	static const uint8_t zero[16];
	struct fixture f;

	setup(&f, X86_VMGENID_ADDR);
	CHECK_EQ(vmgenid_write_new(&f.v), 0);
	CHECK(memcmp(f.g.mem + X86_VMGENID_ADDR, zero, 16));
	CHECK(attr_is_memory(&f, X86_VMGENID_ADDR));
	CHECK_EQ(attr_u64(&f.dev, "address"), X86_VMGENID_ADDR);
	CHECK_EQ(attr_u64(&f.dev, "gsi"), X86_GED_GSI);
	CHECK_EQ(attr_u64(&f.dev, "generations"), 1);
	CHECK_EQ(attr_u64(&f.dev, "notifications"), 0);
	teardown(&f);
}

static void regenerate_changes_the_id_and_raises_the_ged_line_once(void)
{
	uint8_t before[16], after[16];
	struct fixture f;

	setup(&f, X86_VMGENID_ADDR);
	CHECK_EQ(vmgenid_write_new(&f.v), 0);
	CHECK_EQ(vmgenid_read(&f.v, before), 0);
	CHECK_EQ(dev_cmd_run(&f.dev, "regenerate", NULL), 0);
	CHECK_EQ(vmgenid_read(&f.v, after), 0);
	CHECK(memcmp(before, after, 16));
	CHECK(!memcmp(after, f.g.mem + X86_VMGENID_ADDR, 16));
	CHECK(attr_is_memory(&f, X86_VMGENID_ADDR));
	CHECK_EQ(attr_u64(&f.dev, "generations"), 2);
	CHECK_EQ(attr_u64(&f.dev, "notifications"), 1);
	CHECK_EQ(f.v.irq.level, 0);			/* an edge: the line is low again */
	teardown(&f);
}

static void attributes_are_info_only_and_unknown_names_are_refused(void)
{
	struct dev_value v = { 0 }, w = { 0 };
	struct fixture f;
	unsigned int i;

	setup(&f, X86_VMGENID_ADDR);
	CHECK_EQ(vmgenid_write_new(&f.v), 0);
	for (i = 0; i < vmgenid_class.nr_attrs; i++) {
		const struct dev_attr *a = &vmgenid_class.attrs[i];

		CHECK_EQ(a->access, DEV_ATTR_INFO);	/* no state: RAM carries the ID */
		CHECK_EQ(dev_attr_get(&f.dev, a->name, &v), 0);
		CHECK_EQ(dev_attr_get(&f.dev, a->name, &w), 0);
		CHECK(v.type == w.type && v.u64 == w.u64 && !strcmp(v.str, w.str));
		CHECK_EQ(dev_attr_set(&f.dev, a->name, &v, true), -EPERM);
	}
	CHECK_EQ(dev_attr_get(&f.dev, "no-such-attr", &v), -ENOENT);
	CHECK_EQ(dev_cmd_run(&f.dev, "no-such-cmd", NULL), -ENOENT);
	teardown(&f);
}

static void id_outside_guest_ram_is_an_error_with_a_message(void)
{
	struct dev_value v = { 0 };
	struct fixture f;

	setup(&f, GUEST_RAM_SIZE - 8);			/* the last 8 bytes and beyond */
	err_clear();
	CHECK_EQ(vmgenid_write_new(&f.v), -EFAULT);
	CHECK_STR_CONTAINS(err_msg(), "vmgenid: guest memory at 0xffff8");
	CHECK_EQ(vmgenid_regenerate(&f.v), -EFAULT);
	CHECK_EQ(attr_u64(&f.dev, "notifications"), 0);	/* no interrupt for no ID */
	CHECK_EQ(dev_attr_get(&f.dev, "generation_id", &v), 0);
	CHECK_EQ(v.str[0], '\0');
	teardown(&f);
}

int main(void)
{
	RUN(write_new_puts_a_random_id_at_the_address_and_raises_nothing);
	RUN(regenerate_changes_the_id_and_raises_the_ged_line_once);
	RUN(attributes_are_info_only_and_unknown_names_are_refused);
	RUN(id_outside_guest_ram_is_an_error_with_a_message);
	return harness_done();
}
