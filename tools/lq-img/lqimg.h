/* tools/lq-img: the image tool (create, info, map, check, convert,
 * resize), qemu-img's counterpart for limiquantix. Each command is one
 * file; they share the helpers below (lqimg_util.c).
 *
 * Exit codes: 0 success, 1 an error (with a message on stderr naming
 * the file and what to do); check also returns 2 (corruption) and
 * 3 (leaked clusters only), as qemu-img check does. */
#ifndef LQ_TOOLS_LQIMG_H
#define LQ_TOOLS_LQIMG_H

#include <stdbool.h>
#include <stdint.h>

#include "block/qcow2.h"

int lqimg_create(int argc, char **argv);
int lqimg_info(int argc, char **argv);
int lqimg_map(int argc, char **argv);
int lqimg_check(int argc, char **argv);
int lqimg_convert(int argc, char **argv);
int lqimg_resize(int argc, char **argv);

/* "-o cluster_size=N" (a power of two, 512 to 2M) into log2 of N;
 * -EINVAL otherwise. */
int lqimg_parse_cluster_opt(const char *opt, unsigned *bits);
/* "10G", "512M", "4096": bytes; -EINVAL on anything else or overflow. */
int lqimg_parse_size(const char *s, uint64_t *out);
/* "raw" / "qcow2" into enum blk_format; -EINVAL otherwise. */
int lqimg_parse_format(const char *s, enum blk_format *out);
/* What the file is, from its first bytes: BLK_FORMAT_QCOW2 or RAW. */
int lqimg_probe(const char *path, enum blk_format *out);
/* Opens path (qcow2 with its whole backing chain, or raw) read-only for
 * metadata walks; prints the reason on failure. */
int lqimg_open(const char *path, bool writable, struct qcow2_image **out);
/* name resolved against the directory of image (as qemu does for a
 * relative backing file name). */
int lqimg_backing_path(const char *image, const char *name, char *out, size_t len);
/* From guest offset off of an opened chain: how many bytes (*len, at
 * least one) are of one kind, and whether they read as zeros without
 * reading them (unallocated everywhere, zero clusters, holes). */
int lqimg_map_zero(struct qcow2_image *top, uint64_t off, uint64_t *len, bool *zero);
/* Bytes the file occupies on disk (st_blocks). */
uint64_t lqimg_disk_usage(const char *path);

#endif
