// SPDX-License-Identifier: MIT
/*
 * Unit tests of the address space's device-facing paths: translation cache,
 * long-lived mappings, iovec translation, dirty logging, export, and the
 * guest RAM backings.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/addr_space.h"
#include "harness.h"

#define PG 4096u

/*
 * One 64 KiB memfd backing; regions: a [0, 16 pages) slot 0, b [16, 32 pages)
 * slot 1 (adjacent, contiguous in the backing too), hole, c at 1 MiB: the
 * backing's pages 32-48 (slot 2).  Pages of d [2 MiB, +1 page) are ROM
 * (read-only, caller memory).
 */
static struct guest_ram_block *ram;
static uint8_t rom[PG];

static void setup(struct addr_space *as)
{
	static const struct guest_ram_backing memfd = { .kind = GUEST_RAM_MEMFD };

	as_init(as);
	if (guest_ram_create(&memfd, 64 * PG, "test-ram", &ram) ||
	    as_add(as, &(struct as_region_spec){ .gpa = 0, .size = 16 * PG, .backing = ram,
						 .slot = 0 }) ||
	    as_add(as, &(struct as_region_spec){ .gpa = 16 * PG, .size = 16 * PG, .backing = ram,
						 .fd_offset = 16 * PG, .slot = 1 }) ||
	    as_add(as, &(struct as_region_spec){ .gpa = 0x100000, .size = 16 * PG,
						 .backing = ram, .fd_offset = 32 * PG,
						 .slot = 2 }) ||
	    as_add(as, &(struct as_region_spec){ .gpa = 0x200000, .size = PG, .host = rom,
						 .flags = AS_REGION_READONLY,
						 .slot = AS_NO_SLOT }))
		abort();
}

static void teardown(struct addr_space *as)
{
	guest_ram_put(ram);
	ram = NULL;
	as_destroy(as);
}

/* ---- dirty sync collector ---- */

struct runs {
	unsigned int n;
	uint64_t pfn[32], npages[32];
	int fail_after;		/* return -EIO on this call (1-based), 0: never */
};

static int collect(void *opaque, uint64_t pfn, uint64_t npages)
{
	struct runs *r = opaque;

	if (r->fail_after && (int)r->n + 1 == r->fail_after)
		return -EIO;
	if (r->n < 32) {
		r->pfn[r->n] = pfn;
		r->npages[r->n] = npages;
	}
	r->n++;
	return 0;
}

/* A fake KVM: slot 2 reports pages 3 and 4 of its region dirty. */
static int fake_kvm_get(void *opaque, uint32_t slot, uint64_t *bitmap)
{
	unsigned int *calls = opaque;

	(*calls)++;
	if (slot == 2)
		bitmap[0] |= 0x18;
	return 0;
}

static void sync_runs(struct addr_space *as, struct runs *r)
{
	memset(r, 0, sizeof(*r));
	if (as_dirty_sync(as, NULL, NULL, collect, r))
		abort();
}

/* ---- tests ---- */

static void cache_hits_same_region_and_revalidates_after_update(void)
{
	struct addr_space as;
	struct as_cache c;
	uint8_t *p, *q;

	setup(&as);
	as_cache_init(&c, &as);
	as_read_lock();
	p = as_cache_translate(&c, 0x10, 8, false);
	CHECK(p == ram->host + 0x10);
	q = as_cache_translate(&c, 15 * PG, PG, true);
	CHECK(q == ram->host + 15 * PG);
	CHECK(as_cache_translate(&c, 15 * PG, PG + 1, false) == NULL);	/* crosses into b */
	CHECK(as_cache_translate(&c, 0x100000 + PG, 8, false) == ram->host + 33 * PG);
	CHECK(as_cache_translate(&c, 0x200000, 1, true) == NULL);	/* ROM */
	CHECK(as_cache_translate(&c, 0x200000, 1, false) == rom);
	CHECK(as_cache_translate(&c, 0x300000, 1, false) == NULL);	/* hole */
	CHECK(as_cache_translate(&c, 0x10, 0, false) == NULL);
	as_read_unlock();
	CHECK_EQ(as_remove(&as, 0x100000), 0);
	as_read_lock();
	CHECK(as_cache_translate(&c, 0x100000, 8, false) == NULL);
	as_read_unlock();
	teardown(&as);
}

