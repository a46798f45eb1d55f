// SPDX-License-Identifier: MIT
#include "core/guest_ram.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SMALL_PAGE	4096ULL
#define HUGE_PAGE	(2ULL << 20)

int guest_ram_parse_backing(const char *arg, struct guest_ram_backing *out)
{
	*out = (struct guest_ram_backing){ .kind = GUEST_RAM_MEMFD };
	if (!strcmp(arg, "memfd"))
		return 0;
	if (!strcmp(arg, "hugetlbfs")) {
		out->kind = GUEST_RAM_HUGETLBFS;
		return 0;
	}
	if (!strcmp(arg, "thp")) {
		out->kind = GUEST_RAM_THP;
		return 0;
	}
	if (!strncmp(arg, "file:", 5) && arg[5]) {
		out->kind = GUEST_RAM_FILE;
		out->path = arg + 5;
		return 0;
	}
	return err_set(-EINVAL, "unknown memory backing '%s' (expected memfd, hugetlbfs, thp or file:PATH)",
		       arg);
}

const char *guest_ram_kind_name(enum guest_ram_kind kind)
{
	switch (kind) {
	case GUEST_RAM_MEMFD: return "memfd";
	case GUEST_RAM_HUGETLBFS: return "hugetlbfs";
	case GUEST_RAM_THP: return "thp";
	case GUEST_RAM_FILE: return "file";
	case GUEST_RAM_SNAPSHOT: return "snapshot";
	}
	return "?";
}

/* HugePages_Free from /proc/meminfo, or -1. */
static long hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * THP on a memfd only happens when shmem THP allows madvise: refuse clearly
 * rather than silently running on 4 KiB pages.
 */
static int check_shmem_thp(void)
{
	const char *path = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
	FILE *f = fopen(path, "re");
	char line[128] = "";

	if (!f)
		return err_set(-ENOTSUP, "transparent huge pages are not available (no %s)", path);
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	if (strstr(line, "[never]") || strstr(line, "[deny]"))
		return err_set(-ENOTSUP, "transparent huge pages for shared memory are off (%s: %s): "
			       "'echo advise > %s' or use --mem-backing memfd", path, line, path);
	return 0;
}

static int open_backing_fd(const struct guest_ram_backing *b, uint64_t size,
			   const char *name)
{
	unsigned int mfd = MFD_CLOEXEC;
	struct stat st;
	int fd;

	if (b->kind == GUEST_RAM_HUGETLBFS)
		mfd |= MFD_HUGETLB;
	if (b->kind == GUEST_RAM_SNAPSHOT)
		fd = open(b->path, O_RDONLY | O_CLOEXEC);
	else if (b->kind != GUEST_RAM_FILE)
		fd = memfd_create(name, mfd);
	else
		fd = open(b->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (b->kind == GUEST_RAM_FILE || b->kind == GUEST_RAM_SNAPSHOT)
			return err_set(-errno, "cannot open memory file '%s': %s", b->path,
				       strerror(errno));
		return err_set(-errno, "memfd_create(%s): %s%s", guest_ram_kind_name(b->kind),
			       strerror(errno), b->kind == GUEST_RAM_HUGETLBFS ?
			       " (is hugetlbfs supported by this kernel?)" : "");
	}
	if (b->kind == GUEST_RAM_SNAPSHOT) {
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < size) {
			close(fd);
			return err_set(-EINVAL, "memory file '%s' is not a regular file of at least "
				       "%llu bytes", b->path, (unsigned long long)size);
		}
		return fd;
	}
	if (b->kind == GUEST_RAM_FILE) {
		if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			close(fd);
			return err_set(-EINVAL, "memory file '%s' is not a regular file", b->path);
		}
		if ((uint64_t)st.st_size >= size)
			return fd;	/* a snapshot: keep its content */
	}
	if (ftruncate(fd, (off_t)size)) {
		int e = errno;

		close(fd);
		return err_set(-e, "cannot size guest RAM (%s) to %llu MiB: %s",
			       guest_ram_kind_name(b->kind),
			       (unsigned long long)(size >> 20), strerror(e));
	}
	return fd;
}

/*
 * Map @fd at an address aligned to @align (so that THP and hugetlbfs can use
 * huge pages from the first byte): reserve size + align, map the file over
 * the aligned part, give back the rest.
 */
