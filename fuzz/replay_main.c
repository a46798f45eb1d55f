// SPDX-License-Identifier: MIT
/*
 * replay_main.c - a standalone driver for a libFuzzer target: runs
 * LLVMFuzzerTestOneInput() once on every file named on the command line or
 * found (not recursively) in a directory named there; without arguments, on
 * the target's seed corpus (FUZZ_CORPUS_DIR, compiled in).  Built with the
 * ordinary compiler and sanitizers, so `make test` replays every corpus in
 * its plain and ASan/UBSan passes; a crash is the sanitizer's report.
 *
 * Prints one line for tests/run.sh: "ok NAME: N inputs", or "not ok NAME:
 * why" when an input cannot be read or there is none.  Each input's path
 * goes to stderr before it runs, so the last one names a crashing input.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_NAME
#define FUZZ_NAME "fuzz-replay"
#endif

/* A replay file this large is not a seed: refuse it rather than load it. */
#define REPLAY_FILE_MAX	(16 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned int nr_inputs;

/* Run the target on the file @path: 0, or -errno if it cannot be read. */
static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;
	int ret = 0;

	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) || st.st_size > REPLAY_FILE_MAX) {
		fclose(f);
		return -EFBIG;
	}
	/* Exactly the file's size, so that a read past the input is caught. */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size)
		ret = -EIO;
	fclose(f);
	if (!ret) {
		fprintf(stderr, "# %s\n", path);
		LLVMFuzzerTestOneInput(buf, n);
		nr_inputs++;
	}
	free(buf);
	return ret;
}

static int skip_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every regular file of @dir, in name order. */
static int replay_dir(const char *dir)
{
	struct dirent **ents;
	char path[4096];
	int i, n, ret = 0;

	n = scandir(dir, &ents, skip_entry, alphasort);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (!ret && !stat(path, &st) && S_ISREG(st.st_mode))
			ret = replay_file(path);
		free(ents[i]);
	}
	free(ents);
	return ret;
}

static int replay_path(const char *path)
{
	struct stat st;
	int ret;

	if (stat(path, &st))
		ret = -errno;
	else
		ret = S_ISDIR(st.st_mode) ? replay_dir(path) : replay_file(path);
	if (ret)
		printf("not ok %s: %s: %s\n", FUZZ_NAME, path, strerror(-ret));
	return ret;
}

int main(int argc, char **argv)
{
	static char default_dir[] = FUZZ_CORPUS_DIR;
	char *dflt[] = { default_dir, NULL };
	char **paths = argc > 1 ? argv + 1 : dflt;
	int i;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 0; paths[i]; i++)
		if (replay_path(paths[i]))
			return 1;
	if (!nr_inputs) {
		printf("not ok %s: no inputs in %s\n", FUZZ_NAME, paths[0]);
		return 1;
	}
	printf("ok %s: %u inputs\n", FUZZ_NAME, nr_inputs);
	return 0;
}