static void mapping_revalidates_on_generation_change(void)
{
	struct addr_space as;
	struct as_mapping m, ro;

	setup(&as);
	CHECK_EQ(as_mapping_init(&m, &as, 0x100000 + 8, 64, true), 0);
	CHECK_EQ(as_mapping_init(&ro, &as, 0x200000, 16, true), -EFAULT);	/* ROM for write */
	CHECK_EQ(as_mapping_init(&ro, &as, 0x200000, 16, false), 0);
	CHECK_EQ(as_mapping_init(&ro, &as, 0x100000 + 16 * PG - 8, 16, false), -EFAULT);
	as_read_lock();
	CHECK(as_mapping_get(&m) == ram->host + 32 * PG + 8);
	as_read_unlock();
	CHECK_EQ(as_set_flags(&as, 0x100000, AS_REGION_READONLY), 0);
	as_read_lock();
	CHECK(as_mapping_get(&m) == NULL);			/* now read-only */
	as_read_unlock();
	CHECK_EQ(as_set_flags(&as, 0x100000, 0), 0);
	as_read_lock();
	CHECK(as_mapping_get(&m) == ram->host + 32 * PG + 8);	/* valid again */
	as_read_unlock();
	CHECK_EQ(as_remove(&as, 0x100000), 0);
	as_read_lock();
	CHECK(as_mapping_get(&m) == NULL);
	as_read_unlock();
	teardown(&as);
}

static void iov_translation_merges_contiguous_regions_and_reports_errors(void)
{
	struct addr_space as;
	struct iovec iov[4];
	static uint8_t other[2 * PG];

	setup(&as);
	as_read_lock();
	/* a and b are adjacent in gpa and in the backing: one iovec */
	CHECK_EQ(as_translate_iov(&as, 15 * PG, 2 * PG, false, iov, 4), 1);
	CHECK(iov[0].iov_base == ram->host + 15 * PG);
	CHECK_EQ(iov[0].iov_len, 2 * PG);
	CHECK_EQ(as_translate_iov(&as, 0, 0, false, iov, 4), 0);
	CHECK_EQ(as_translate_iov(&as, 31 * PG, 2 * PG, false, iov, 4), -EFAULT);	/* hole */
	CHECK_EQ(as_translate_iov(&as, UINT64_MAX - 1, 4, false, iov, 4), -EFAULT);
	CHECK_EQ(as_translate_iov(&as, 0x200000, 1, true, iov, 4), -EFAULT);	/* ROM */
	as_read_unlock();
	/* adjacent in gpa, not in host memory: two iovecs */
	CHECK_EQ(as_add_region(&as, 0x100000 + 16 * PG, 2 * PG, other, -1, 0, 0), 0);
	as_read_lock();
	CHECK_EQ(as_translate_iov(&as, 0x100000 + 15 * PG, 2 * PG, false, iov, 4), 2);
	CHECK(iov[0].iov_base == ram->host + 47 * PG);
	CHECK_EQ(iov[0].iov_len, PG);
	CHECK(iov[1].iov_base == other);
	CHECK_EQ(iov[1].iov_len, PG);
	CHECK_EQ(as_translate_iov(&as, 0x100000 + 15 * PG, 2 * PG, false, iov, 1), -E2BIG);
	as_read_unlock();
	teardown(&as);
}

