// SPDX-License-Identifier: MIT
/*
 * memfile.c - write guest RAM to a snapshot's memory file, check one, and
 * overlay a diff (layout in memfile.h).
 *
 * Which pages hold data: the backing file's data extents (SEEK_DATA: a memfd
 * has holes where the guest never wrote) plus the pages resident in the
 * mapping (mincore: a restored VM's RAM is a private mapping of the previous
 * memory file, whose copied-on-write pages are not in any file).  Data pages
 * that are all zero are left as holes too.  Reading a page this way never
 * allocates memory for a hole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/le.h"
#include "core/vm.h"
#include "snapshot/crc64.h"
#include "snapshot/memfile.h"

#define PAGE		4096ULL
#define CHUNK		(2ULL << 20)	/* mincore granularity of the scan */
#define MEMFILE_MAGIC	"KITEMEM1"

struct writer {
	int fd;
	const uint8_t *ram;
	uint64_t run_off, run_len;	/* pending run of pages to write */
	uint64_t written;
	bool keep_zero;			/* diff: zero pages are data too */
};

static int flush_run(struct writer *w)
{
	uint64_t done = 0;

	while (done < w->run_len) {
		ssize_t n = pwrite(w->fd, w->ram + w->run_off + done, w->run_len - done,
				   (off_t)(w->run_off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(n < 0 ? -errno : -EIO, "writing the memory file: %s",
				       n < 0 ? strerror(errno) : "short write");
		done += (uint64_t)n;
	}
	w->written += w->run_len;
	w->run_len = 0;
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[PAGE];

	return !memcmp(p, zero, PAGE);
}

static int add_page(struct writer *w, uint64_t off)
{
	if (!w->keep_zero && page_is_zero(w->ram + off))
		return 0;
	if (w->run_len && w->run_off + w->run_len == off) {
		w->run_len += PAGE;
		return w->run_len >= (8ULL << 20) ? flush_run(w) : 0;
	}
	if (w->run_len) {
		int ret = flush_run(w);

		if (ret)
			return ret;
	}
	w->run_off = off;
	w->run_len = PAGE;
	return 0;
}

bool vm_memfile_in_data(int fd, uint64_t off, uint64_t *data_start, uint64_t *data_end)
{
	off_t d, h;

	if (off >= *data_start && off < *data_end)
		return true;
	if (off < *data_start)
		return false;
	d = lseek(fd, (off_t)off, SEEK_DATA);
	if (d < 0 && errno != ENXIO)
		return true;		/* the backing cannot tell: assume data */
	if (d < 0) {			/* ENXIO: no data after off */
		*data_start = *data_end = UINT64_MAX;
		return false;
	}
	h = lseek(fd, d, SEEK_HOLE);
	*data_start = (uint64_t)d;
	*data_end = h < 0 ? UINT64_MAX : (uint64_t)h;
	return off >= *data_start && off < *data_end;
}

static int write_full(struct vm *vm, struct writer *w)
{
	uint64_t size = vm->cfg.mem_size, off, i, ds = 0, de = 0;
	unsigned char vec[CHUNK / PAGE];
	int ret = 0;

	for (off = 0; !ret && off < size; off += CHUNK) {
		uint64_t len = size - off < CHUNK ? size - off : CHUNK;

		if (mincore((void *)(w->ram + off), len, vec))
			memset(vec, 0, sizeof(vec));
		for (i = 0; !ret && i < len / PAGE; i++)
			if ((vec[i] & 1) || vm_memfile_in_data(vm->ram_fd, off + i * PAGE, &ds, &de))
				ret = add_page(w, off + i * PAGE);
	}
	return ret ? ret : w->run_len ? flush_run(w) : 0;
}

/* Guest page number -> offset in the flat RAM image. */
static uint64_t pfn_to_off(const struct vm *vm, uint64_t pfn)
{
	uint64_t gpa = pfn * PAGE;

	return gpa < vm->ram_layout.low_end ? gpa : gpa - X86_MMIO_HOLE_END + vm->ram_layout.low_end;
}

struct diff_ctx {
	struct vm *vm;
	struct writer *w;
};

static int diff_run(void *opaque, uint64_t pfn, uint64_t npages)
{
	struct diff_ctx *c = opaque;
	uint64_t i;
	int ret = 0;

	for (i = 0; !ret && i < npages; i++) {
		uint64_t off = pfn_to_off(c->vm, pfn + i);

		if (off + PAGE <= c->vm->cfg.mem_size)
			ret = add_page(c->w, off);
	}
	return ret;
}

static int discard_run(void *opaque, uint64_t pfn, uint64_t npages)
{
	(void)opaque; (void)pfn; (void)npages;
	return 0;
}

static int write_trailer(int fd, uint64_t size, const uint8_t id[SNAP_MEM_ID_LEN], bool diff)
{
	uint8_t t[48] = { 0 };

	memcpy(t, MEMFILE_MAGIC, 8);
	le_put(t + 8, 1, 4);
	le_put(t + 12, diff ? 1 : 0, 4);
	memcpy(t + 16, id, SNAP_MEM_ID_LEN);
	le_put(t + 32, size, 8);
	le_put(t + 40, crc64_update(0, t, 40), 8);
	if (pwrite(fd, t, sizeof(t), (off_t)size) != (ssize_t)sizeof(t))
		return err_set(-errno ? -errno : -EIO, "writing the memory file trailer: %s",
			       strerror(errno));
	return 0;
}

static int sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, ret = 0;

	if (!copy)
		return err_set(-ENOMEM, "out of memory");
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd))
			ret = err_set(-errno, "fsync of the folder of %s: %s", path, strerror(errno));
		close(fd);
	}
	free(copy);
	return ret;
}

