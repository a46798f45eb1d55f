/* SPDX-License-Identifier: MIT */
/*
 * memfile.h - a snapshot's memory file: guest RAM as one flat, sparse image
 * (RAM offset = below-the-hole bytes, then above), then a 4 KiB trailer:
 *
 *   0   u8[8]  "KITEMEM1"          8   u32 version (1)     12  u32 flags (1: diff)
 *   16  u8[16] id (random)         32  u64 RAM size        40  u64 CRC-64 of bytes 0..39
 *
 * The id ties the file to the snapshot that names it: a restore refuses a
 * memory file of another snapshot, a truncated one, or one of another size.
 */
#ifndef KITE_SNAPSHOT_MEMFILE_H
#define KITE_SNAPSHOT_MEMFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "snapshot/vm_snapshot.h"

#define MEMFILE_TRAILER	4096

/* The memory files behind the VM's last snapshot (base, then diffs). */
struct vm_memfile_chain {
	unsigned int n;			/* 0: no snapshot yet (or a diff failed) */
	bool tracking;			/* dirty logging runs since the base */
	char path[SNAP_MEM_CHAIN_MAX][SNAP_PATH_MAX];
	uint8_t id[SNAP_MEM_CHAIN_MAX][SNAP_MEM_ID_LEN];
};

struct vm;

/*
 * Write guest RAM (VM paused) to @path: everything (full), or with @diff
 * only the pages written since the previous snapshot of this VM.  Updates
 * vm->memfiles.  The file appears under @path complete or not at all.
 */
int vm_memfile_write(struct vm *vm, const char *path, bool diff) KITE_WUR;
/* Is @path a memory file with @id for @size bytes of RAM? */
int vm_memfile_check(const char *path, const uint8_t id[SNAP_MEM_ID_LEN], uint64_t size) KITE_WUR;
/* Copy a diff file's pages (its data extents) over @ram. */
int vm_memfile_overlay(uint8_t *ram, uint64_t size, const char *path) KITE_WUR;
void vm_memfile_free(struct vm *vm);
/*
 * Migration reads (and clears) the dirty log: a later Diff snapshot would
 * miss pages, so one needs a Full snapshot first.  Returns whether dirty
 * logging was already on for snapshots (then it stays on after migration).
 */
bool vm_memfile_drop_diff_base(struct vm *vm);
/*
 * Is [off, off + 4096) inside a data extent of @fd (guest RAM's backing)?
 * *@data_start / *@data_end cache the extent found last (start both at 0):
 * one SEEK_DATA/SEEK_HOLE per extent, called with increasing @off.  With
 * mincore() on the mapping (private copies of a restored VM's pages are in
 * no file) it tells the pages that may hold data without touching a hole.
 */
bool vm_memfile_in_data(int fd, uint64_t off, uint64_t *data_start, uint64_t *data_end);
/*
 * A VM restored with diff snapshots on (--diff-snapshots, "enable_diff_snapshots"):
 * dirty tracking starts now and the restored memory files are the chain a
 * Diff snapshot applies on top of, so the first snapshot may be a Diff.
 */
int vm_memfile_track_from(struct vm *vm, const struct vm_snapshot *snap) KITE_WUR;

#endif