static void dirty_bits_are_set_exactly_for_written_pages_on_every_write_path(void)
{
	struct addr_space as;
	struct as_cache c;
	struct as_mapping m;
	struct iovec iov[2];
	struct runs r;
	uint8_t buf[2] = { 1, 2 };

	setup(&as);
	CHECK_EQ(as_dirty_sync(&as, NULL, NULL, collect, &r), -EINVAL);	/* logging off */
	CHECK_EQ(as_copy_to(&as, 0, buf, 1), 0);			/* before logging */
	CHECK_EQ(as_dirty_log_start(&as), 0);
	sync_runs(&as, &r);
	CHECK_EQ(r.n, 0);
	CHECK_EQ(as_copy_to(&as, 2 * PG - 1, buf, 2), 0);		/* pages 1, 2 */
	CHECK_EQ(as_write_u32(&as, 5 * PG, 7), 0);			/* page 5 */
	CHECK_EQ(as_fill_zero(&as, 16 * PG - 1, 2), 0);		/* pages 15, 16 (a, b) */
	CHECK_EQ(as_copy_from(&as, buf, 9 * PG, 2), 0);		/* reads: nothing */
	sync_runs(&as, &r);
	CHECK_EQ(r.n, 4);
	CHECK_EQ(r.pfn[0], 1);
	CHECK_EQ(r.npages[0], 2);
	CHECK_EQ(r.pfn[1], 5);
	CHECK_EQ(r.npages[1], 1);
	CHECK_EQ(r.pfn[2], 15);	/* runs never span regions; gpa order */
	CHECK_EQ(r.npages[2], 1);
	CHECK_EQ(r.pfn[3], 16);
	CHECK_EQ(r.npages[3], 1);
	sync_runs(&as, &r);
	CHECK_EQ(r.n, 0);					/* cleared by the sync */

	as_cache_init(&c, &as);
	as_read_lock();
	CHECK(as_cache_translate(&c, 0x100000 + 3 * PG, 10, true) != NULL);	/* pfn 0x103 */
	CHECK(as_cache_translate(&c, 0x100000 + 4 * PG, 10, false) != NULL);	/* read */
	CHECK_EQ(as_translate_iov(&as, 8 * PG + 1, PG, true, iov, 2), 1);	/* 8, 9 */
	CHECK_EQ(as_translate_iov(&as, 10 * PG, PG, false, iov, 2), 1);	/* read */
	CHECK_EQ(as_translate_iov(&as, 12 * PG, 30 * PG, true, iov, 2), -EFAULT);
	CHECK(as_map_rw(&as, 0x100000 + 9 * PG, 1) != NULL);			/* 0x109 */
	as_read_unlock();
	as_mark_dirty(&as, 31 * PG, 2 * PG);			/* 31 (b); hole ignored */
	CHECK_EQ(as_mapping_init(&m, &as, 0x100000 + 12 * PG, 2 * PG, true), 0);
	as_mapping_mark_dirty(&m, PG, 1);				/* 0x10d */
	as_mapping_mark_dirty(&m, PG, 2 * PG);			/* out of the mapping: ignored */
	sync_runs(&as, &r);
	CHECK_EQ(r.n, 5);
	CHECK_EQ(r.pfn[0], 8);
	CHECK_EQ(r.npages[0], 2);
	CHECK_EQ(r.pfn[1], 31);
	CHECK_EQ(r.npages[1], 1);
	CHECK_EQ(r.pfn[2], 0x103);
	CHECK_EQ(r.pfn[3], 0x109);
	CHECK_EQ(r.pfn[4], 0x10d);
	as_dirty_log_stop(&as);
	CHECK_EQ(as_copy_to(&as, 0, buf, 1), 0);
	CHECK_EQ(as_dirty_sync(&as, NULL, NULL, collect, &r), -EINVAL);
	teardown(&as);
}

static void dirty_sync_merges_kvm_bitmap_and_keeps_unreported_pages(void)
{
	struct addr_space as;
	unsigned int calls = 0;
	struct runs r = { 0 };
	uint8_t b = 1;

	setup(&as);
	CHECK_EQ(as_dirty_log_start(&as), 0);
	CHECK_EQ(as_copy_to(&as, 0x100000 + 5 * PG, &b, 1), 0);	/* device: page 5 */
	CHECK_EQ(as_dirty_sync(&as, fake_kvm_get, &calls, collect, &r), 0);
	CHECK_EQ(calls, 3);					/* slots 0, 1, 2; ROM not logged */
	CHECK_EQ(r.n, 1);
	CHECK_EQ(r.pfn[0], 0x103);				/* KVM 3, 4 + device 5 */
	CHECK_EQ(r.npages[0], 3);

	CHECK_EQ(as_copy_to(&as, 0, &b, 1), 0);
	CHECK_EQ(as_copy_to(&as, 2 * PG, &b, 1), 0);
	memset(&r, 0, sizeof(r));
	r.fail_after = 2;					/* the consumer fails */
	CHECK_EQ(as_dirty_sync(&as, NULL, NULL, collect, &r), -EIO);
	sync_runs(&as, &r);
	CHECK_EQ(r.n, 2);					/* nothing lost */
	CHECK_EQ(r.pfn[1], 2);
	teardown(&as);
}

