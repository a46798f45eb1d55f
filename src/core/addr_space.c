// SPDX-License-Identifier: MIT
/*
 * addr_space.c - the guest physical address space: an RCU-published,
 * immutable region table (see addr_space.h for the reader rules).
 *
 * Every update waits for a grace period before it returns, so outside an
 * update exactly one table is live; the next update may therefore build its
 * table in whichever inline buffer the current table does not use.
 */
#include "core/addr_space.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>


#include "core/interval.h"
#include "core/rcu.h"

_Static_assert(offsetof(struct as_region, gpa) == offsetof(struct interval, start) &&
	       offsetof(struct as_region, size) == offsetof(struct interval, len),
	       "as_region must start like struct interval");

#define INLINE_NONE (~0u)
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------- readers */

/* The process-wide RCU (core/rcu.h); kept under the as_ names for callers. */
void as_reader_register(void)
{
	krcu_register();
}

void as_reader_unregister(void)
{
	krcu_unregister();
}

void as_read_lock(void)
{
	krcu_read_lock();
}

void as_read_unlock(void)
{
	krcu_read_unlock();
}

/* What rcu_dereference() does, in a form TSan understands. */
static inline const struct as_table *table_get(const struct addr_space *as)
{
	return __atomic_load_n(&as->table, __ATOMIC_ACQUIRE);
}

uint64_t as_generation(const struct addr_space *as)
{
	return table_get(as)->generation;
}

static inline int table_find(const struct as_table *t, uint64_t gpa)
{
	return interval_find(t->r, t->nr, sizeof(t->r[0]), gpa);
}