int vm_memfile_write(struct vm *vm, const char *path, bool diff)
{
	struct vm_memfile_chain *ch = vm->memfiles;
	uint64_t size = vm->cfg.mem_size;
	uint8_t id[SNAP_MEM_ID_LEN];
	char tmp[SNAP_PATH_MAX + 8];
	struct writer w = { .ram = vm->ram, .keep_zero = diff };
	char *abs;
	int ret;

	if (diff && (!ch || !ch->n || !ch->tracking))
		return err_set(-EINVAL, "a Diff snapshot needs a Full snapshot of this VM first "
			       "(dirty tracking starts with it)");
	if (diff && ch->n >= SNAP_MEM_CHAIN_MAX)
		return err_set(-EINVAL, "%u memory files in a chain is the limit: take a Full "
			       "snapshot", SNAP_MEM_CHAIN_MAX);
	if (!ch) {
		ch = vm->memfiles = calloc(1, sizeof(*ch));
		if (!ch)
			return err_set(-ENOMEM, "out of memory");
	}
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return err_set(-EIO, "getrandom failed");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w.fd < 0)
		return err_set(-errno, "cannot create memory file %s: %s", tmp, strerror(errno));
	if (ftruncate(w.fd, (off_t)(size + MEMFILE_TRAILER)))
		ret = err_set(-errno, "cannot size memory file %s: %s", tmp, strerror(errno));
	else if (diff)
		ret = vm_dirty_sync(vm, diff_run, &(struct diff_ctx){ vm, &w });
	else
		ret = write_full(vm, &w);
	if (!ret && w.run_len)
		ret = flush_run(&w);
	if (!ret)
		ret = write_trailer(w.fd, size, id, diff);
	if (!ret && fsync(w.fd))
		ret = err_set(-errno, "fsync of memory file %s: %s", tmp, strerror(errno));
	close(w.fd);
	if (!ret && rename(tmp, path))
		ret = err_set(-errno, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	if (!ret)
		ret = sync_dir_of(path);
	if (ret) {
		unlink(tmp);
		/* The dirty log was consumed: only a full snapshot is safe now. */
		if (diff)
			ch->n = 0;
		return ret;
	}
	if (!diff) {
		/* Diffs are relative to this snapshot: start (or clear) the log. */
		if (ch->tracking)
			ret = vm_dirty_sync(vm, discard_run, NULL);
		else if (!vm_dirty_log_start(vm, false))
			ch->tracking = true;
		ch->n = 0;
	}
	if (ret)
		return ret;
	/* Absolute: the snapshot names it, and a restore may run elsewhere. */
	abs = realpath(path, NULL);
	if (!abs)
		return err_set(-errno, "memory file %s: %s", path, strerror(errno));
	if (strlen(abs) >= SNAP_PATH_MAX) {
		free(abs);
		return err_set(-ENAMETOOLONG, "memory file path %s is too long", path);
	}
	snprintf(ch->path[ch->n], SNAP_PATH_MAX, "%s", abs);
	free(abs);
	memcpy(ch->id[ch->n], id, SNAP_MEM_ID_LEN);
	ch->n++;
	return 0;
}