static void region_added_while_logging_is_logged(void)
{
	struct addr_space as;
	static uint8_t extra[2 * PG];
	struct runs r;
	uint8_t b = 1;

	setup(&as);
	CHECK_EQ(as_dirty_log_start(&as), 0);
	CHECK_EQ(as_add_region(&as, 0x400000, sizeof(extra), extra, -1, 0, 0), 0);
	CHECK_EQ(as_set_flags(&as, 0x200000, 0), 0);	/* ROM becomes writable */
	CHECK_EQ(as_copy_to(&as, 0x400000 + PG, &b, 1), 0);
	CHECK_EQ(as_copy_to(&as, 0x200000, &b, 1), 0);
	CHECK_EQ(as_resize(&as, 0x400000, PG), -EBUSY);
	sync_runs(&as, &r);
	CHECK_EQ(r.n, 2);
	CHECK_EQ(r.pfn[0], 0x200);
	CHECK_EQ(r.pfn[1], 0x401);
	teardown(&as);
}

static void export_describes_fd_offset_and_size_of_each_region(void)
{
	struct addr_space as;
	struct as_region_desc d[4];

	setup(&as);
	CHECK_EQ(as_export(&as, d, 3), -E2BIG);
	CHECK_EQ(as_export(&as, d, 4), 4);
	CHECK_EQ(d[0].gpa, 0);
	CHECK_EQ(d[0].fd, ram->fd);
	CHECK_EQ(d[1].fd_offset, 16 * PG);
	CHECK_EQ(d[2].gpa, 0x100000);
	CHECK_EQ(d[2].size, 16 * PG);
	CHECK_EQ(d[2].fd_offset, 32 * PG);
	CHECK_EQ(d[2].host_addr, (uintptr_t)(ram->host + 32 * PG));
	CHECK_EQ(d[3].fd, (unsigned long long)-1);
	CHECK_EQ(d[3].flags, AS_REGION_READONLY);
	teardown(&as);
}

static void backed_region_outside_backing_or_unaligned_slot_is_refused(void)
{
	struct addr_space as;

	setup(&as);
	CHECK_EQ(as_add(&as, &(struct as_region_spec){ .gpa = 0x800000, .size = 2 * PG,
						       .backing = ram, .fd_offset = 63 * PG,
						       .slot = AS_NO_SLOT }), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "outside its backing");
	CHECK_EQ(as_add(&as, &(struct as_region_spec){ .gpa = 0x800001, .size = PG,
						       .backing = ram, .slot = 5 }), -EINVAL);
	CHECK_EQ(as_resize(&as, 0x100000, 33 * PG), -EINVAL);	/* backing has 32 pages left */
	CHECK_EQ(as_resize(&as, 0x100000, 32 * PG), 0);
	teardown(&as);
}