/* Index of the first region that ends after @gpa (t->nr when none). */
static unsigned int table_first_ending_after(const struct as_table *t, uint64_t gpa)
{
	unsigned int lo = 0, hi = t->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (t->r[mid].gpa + t->r[mid].size <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---------------------------------------------------------- dirty bits */

static uint64_t region_pages(const struct as_region *r)
{
	return ((r->gpa + r->size - 1) >> AS_PAGE_SHIFT) - (r->gpa >> AS_PAGE_SHIFT) + 1;
}

static bool region_logged(const struct as_region *r)
{
	return !(r->flags & (AS_REGION_READONLY | AS_REGION_NO_DIRTY_LOG));
}

/*
 * Set the bits of [gpa, gpa + len) (inside @r, len > 0).  Reading first keeps
 * the cache line shared when the pages are already dirty.
 */
static void mark_dirty(const struct as_region *r, uint64_t gpa, uint64_t len)
{
	uint64_t base = r->gpa >> AS_PAGE_SHIFT;
	uint64_t first = (gpa >> AS_PAGE_SHIFT) - base;
	uint64_t last = ((gpa + len - 1) >> AS_PAGE_SHIFT) - base;
	uint64_t w;

	for (w = first / 64; w <= last / 64; w++) {
		uint64_t lo = w == first / 64 ? first % 64 : 0;
		uint64_t hi = w == last / 64 ? last % 64 : 63;
		uint64_t mask = (~0ULL >> (63 - hi)) & (~0ULL << lo);

		if ((__atomic_load_n(&r->dirty[w], __ATOMIC_RELAXED) & mask) != mask)
			__atomic_fetch_or(&r->dirty[w], mask, __ATOMIC_RELAXED);
	}
}

static inline void maybe_mark_dirty(const struct as_region *r, uint64_t gpa, uint64_t len)
{
	if (unlikely(r->dirty != NULL) && len)
		mark_dirty(r, gpa, len);
}

/* ------------------------------------------------------------- lookups */

const struct as_region *as_find(const struct addr_space *as, uint64_t gpa)
{
	const struct as_table *t = table_get(as);
	int i = table_find(t, gpa);

	return i < 0 ? NULL : &t->r[i];
}

/* Host pointer of [gpa, gpa + len) inside one region of @t, or NULL. */
static uint8_t *table_map(const struct as_table *t, uint64_t gpa, uint64_t len,
			  bool write, const struct as_region **out)
{
	int i = table_find(t, gpa);
	const struct as_region *r;
	uint64_t off;

	if (i < 0 || len == 0)
		return NULL;
	r = &t->r[i];
	off = gpa - r->gpa;
	/* off < r->size, so r->size - off cannot underflow. */
	if (len > r->size - off || (write && (r->flags & AS_REGION_READONLY)))
		return NULL;
	*out = r;
	return r->host + off;
}

const void *as_map_ro(const struct addr_space *as, uint64_t gpa, size_t len)
{
	const struct as_region *r;

	return table_map(table_get(as), gpa, len, false, &r);
}

void *as_map_rw(const struct addr_space *as, uint64_t gpa, size_t len)
{
	const struct as_region *r;
	uint8_t *p = table_map(table_get(as), gpa, len, true, &r);

	if (p)
		maybe_mark_dirty(r, gpa, len);
	return p;
}

/*
 * Index of the region holding gpa when all of [gpa, gpa + len) is covered by
 * adjacent regions (writable ones for @write); -1 otherwise.
 */
static int table_check_range(const struct as_table *t, uint64_t gpa, uint64_t len,
			     bool write)
{
	uint64_t end, cur;
	int first, i;

	if (__builtin_add_overflow(gpa, len, &end))
		return -1;
	first = table_find(t, gpa);
	if (first < 0)
		return -1;
	for (i = first, cur = gpa; cur < end; i++) {
		const struct as_region *r = &t->r[i];

		if ((unsigned int)i >= t->nr || (i > first && r->gpa != cur) ||
		    (write && (r->flags & AS_REGION_READONLY)))
			return -1;
		cur = r->gpa + r->size;	/* no overflow: as_add refuses it */
	}
	return first;
}

int as_range_mapped(const struct addr_space *as, uint64_t gpa, uint64_t len)
{
	int ret;

	if (len == 0)
		return 1;
	as_read_lock();
	ret = table_check_range(table_get(as), gpa, len, false) >= 0;
	as_read_unlock();
	return ret;
}

/* ------------------------------------------------------------ accessors */

enum as_op { AS_OP_READ, AS_OP_WRITE, AS_OP_ZERO };

static void region_op(const struct as_region *r, uint64_t gpa, uint8_t *buf,
		      size_t len, enum as_op op)
{
	uint8_t *host = r->host + (gpa - r->gpa);

	if (op == AS_OP_READ) {
		memcpy(buf, host, len);
		return;
	}
	if (op == AS_OP_WRITE)
		memcpy(host, buf, len);
	else
		memset(host, 0, len);
	maybe_mark_dirty(r, gpa, len);
}

/* The range spans regions: check all of it first, so a failure touches nothing. */
static int access_spanning(const struct as_table *t, uint64_t gpa, uint8_t *buf,
			   size_t len, enum as_op op)
{
	int i = table_check_range(t, gpa, len, op != AS_OP_READ);

	if (i < 0)
		return -EFAULT;
	while (len) {
		const struct as_region *r = &t->r[i++];
		uint64_t off = gpa - r->gpa;
		size_t chunk = r->size - off < len ? (size_t)(r->size - off) : len;

		region_op(r, gpa, buf, chunk, op);
		if (buf)
			buf += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return 0;
}

static int as_access(const struct addr_space *as, uint64_t gpa, void *buf,
		     size_t len, enum as_op op)
{
	const struct as_table *t;
	int i, ret = 0;

	if (len == 0)
		return 0;
	as_read_lock();
	t = table_get(as);
	i = table_find(t, gpa);
	/* Fast path: one region holds the whole range. */
	if (likely(i >= 0) && len <= t->r[i].size - (gpa - t->r[i].gpa) &&
	    (op == AS_OP_READ || !(t->r[i].flags & AS_REGION_READONLY)))
		region_op(&t->r[i], gpa, buf, len, op);
	else
		ret = access_spanning(t, gpa, buf, len, op);
	as_read_unlock();
	return ret;
}

int as_copy_to(const struct addr_space *as, uint64_t gpa, const void *src, size_t len)
{
	return as_access(as, gpa, (void *)src, len, AS_OP_WRITE);
}

int as_copy_from(const struct addr_space *as, void *dst, uint64_t gpa, size_t len)
{
	return as_access(as, gpa, dst, len, AS_OP_READ);
}

int as_fill_zero(const struct addr_space *as, uint64_t gpa, size_t len)
{
	return as_access(as, gpa, NULL, len, AS_OP_ZERO);
}

int as_read_u8(const struct addr_space *as, uint64_t gpa, uint8_t *val)
{
	return as_copy_from(as, val, gpa, 1);
}

int as_write_u8(const struct addr_space *as, uint64_t gpa, uint8_t val)
{
	return as_copy_to(as, gpa, &val, 1);
}

#define AS_LE_ACCESSORS(bits)							\
int as_read_u##bits(const struct addr_space *as, uint64_t gpa, uint##bits##_t *val) \
{										\
	uint##bits##_t le;							\
	int ret = as_copy_from(as, &le, gpa, sizeof(le));			\
										\
	if (!ret)								\
		*val = le##bits##toh(le);					\
	return ret;								\
}										\
int as_write_u##bits(const struct addr_space *as, uint64_t gpa, uint##bits##_t val) \
{										\
	uint##bits##_t le = hto##le##bits(val);					\
										\
	return as_copy_to(as, gpa, &le, sizeof(le));				\
}
AS_LE_ACCESSORS(16)
AS_LE_ACCESSORS(32)
AS_LE_ACCESSORS(64)

void as_mark_dirty(const struct addr_space *as, uint64_t gpa, uint64_t len)
{
	const struct as_table *t;
	uint64_t end;
	unsigned int i;

	if (len == 0 || __builtin_add_overflow(gpa, len, &end))
		return;
	as_read_lock();
	t = table_get(as);
	for (i = table_first_ending_after(t, gpa); i < t->nr && t->r[i].gpa < end; i++) {
		const struct as_region *r = &t->r[i];
		uint64_t lo = gpa > r->gpa ? gpa : r->gpa;
		uint64_t hi = end < r->gpa + r->size ? end : r->gpa + r->size;

		if (lo < hi)
			maybe_mark_dirty(r, lo, hi - lo);
	}
	as_read_unlock();
}

/* ---------------------------------------------------------------- cache */

void as_cache_init(struct as_cache *c, const struct addr_space *as)
{
	memset(c, 0, sizeof(*c));
	c->as = as;
}

/* Make the cache hold the region of @gpa in @t; false when unmapped. */
static bool __attribute__((noinline)) cache_fill(struct as_cache *c,
						 const struct as_table *t, uint64_t gpa)
{
	int i = table_find(t, gpa);

	if (i < 0)
		return false;
	c->r = t->r[i];
	c->generation = t->generation;
	return true;
}

/* Host pointer of @gpa through the cache; *avail: bytes left in its region. */
static inline uint8_t *cache_lookup(struct as_cache *c, uint64_t gpa, bool write,
				    uint64_t *avail)
{
	const struct as_table *t = table_get(c->as);
	uint64_t off = gpa - c->r.gpa;

	/* gpa below the region wraps off around: refilled like any miss. */
	if (unlikely(c->generation != t->generation || off >= c->r.size)) {
		if (!cache_fill(c, t, gpa))
			return NULL;
		off = gpa - c->r.gpa;
	}
	if (write && (c->r.flags & AS_REGION_READONLY))
		return NULL;
	*avail = c->r.size - off;
	return c->r.host + off;
}

void *as_cache_translate(struct as_cache *c, uint64_t gpa, uint64_t len, bool write)
{
	uint64_t avail = 0;
	uint8_t *p = cache_lookup(c, gpa, write, &avail);

	if (!p || len == 0 || len > avail)
		return NULL;
	if (write)
		maybe_mark_dirty(&c->r, gpa, len);
	return p;
}

int as_cache_iov(struct as_cache *c, uint64_t gpa, uint64_t len, bool write,
		 struct iovec *iov, unsigned int max)
{
	uint64_t end, cur = gpa, left = len;
	unsigned int n = 0;

	if (__builtin_add_overflow(gpa, len, &end))
		return -EFAULT;
	while (left) {
		uint64_t avail = 0;
		uint8_t *p = cache_lookup(c, cur, write, &avail);
		uint64_t chunk = avail < left ? avail : left;

		if (!p)
			return -EFAULT;
		if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == p) {
			iov[n - 1].iov_len += chunk;	/* host-contiguous: merge */
		} else {
			if (n == max)
				return -E2BIG;
			iov[n++] = (struct iovec){ .iov_base = p, .iov_len = chunk };
		}
		cur += chunk;
		left -= chunk;
	}
	/* Only a translation that succeeded marks pages (the regions are cached). */
	for (cur = gpa; write && cur < end;) {
		uint64_t avail = 0;

		if (!cache_lookup(c, cur, true, &avail))
			break;	/* cannot happen: the same table was walked above */
		avail = avail < end - cur ? avail : end - cur;
		maybe_mark_dirty(&c->r, cur, avail);
		cur += avail;
	}
	return (int)n;
}

int as_translate_iov(const struct addr_space *as, uint64_t gpa, uint64_t len,
		     bool write, struct iovec *iov, unsigned int max)
{
	struct as_cache c;

	as_cache_init(&c, as);
	return as_cache_iov(&c, gpa, len, write, iov, max);
}

/* ------------------------------------------------------------- mappings */

int as_mapping_init(struct as_mapping *m, const struct addr_space *as, uint64_t gpa,
		    uint64_t len, bool write)
{
	uint64_t avail = 0;

	memset(m, 0, sizeof(*m));
	as_cache_init(&m->c, as);
	m->gpa = gpa;
	m->len = len;
	m->write = write;
	as_read_lock();
	m->host = cache_lookup(&m->c, gpa, write, &avail);
	if (m->host && (len == 0 || len > avail))
		m->host = NULL;
	as_read_unlock();
	return m->host ? 0 : -EFAULT;
}

void *as_mapping_get(struct as_mapping *m)
{
	uint64_t avail = 0;

	if (likely(table_get(m->c.as)->generation == m->c.generation))
		return m->host;
	m->host = cache_lookup(&m->c, m->gpa, m->write, &avail);
	if (m->host && m->len > avail)
		m->host = NULL;
	if (!m->host)
		m->c.generation = 0;	/* check again next time */
	return m->host;
}

void as_mapping_mark_dirty(struct as_mapping *m, uint64_t off, uint64_t len)
{
	if (!m->write || off > m->len || len > m->len - off)
		return;
	as_read_lock();
	if (as_mapping_get(m))
		maybe_mark_dirty(&m->c.r, m->gpa + off, len);
	as_read_unlock();
}

/* --------------------------------------------------------------- export */

int as_export(const struct addr_space *as, struct as_region_desc *out, unsigned int max)
{
	const struct as_table *t;
	unsigned int i;
	int ret;

	as_read_lock();
	t = table_get(as);
	ret = t->nr > max ? -E2BIG : (int)t->nr;
	for (i = 0; ret >= 0 && i < t->nr; i++)
		out[i] = (struct as_region_desc){
			.gpa = t->r[i].gpa, .size = t->r[i].size,
			.host_addr = (uint64_t)(uintptr_t)t->r[i].host,
			.fd_offset = t->r[i].fd_offset, .fd = t->r[i].fd,
			.flags = t->r[i].flags,
		};
	as_read_unlock();
	return ret;
}


/* -------------------------------------------------------------- updates */

void as_init(struct addr_space *as)
{
	struct as_table *t = (struct as_table *)as->inl[0];

	memset(as, 0, sizeof(*as));
	pthread_mutex_init(&as->lock, NULL);
	*t = (struct as_table){ .generation = 1, .nr = 0, .inline_idx = 0 };
	as->next_gen = 2;
	as->table = t;
}

/* A table for @n regions: the inline buffer not in use, or the heap. */
static struct as_table *table_alloc(struct addr_space *as, unsigned int n)
{
	struct as_table *t;

	if (n <= AS_INLINE_REGIONS) {
		unsigned int idx = as->table->inline_idx == 0 ? 1 : 0;

		t = (struct as_table *)as->inl[idx];
		t->inline_idx = idx;
	} else {
		t = malloc(AS_TABLE_BYTES(n));
		if (!t)
			return NULL;
		t->inline_idx = INLINE_NONE;
	}
	t->nr = n;
	return t;
}

static void table_free(struct as_table *t)
{
	if (t->inline_idx == INLINE_NONE)
		free(t);
}

/* Copy of the current table with room for @extra more regions (under lock). */
static struct as_table *table_clone(struct addr_space *as, unsigned int extra)
{
	struct as_table *t = table_alloc(as, as->table->nr + extra);

	if (t)
		memcpy(t->r, as->table->r, as->table->nr * sizeof(t->r[0]));
	else
		err_set(-ENOMEM, "out of memory for the region table");
	return t;
}

/*
 * Publish @t (what rcu_assign_pointer does) and wait until no reader can
 * still see the old table; then free it.  After this, memory that only the
 * old table referenced may be unmapped.
 */
static void table_publish(struct addr_space *as, struct as_table *t)
{
	struct as_table *old = as->table;

	t->generation = as->next_gen++;
	__atomic_store_n(&as->table, t, __ATOMIC_RELEASE);
	krcu_synchronize();
	table_free(old);
}

static uint64_t *bitmap_alloc(const struct as_region *r)
{
	return calloc((size_t)((region_pages(r) + 63) / 64), sizeof(uint64_t));
}

static int add_check(const struct addr_space *as, const struct as_region_spec *s,
		     uint64_t *end)
{
	if (s->size == 0)
		return err_set(-EINVAL, "memory region at 0x%llx has zero size",
			       (unsigned long long)s->gpa);
	if (__builtin_add_overflow(s->gpa, s->size, end))
		return err_set(-EINVAL, "memory region 0x%llx+0x%llx overflows",
			       (unsigned long long)s->gpa, (unsigned long long)s->size);
	if (s->flags & ~AS_REGION_FLAGS_ALL)
		return err_set(-EINVAL, "memory region 0x%llx: unknown flags 0x%x",
			       (unsigned long long)s->gpa, s->flags);
	if (s->backing && (s->fd_offset > s->backing->size ||
			   s->size > s->backing->size - s->fd_offset))
		return err_set(-EINVAL, "memory region 0x%llx+0x%llx lies outside its backing",
			       (unsigned long long)s->gpa, (unsigned long long)s->size);
	if (!s->backing && !s->host)
		return err_set(-EINVAL, "memory region 0x%llx has no memory",
			       (unsigned long long)s->gpa);
	if (s->slot != AS_NO_SLOT && ((s->gpa | s->size) & (AS_PAGE_SIZE - 1)))
		return err_set(-EINVAL, "memory region 0x%llx+0x%llx of slot %u is not page-aligned",
			       (unsigned long long)s->gpa, (unsigned long long)s->size, s->slot);
	if (as->table->nr >= AS_MAX_REGIONS)
		return err_set(-ENOSPC, "too many memory regions (max %d)", AS_MAX_REGIONS);
	return 0;
}

static int as_add_fd(struct addr_space *as, const struct as_region_spec *s, int fd)
{
	struct as_region r = {
		.gpa = s->gpa, .size = s->size, .backing = s->backing,
		.fd_offset = s->fd_offset, .fd = s->backing ? s->backing->fd : fd,
		.flags = s->flags, .slot = s->slot,
		.host = s->host ? s->host : (s->backing ? s->backing->host + s->fd_offset : NULL),
	};
	struct as_table *t;
	uint64_t end = 0;
	int pos, ret;

	pthread_mutex_lock(&as->lock);
	ret = add_check(as, s, &end);
	pos = ret ? 0 : interval_insert_pos(as->table->r, as->table->nr,
					    sizeof(as->table->r[0]), s->gpa, end);
	if (!ret && pos < 0) {
		const struct as_region *o = &as->table->r[-1 - pos];

		ret = err_set(-EEXIST, "memory region 0x%llx-0x%llx overlaps 0x%llx-0x%llx",
			      (unsigned long long)s->gpa, (unsigned long long)end,
			      (unsigned long long)o->gpa, (unsigned long long)(o->gpa + o->size));
	}
	if (!ret && as->logging && region_logged(&r) && !(r.dirty = bitmap_alloc(&r)))
		ret = err_set(-ENOMEM, "out of memory for a dirty bitmap");
	t = ret ? NULL : table_clone(as, 1);
	if (!ret && !t)
		ret = -ENOMEM;
	if (ret) {
		free(r.dirty);
		pthread_mutex_unlock(&as->lock);
		return ret;
	}
	memmove(&t->r[pos + 1], &t->r[pos], (t->nr - 1 - (unsigned int)pos) * sizeof(t->r[0]));
	if (r.backing)
		guest_ram_get(r.backing);
	t->r[pos] = r;
	table_publish(as, t);
	pthread_mutex_unlock(&as->lock);
	return 0;
}

int as_add(struct addr_space *as, const struct as_region_spec *spec)
{
	return as_add_fd(as, spec, -1);
}

int as_add_region(struct addr_space *as, uint64_t gpa, uint64_t size,
		  void *host, int fd, uint64_t fd_offset, uint32_t flags)
{
	struct as_region_spec s = {
		.gpa = gpa, .size = size, .host = host, .fd_offset = fd_offset,
		.flags = flags, .slot = AS_NO_SLOT,
	};

	return as_add_fd(as, &s, fd);
}

/* Index of the region starting exactly at @gpa (under lock), or an error. */
static int region_at(const struct addr_space *as, uint64_t gpa)
{
	int i = table_find(as->table, gpa);

	if (i < 0 || as->table->r[i].gpa != gpa)
		return err_set(-ENOENT, "no memory region starts at 0x%llx",
			       (unsigned long long)gpa);
	return i;
}

int as_remove(struct addr_space *as, uint64_t gpa)
{
	struct as_region gone;
	struct as_table *t;
	int i;

	pthread_mutex_lock(&as->lock);
	i = region_at(as, gpa);
	t = i < 0 ? NULL : table_alloc(as, as->table->nr - 1);
	if (i >= 0 && !t)
		i = err_set(-ENOMEM, "out of memory for the region table");
	if (i < 0) {
		pthread_mutex_unlock(&as->lock);
		return i;
	}
	gone = as->table->r[i];
	memcpy(t->r, as->table->r, (size_t)i * sizeof(t->r[0]));
	memcpy(&t->r[i], &as->table->r[i + 1], (t->nr - (unsigned int)i) * sizeof(t->r[0]));
	table_publish(as, t);
	/* No reader can reach the region any more: its memory may go. */
	free(gone.dirty);
	guest_ram_put(gone.backing);
	pthread_mutex_unlock(&as->lock);
	return 0;
}

/* Clone the table and return the writable copy of the region at @gpa (under lock). */
static struct as_table *clone_for_region(struct addr_space *as, uint64_t gpa, int *idx)
{
	struct as_table *t;
	int i = region_at(as, gpa);

	*idx = i;
	if (i < 0)
		return NULL;
	t = table_clone(as, 0);
	if (!t)
		*idx = -ENOMEM;
	return t;
}

int as_set_flags(struct addr_space *as, uint64_t gpa, uint32_t flags)
{
	struct as_table *t;
	struct as_region *r;
	int i;

	if (flags & ~AS_REGION_FLAGS_ALL)
		return err_set(-EINVAL, "unknown memory region flags 0x%x", flags);
	pthread_mutex_lock(&as->lock);
	t = clone_for_region(as, gpa, &i);
	if (!t) {
		pthread_mutex_unlock(&as->lock);
		return i;
	}
	r = &t->r[i];
	r->flags = flags;
	/* A region that becomes writable while logging must be logged from now on. */
	if (as->logging && region_logged(r) && !r->dirty && !(r->dirty = bitmap_alloc(r))) {
		table_free(t);
		pthread_mutex_unlock(&as->lock);
		return err_set(-ENOMEM, "out of memory for a dirty bitmap");
	}
	table_publish(as, t);
	pthread_mutex_unlock(&as->lock);
	return 0;
}

static int resize_check(const struct addr_space *as, int i, uint64_t size)
{
	const struct as_region *r = &as->table->r[i];
	uint64_t end;

	if (as->logging)
		return err_set(-EBUSY, "cannot resize memory region 0x%llx while dirty logging is on",
			       (unsigned long long)r->gpa);
	if (size == 0 || __builtin_add_overflow(r->gpa, size, &end))
		return err_set(-EINVAL, "cannot resize memory region 0x%llx to 0x%llx bytes",
			       (unsigned long long)r->gpa, (unsigned long long)size);
	if ((unsigned int)i + 1 < as->table->nr && end > r[1].gpa)
		return err_set(-EEXIST, "memory region 0x%llx resized to 0x%llx would overlap 0x%llx",
			       (unsigned long long)r->gpa, (unsigned long long)size,
			       (unsigned long long)r[1].gpa);
	if (r->backing ? size > r->backing->size - r->fd_offset : size > r->size)
		return err_set(-EINVAL, "memory region 0x%llx cannot grow to 0x%llx bytes: "
			       "its backing is smaller", (unsigned long long)r->gpa,
			       (unsigned long long)size);
	if (r->slot != AS_NO_SLOT && (size & (AS_PAGE_SIZE - 1)))
		return err_set(-EINVAL, "memory region 0x%llx: size 0x%llx is not page-aligned",
			       (unsigned long long)r->gpa, (unsigned long long)size);
	return 0;
}

int as_resize(struct addr_space *as, uint64_t gpa, uint64_t size)
{
	struct as_table *t = NULL;
	int i, ret;

	pthread_mutex_lock(&as->lock);
	i = region_at(as, gpa);
	ret = i < 0 ? i : resize_check(as, i, size);
	if (!ret) {
		t = table_clone(as, 0);
		ret = t ? 0 : -ENOMEM;
	}
	if (!ret) {
		t->r[i].size = size;
		table_publish(as, t);
	}
	pthread_mutex_unlock(&as->lock);
	return ret;
}

/* ------------------------------------------------------------ dirty log */

int as_dirty_log_start(struct addr_space *as)
{
	struct as_table *t;
	unsigned int i;

	pthread_mutex_lock(&as->lock);
	if (as->logging) {
		pthread_mutex_unlock(&as->lock);
		return 0;
	}
	t = table_clone(as, 0);
	for (i = 0; t && i < t->nr; i++) {
		if (region_logged(&t->r[i]) && !(t->r[i].dirty = bitmap_alloc(&t->r[i]))) {
			while (i--)
				free(t->r[i].dirty);
			table_free(t);
			t = NULL;
			err_set(-ENOMEM, "out of memory for dirty bitmaps");
		}
	}
	if (t) {
		table_publish(as, t);
		as->logging = true;
	}
	pthread_mutex_unlock(&as->lock);
	return t ? 0 : -ENOMEM;
}

void as_dirty_log_stop(struct addr_space *as)
{
	uint64_t *bitmaps[AS_INLINE_REGIONS], **old = bitmaps;
	struct as_table *t;
	unsigned int i, n;

	pthread_mutex_lock(&as->lock);
	n = as->table->nr;
	if (n > AS_INLINE_REGIONS)
		old = malloc(n * sizeof(*old));
	t = as->logging && old ? table_clone(as, 0) : NULL;
	if (t) {
		for (i = 0; i < n; i++) {
			old[i] = t->r[i].dirty;
			t->r[i].dirty = NULL;
		}
		table_publish(as, t);
		as->logging = false;
		for (i = 0; i < n; i++)
			free(old[i]);
	}
	if (old != bitmaps)
		free(old);
	pthread_mutex_unlock(&as->lock);
}

/* Report the runs of set bits of @bm (region @r) to @fn. */
static int report_runs(const struct as_region *r, const uint64_t *bm, uint64_t pages,
		       as_dirty_range_fn fn, void *opaque)
{
	uint64_t base = r->gpa >> AS_PAGE_SHIFT, start = 0, len = 0, w;
	int ret;

	for (w = 0; w < (pages + 63) / 64; w++) {
		uint64_t x = bm[w];

		while (x) {
			uint64_t bit = w * 64 + (uint64_t)__builtin_ctzll(x);

			x &= x - 1;
			if (bit >= pages)
				break;
			if (len && start + len == bit) {
				len++;
				continue;
			}
			if (len && (ret = fn(opaque, base + start, len)) < 0)
				return ret;
			start = bit;
			len = 1;
		}
	}
	return len ? fn(opaque, base + start, len) : 0;
}

/* Merge KVM's and the device bitmap of @r into @tmp (clearing the device's) and report. */
static int sync_region(const struct as_region *r, uint64_t *tmp, as_kvm_dirty_fn kvm_get,
		       void *kvm_opaque, as_dirty_range_fn fn, void *opaque)
{
	uint64_t pages = region_pages(r), words = (pages + 63) / 64, w;
	int ret = 0;

	memset(tmp, 0, words * sizeof(*tmp));
	if (kvm_get && r->slot != AS_NO_SLOT)
		ret = kvm_get(kvm_opaque, r->slot, tmp);
	if (ret < 0)
		return ret;
	for (w = 0; w < words; w++)
		if (__atomic_load_n(&r->dirty[w], __ATOMIC_RELAXED))
			tmp[w] |= __atomic_exchange_n(&r->dirty[w], 0, __ATOMIC_ACQ_REL);
	ret = report_runs(r, tmp, pages, fn, opaque);
	if (ret < 0)	/* keep what was taken: reported again next time, never lost */
		for (w = 0; w < words; w++)
			if (tmp[w])
				__atomic_fetch_or(&r->dirty[w], tmp[w], __ATOMIC_RELAXED);
	return ret;
}

int as_dirty_sync(struct addr_space *as, as_kvm_dirty_fn kvm_get, void *kvm_opaque,
		  as_dirty_range_fn fn, void *opaque)
{
	const struct as_table *t;
	uint64_t *tmp = NULL, words, max_words = 0;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&as->lock);
	t = as->table;
	if (!as->logging)
		ret = err_set(-EINVAL, "dirty logging is off");
	for (i = 0; !ret && i < t->nr; i++) {
		if (!t->r[i].dirty)
			continue;
		words = (region_pages(&t->r[i]) + 63) / 64;
		if (words > max_words) {
			free(tmp);
			tmp = malloc(words * sizeof(*tmp));
			max_words = words;
			if (!tmp)
				ret = err_set(-ENOMEM, "out of memory for a dirty bitmap");
		}
		if (!ret)
			ret = sync_region(&t->r[i], tmp, kvm_get, kvm_opaque, fn, opaque);
	}
	free(tmp);
	pthread_mutex_unlock(&as->lock);
	return ret;
}

void as_destroy(struct addr_space *as)
{
	struct as_table *t = as->table;
	unsigned int i;

	if (!t)
		return;
	for (i = 0; i < t->nr; i++) {
		free(t->r[i].dirty);
		guest_ram_put(t->r[i].backing);
	}
	table_free(t);
	pthread_mutex_destroy(&as->lock);
	as_init(as);
}