static void *map_aligned(int fd, uint64_t size, uint64_t align, int share, int flags)
{
	uint8_t *res, *p, *aligned;
	uint64_t pad = align > SMALL_PAGE ? align : 0;

	res = mmap(NULL, size + pad, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	aligned = (uint8_t *)(((uintptr_t)res + pad) & ~(uintptr_t)(pad ? pad - 1 : 0));
	if (!pad)
		aligned = res;
	p = mmap(aligned, size, PROT_READ | PROT_WRITE, share | MAP_FIXED | flags, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(res, size + pad);
		errno = e;
		return MAP_FAILED;
	}
	if (aligned > res)
		munmap(res, (size_t)(aligned - res));
	if (res + size + pad > aligned + size)
		munmap(aligned + size, (size_t)(res + size + pad - (aligned + size)));
	return p;
}

static int map_error(const struct guest_ram_backing *b, uint64_t size, int e)
{
	if (b->kind == GUEST_RAM_HUGETLBFS) {
		long free_pages = hugepages_free();

		return err_set(-e, "cannot reserve %llu huge pages of 2 MiB for guest RAM "
			       "(%ld free): reserve them with "
			       "'echo %llu > /proc/sys/vm/nr_hugepages' or use --mem-backing memfd",
			       (unsigned long long)(size / HUGE_PAGE), free_pages,
			       (unsigned long long)(size / HUGE_PAGE));
	}
	return err_set(-e, "cannot map %llu MiB of guest RAM (%s): %s",
		       (unsigned long long)(size >> 20), guest_ram_kind_name(b->kind),
		       strerror(e));
}

static int check_size(const struct guest_ram_backing *b, uint64_t size)
{
	uint64_t unit = b->kind == GUEST_RAM_HUGETLBFS ? HUGE_PAGE : SMALL_PAGE;

	if (size == 0 || size % unit || size > (uint64_t)INT64_MAX)
		return err_set(-EINVAL, "guest RAM size %llu is not a non-zero multiple of %llu KiB (%s)",
			       (unsigned long long)size, (unsigned long long)(unit >> 10),
			       guest_ram_kind_name(b->kind));
	if ((b->kind == GUEST_RAM_FILE || b->kind == GUEST_RAM_SNAPSHOT) && (!b->path || !b->path[0]))
		return err_set(-EINVAL, "file memory backing needs a path");
	return 0;
}

int guest_ram_create(const struct guest_ram_backing *b, uint64_t size,
		     const char *name, struct guest_ram_block **out)
{
	uint64_t align = b->kind == GUEST_RAM_HUGETLBFS || b->kind == GUEST_RAM_THP ?
			 HUGE_PAGE : SMALL_PAGE;
	struct guest_ram_block *g;
	int ret = check_size(b, size);
	void *p;
	int fd;

	*out = NULL;
	if (!ret && b->kind == GUEST_RAM_THP)
		ret = check_shmem_thp();
	if (ret)
		return ret;
	fd = open_backing_fd(b, size, name);
	if (fd < 0)
		return fd;
	/* hugetlbfs: no MAP_NORESERVE, so that a shortage fails here, not at a guest fault. */
	p = map_aligned(fd, size, align, b->kind == GUEST_RAM_SNAPSHOT ? MAP_PRIVATE : MAP_SHARED,
			b->kind == GUEST_RAM_HUGETLBFS ? 0 : MAP_NORESERVE);
	if (p == MAP_FAILED) {
		ret = map_error(b, size, errno);
		close(fd);
		return ret;
	}
	if (b->kind == GUEST_RAM_THP && madvise(p, size, MADV_HUGEPAGE)) {
		ret = err_set(-errno, "madvise(MADV_HUGEPAGE) on guest RAM: %s", strerror(errno));
		munmap(p, size);
		close(fd);
		return ret;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		munmap(p, size);
		close(fd);
		return err_set(-ENOMEM, "out of memory");
	}
	*g = (struct guest_ram_block){ .host = p, .size = size, .fd = fd, .kind = b->kind,
				 .page_size = align == HUGE_PAGE && b->kind == GUEST_RAM_HUGETLBFS ?
					      HUGE_PAGE : SMALL_PAGE,
				 .refs = 1 };
	*out = g;
	return 0;
}

struct guest_ram_block *guest_ram_get(struct guest_ram_block *g)
{
	__atomic_fetch_add(&g->refs, 1, __ATOMIC_RELAXED);
	return g;
}

void guest_ram_put(struct guest_ram_block *g)
{
	if (!g || __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL))
		return;
	munmap(g->host, g->size);
	close(g->fd);
	free(g);
}
