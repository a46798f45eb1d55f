// SPDX-License-Identifier: MIT
/*
 * format_file.c - snapshot images to and from files.  Writes go through a
 * temporary name and a rename, so a reader never finds half a file under the
 * final name, whatever stops the writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/format.h"

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int snap_image_write_fd(const struct snap_image *img, int fd)
{
	uint8_t *buf;
	size_t len;
	int ret;

	ret = snap_image_serialize(img, &buf, &len);
	if (ret)
		return ret;
	ret = write_all(fd, buf, len);
	free(buf);
	if (ret)
		return err_set(ret, "writing snapshot (%zu bytes): %s", len, strerror(-ret));
	return 0;
}

/*
 * Make the rename itself durable.  Best effort: the file's bytes are already
 * synced, and if the new name is lost in a crash the old file (or none) is
 * found, never a partial one; some file systems refuse fsync on a folder.
 */
static void sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash) {
		dir = strdup(".");
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);

		dir = strndup(path, n);
	}
	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/* Write, sync and close @tmp; on failure the caller removes it. */
static int write_tmp(const struct snap_image *img, const char *tmp)
{
	int fd, ret;

	/* 0600: a snapshot holds guest state, which may include secrets. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(-errno, "creating %s: %s", tmp, strerror(errno));
	ret = snap_image_write_fd(img, fd);
	if (!ret && fsync(fd))
		ret = err_set(-errno, "syncing %s: %s", tmp, strerror(errno));
	if (close(fd) && !ret)
		ret = err_set(-errno, "closing %s: %s", tmp, strerror(errno));
	return ret;
}

int snap_image_write_path(const struct snap_image *img, const char *path)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + sizeof(".tmp"));
	int ret;

	if (!tmp)
		return err_set(-ENOMEM, "%s: out of memory", path);
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp", sizeof(".tmp"));
	ret = write_tmp(img, tmp);
	if (!ret && rename(tmp, path))
		ret = err_set(-errno, "renaming %s to %s: %s", tmp, path, strerror(errno));
	if (ret) {
		unlink(tmp);
		free(tmp);
		return err_prefix(ret, "%s", path);
	}
	free(tmp);
	sync_parent(path);
	return 0;
}

/* Read up to @size bytes of @fd into @buf; the count read, or -errno. */
static ssize_t read_all(int fd, uint8_t *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int read_fd(int fd, uint8_t **out, size_t *out_len)
{
	struct stat st;
	uint8_t *buf = NULL;
	ssize_t n;

	if (fstat(fd, &st))
		return err_set(-errno, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(-EINVAL, "not a regular file");
	if ((unsigned long long)st.st_size > SNAP_FILE_MAX)
		return err_set(-EFBIG, "snapshot of %lld bytes is over the limit of %llu",
			       (long long)st.st_size, SNAP_FILE_MAX);
	if (st.st_size) {
		buf = malloc((size_t)st.st_size);
		if (!buf)
			return err_set(-ENOMEM, "out of memory for %lld bytes",
				       (long long)st.st_size);
	}
	/* A file that shrank meanwhile is parsed as what was read: truncated. */
	n = read_all(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		free(buf);
		return err_set((int)n, "reading: %s", strerror((int)-n));
	}
	*out = buf;
	*out_len = (size_t)n;
	return 0;
}

int snap_image_read_path(struct snap_image *img, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, ret;

	memset(img, 0, sizeof(*img));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(-errno, "%s: %s", path, strerror(errno));
	ret = read_fd(fd, &buf, &len);
	close(fd);
	if (!ret)
		ret = snap_image_parse_owned(img, buf, len);
	return ret ? err_prefix(ret, "%s", path) : 0;
}
