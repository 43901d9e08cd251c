/* block/qcow2_create: a new, empty qcow2 version 3 image.
 *
 * Layout, in clusters: the header (with its extensions and the backing
 * file name) at 0, then the refcount table, the refcount blocks that
 * cover the image's own metadata, then the L1 table. Every cluster is
 * written in full (zeros included) before the file is synced, so a
 * reader never meets a table that is shorter than its header says. */
#include "block/qcow2_create.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"

#define CREATE_HEADER_LEN 112              /* v3 header + compression type, padded */
#define CREATE_EXT_BACKING_FMT 0xe2792acaU
#define CREATE_REFCOUNT_ORDER 4            /* 16-bit refcounts, as qemu-img makes */

struct create_layout {
	uint64_t cs;
	uint64_t l1_entries, l1_clusters;
	uint64_t rt_clusters, rb_clusters;
	uint64_t total;                    /* clusters in the new file */
};

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* The refcount blocks must cover themselves, the table and the L1 table:
 * iterate until the counts stop changing (two or three rounds). */
static int create_layout(uint64_t size, unsigned cluster_bits, struct create_layout *l)
{
	uint64_t per_l2, per_rb, prev = 0;

	l->cs = 1ULL << cluster_bits;
	per_l2 = l->cs / 8 * l->cs;
	l->l1_entries = div_up(size, per_l2);
	if (l->l1_entries > QCOW2_MAX_L1_ENTRIES)
		return -EFBIG;
	l->l1_clusters = div_up(l->l1_entries * 8, l->cs);
	per_rb = l->cs * 8 >> CREATE_REFCOUNT_ORDER;
	l->rb_clusters = 1;
	l->rt_clusters = 1;
	while (prev != l->rb_clusters + l->rt_clusters) {
		prev = l->rb_clusters + l->rt_clusters;
		l->total = 1 + l->rt_clusters + l->rb_clusters + l->l1_clusters;
		l->rb_clusters = div_up(l->total, per_rb);
		l->rt_clusters = div_up(l->rb_clusters * 8, l->cs);
	}
	l->total = 1 + l->rt_clusters + l->rb_clusters + l->l1_clusters;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* Header cluster: fixed fields, the backing-format extension, the end
 * marker, then the backing file name right after the extensions. */
static int create_header(uint8_t *c, const struct create_layout *l, uint64_t size,
			 unsigned cluster_bits, const char *backing, const char *fmt)
{
	size_t at = CREATE_HEADER_LEN, blen = backing ? strlen(backing) : 0;
	size_t flen = fmt ? strlen(fmt) : 0;

	memcpy(c, QCOW2_MAGIC, 4);
	put32(c + 4, 3);
	put32(c + 20, cluster_bits);
	put64(c + 24, size);
	put32(c + 36, (uint32_t)l->l1_entries);
	put64(c + 40, (1 + l->rt_clusters + l->rb_clusters) * l->cs);
	put64(c + 48, l->cs);
	put32(c + 56, (uint32_t)l->rt_clusters);
	put32(c + 96, CREATE_REFCOUNT_ORDER);
	put32(c + 100, CREATE_HEADER_LEN);
	if (at + 8 + (flen + 7) / 8 * 8 + 8 + blen > l->cs || blen > 1023)
		return -ENAMETOOLONG;
	if (flen) {
		put32(c + at, CREATE_EXT_BACKING_FMT);
		put32(c + at + 4, (uint32_t)flen);
		memcpy(c + at + 8, fmt, flen);
		at += 8 + (flen + 7) / 8 * 8;
	}
	at += 8; /* end of extensions: type 0, length 0 (already zero) */
	if (blen) {
		memcpy(c + at, backing, blen);
		put64(c + 8, at);
		put32(c + 16, (uint32_t)blen);
	}
	return 0;
}

/* Refcount table entries and the 16-bit refcounts of clusters 0..total-1. */
static void create_refcounts(uint8_t *buf, const struct create_layout *l)
{
	uint8_t *rt = buf + l->cs, *rb = rt + l->rt_clusters * l->cs;

	for (uint64_t i = 0; i < l->rb_clusters; i++)
		put64(rt + i * 8, (1 + l->rt_clusters + i) * l->cs);
	for (uint64_t k = 0; k < l->total; k++) {
		rb[k * 2] = 0;
		rb[k * 2 + 1] = 1;
	}
}

static int create_write(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

int qcow2_create(const char *path, uint64_t size, unsigned cluster_bits, const char *backing,
		 const char *backing_fmt)
{
	struct create_layout l;
	uint8_t *buf;
	int fd, err;

	if (!size || size % 512 || size > (1ULL << 62) || cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    cluster_bits > QCOW2_MAX_CLUSTER_BITS || (backing_fmt && !backing))
		return -EINVAL;
	err = create_layout(size, cluster_bits, &l);
	if (err)
		return err;
	buf = calloc(l.total, l.cs);
	if (!buf)
		return -ENOMEM;
	err = create_header(buf, &l, size, cluster_bits, backing && *backing ? backing : NULL,
			    backing_fmt && *backing_fmt ? backing_fmt : NULL);
	if (err) {
		free(buf);
		return err;
	}
	create_refcounts(buf, &l);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	err = create_write(fd, buf, l.total * l.cs);
	free(buf);
	close(fd);
	if (err)
		unlink(path);
	return err;
}