int vm_memfile_check(const char *path, const uint8_t id[SNAP_MEM_ID_LEN], uint64_t size)
{
	uint8_t t[48];
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return err_set(-errno, "cannot open memory file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(-EINVAL, "memory file %s is not a regular file", path);
	}
	if ((uint64_t)st.st_size != size + MEMFILE_TRAILER) {
		close(fd);
		return err_set(-EINVAL, "memory file %s has %lld bytes, the snapshot needs %" PRIu64
			       " (RAM + trailer): truncated or another VM's", path,
			       (long long)st.st_size, size + MEMFILE_TRAILER);
	}
	n = pread(fd, t, sizeof(t), (off_t)size);
	close(fd);
	if (n != (ssize_t)sizeof(t) || memcmp(t, MEMFILE_MAGIC, 8) ||
	    le_get(t + 40, 8) != crc64_update(0, t, 40))
		return err_set(-EINVAL, "%s is not a kite memory file (bad trailer)", path);
	if ((uint32_t)le_get(t + 8, 4) != 1)
		return err_set(-EPROTONOSUPPORT, "memory file %s has version %u, this kite reads 1",
			       path, (uint32_t)le_get(t + 8, 4));
	if (le_get(t + 32, 8) != size || memcmp(t + 16, id, SNAP_MEM_ID_LEN))
		return err_set(-EINVAL, "memory file %s does not belong to this snapshot "
			       "(its id differs: it was written by another snapshot)", path);
	return 0;
}

int vm_memfile_overlay(uint8_t *ram, uint64_t size, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	off_t off = 0;

	if (fd < 0)
		return err_set(-errno, "cannot open memory file %s: %s", path, strerror(errno));
	while (!ret && (uint64_t)off < size) {
		off_t d = lseek(fd, off, SEEK_DATA), h;

		if (d < 0 || (uint64_t)d >= size)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0 || (uint64_t)h > size)
			h = (off_t)size;
		for (off = d; !ret && off < h;) {
			ssize_t n = pread(fd, ram + off, (size_t)(h - off), off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				ret = err_set(n < 0 ? -errno : -EIO, "reading memory file %s: %s",
					      path, n < 0 ? strerror(errno) : "short read");
			else
				off += n;
		}
	}
	close(fd);
	return ret;
}

void vm_memfile_free(struct vm *vm)
{
	free(vm->memfiles);
	vm->memfiles = NULL;
}

int vm_memfile_track_from(struct vm *vm, const struct vm_snapshot *snap)
{
	struct vm_memfile_chain *ch;
	unsigned int i;
	int ret = 0;

	if (!snap->nr_mem)
		return 0;	/* migrated: no memory file to be relative to */
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return err_set(-ENOMEM, "out of memory");
	for (i = 0; !ret && i < snap->nr_mem; i++) {
		char *abs = realpath(snap->mem_path[i], NULL);

		if (!abs || strlen(abs) >= SNAP_PATH_MAX)
			ret = err_set(abs ? -ENAMETOOLONG : -errno, "memory file %s: %s",
				      snap->mem_path[i], abs ? "path too long" : strerror(errno));
		else
			snprintf(ch->path[i], SNAP_PATH_MAX, "%s", abs);
		free(abs);
		memcpy(ch->id[i], snap->mem_id[i], SNAP_MEM_ID_LEN);
	}
	ch->n = snap->nr_mem;
	if (!ret)
		ret = vm_dirty_log_start(vm, false);
	if (ret) {
		free(ch);
		return ret;
	}
	ch->tracking = true;
	vm_memfile_free(vm);
	vm->memfiles = ch;
	return 0;
}

bool vm_memfile_drop_diff_base(struct vm *vm)
{
	struct vm_memfile_chain *ch = vm->memfiles;

	if (!ch)
		return false;
	ch->n = 0;
	return ch->tracking;
}