static void guest_ram_backings_parse_and_allocate_zeroed_memory(void)
{
	struct guest_ram_backing b;
	struct guest_ram_block *g;
	char path[] = "/tmp/kite-test-ram.XXXXXX";
	int fd;

	CHECK_EQ(guest_ram_parse_backing("memfd", &b), 0);
	CHECK_EQ(b.kind, GUEST_RAM_MEMFD);
	CHECK_EQ(guest_ram_parse_backing("hugetlbfs", &b), 0);
	CHECK_EQ(b.kind, GUEST_RAM_HUGETLBFS);
	CHECK_EQ(guest_ram_parse_backing("thp", &b), 0);
	CHECK_EQ(b.kind, GUEST_RAM_THP);
	CHECK_EQ(guest_ram_parse_backing("file:/x/y", &b), 0);
	CHECK_EQ(b.kind, GUEST_RAM_FILE);
	CHECK(!strcmp(b.path, "/x/y"));
	CHECK_EQ(guest_ram_parse_backing("file:", &b), -EINVAL);
	CHECK_EQ(guest_ram_parse_backing("huge", &b), -EINVAL);
	CHECK_STR_CONTAINS(err_msg(), "memfd, hugetlbfs, thp or file:PATH");

	b = (struct guest_ram_backing){ .kind = GUEST_RAM_MEMFD };
	CHECK_EQ(guest_ram_create(&b, 12345, "t", &g), -EINVAL);
	CHECK_EQ(guest_ram_create(&b, 16 * PG, "t", &g), 0);
	CHECK_EQ(g->host[16 * PG - 1], 0);
	g->host[0] = 0x5a;
	CHECK_EQ(pread(g->fd, &b, 1, 0), 1);			/* shared with the fd */
	CHECK_EQ(*(uint8_t *)&b, 0x5a);
	guest_ram_put(g);

	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	b = (struct guest_ram_backing){ .kind = GUEST_RAM_FILE, .path = path };
	CHECK_EQ(guest_ram_create(&b, 4 * PG, "t", &g), 0);
	g->host[3 * PG] = 0x77;
	guest_ram_put(g);
	CHECK_EQ(guest_ram_create(&b, 4 * PG, "t", &g), 0);	/* a snapshot keeps content */
	CHECK_EQ(g->host[3 * PG], 0x77);
	guest_ram_put(g);
	unlink(path);
}

static void hugetlbfs_backing_succeeds_or_says_how_to_reserve_pages(void)
{
	struct guest_ram_backing b = { .kind = GUEST_RAM_HUGETLBFS };
	struct guest_ram_block *g;
	int ret;

	CHECK_EQ(guest_ram_create(&b, PG * 16, "t", &g), -EINVAL);	/* not 2 MiB multiple */
	ret = guest_ram_create(&b, 4ULL << 20, "t", &g);
	if (ret == 0) {
		CHECK_EQ(g->page_size, 2ULL << 20);
		CHECK_EQ((uintptr_t)g->host & ((2ULL << 20) - 1), 0);
		guest_ram_put(g);
		return;
	}
	CHECK_STR_CONTAINS(err_msg(), "huge");
	CHECK(ret == -ENOMEM || ret == -EINVAL || ret == -ENOENT || ret == -ENOSYS);
}

static void thp_backing_is_aligned_or_refused_with_a_reason(void)
{
	struct guest_ram_backing b = { .kind = GUEST_RAM_THP };
	struct guest_ram_block *g;
	int ret = guest_ram_create(&b, 4ULL << 20, "t", &g);

	if (ret == 0) {
		CHECK_EQ((uintptr_t)g->host & ((2ULL << 20) - 1), 0);
		g->host[0] = 1;
		guest_ram_put(g);
		return;
	}
	CHECK_EQ(ret, -ENOTSUP);
	CHECK_STR_CONTAINS(err_msg(), "shmem_enabled");
}

int main(void)
{
	RUN(cache_hits_same_region_and_revalidates_after_update);
	RUN(mapping_revalidates_on_generation_change);
	RUN(iov_translation_merges_contiguous_regions_and_reports_errors);
	RUN(dirty_bits_are_set_exactly_for_written_pages_on_every_write_path);
	RUN(dirty_sync_merges_kvm_bitmap_and_keeps_unreported_pages);
	RUN(region_added_while_logging_is_logged);
	RUN(export_describes_fd_offset_and_size_of_each_region);
	RUN(backed_region_outside_backing_or_unaligned_slot_is_refused);
	RUN(guest_ram_backings_parse_and_allocate_zeroed_memory);
	RUN(hugetlbfs_backing_succeeds_or_says_how_to_reserve_pages);
	RUN(thp_backing_is_aligned_or_refused_with_a_reason);
	return harness_done();
}
