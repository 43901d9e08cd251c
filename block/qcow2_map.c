/* block/qcow2_map: guest cluster -> L1 -> L2 -> what the cluster holds.
 * Every entry read from the file is checked (alignment, reserved bits,
 * inside the file) before it is used as an offset. */
#include "block/qcow2.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int qcow2_map_decode(struct qcow2_image *img, uint64_t entry, struct qcow2_map *m)
{
	uint64_t end = img->end_cluster << img->cluster_bits;

	memset(m, 0, sizeof(*m));
	m->entry = entry;
	if (entry & QCOW2_OFLAG_COMPRESSED) {
		unsigned x = 62 - (img->cluster_bits - 8);
		uint64_t nsect = (entry >> x) & ((1ULL << (img->cluster_bits - 8)) - 1);

		m->kind = QCOW2_COMPRESSED;
		m->host = entry & ((1ULL << x) - 1);
		m->csize = (nsect + 1) * 512 - (m->host & 511);
		if (m->host >= end || m->host < img->cluster_size) {
			log_error("qcow2 %s: compressed cluster at %#llx is outside the file", img->path,
				  (unsigned long long)m->host);
			return -EIO;
		}
		return 0;
	}
	if (entry & QCOW2_L2_RESERVED || (img->h.version == 2 && entry & QCOW2_OFLAG_ZERO)) {
		log_error("qcow2 %s: L2 entry %#llx has reserved bits set", img->path,
			  (unsigned long long)entry);
		return -EIO;
	}
	m->host = entry & QCOW2_OFFSET_MASK;
	m->copied = entry & QCOW2_OFLAG_COPIED;
	if (entry & QCOW2_OFLAG_ZERO)
		m->kind = QCOW2_ZERO;
	else
		m->kind = m->host ? QCOW2_NORMAL : QCOW2_UNALLOCATED;
	if (m->host && (m->host & (img->cluster_size - 1) || m->host >= end || m->host < img->cluster_size)) {
		log_error("qcow2 %s: L2 entry %#llx points to an unaligned or out-of-file cluster",
			  img->path, (unsigned long long)entry);
		return -EIO;
	}
	return 0;
}

/* A new, zeroed L2 table for L1 index i. Synchronous and ordered: the
 * refcount and the zeroed table are durable before L1 points at them. */
static int map_l2_alloc(struct qcow2_image *img, uint64_t i, uint64_t **table)
{
	uint64_t host, be;
	uint64_t *t;
	int err;

	err = qcow2_alloc_clusters(img, 1, true, &host);
	if (err)
		return err;
	t = qcow2_cache_insert(&img->cache, host);
	memset(t, 0, img->cluster_size);
	err = qcow2_pwrite(img, t, img->cluster_size, host);
	if (!err)
		err = qcow2_sync(img);
	be = htobe64(host | QCOW2_OFLAG_COPIED);
	if (!err)
		err = qcow2_pwrite(img, &be, 8, img->h.l1_offset + i * 8);
	if (err) {
		qcow2_cache_drop(&img->cache, host);
		return err; /* the cluster leaks: never a dangling reference */
	}
	img->l1[i] = host | QCOW2_OFLAG_COPIED;
	*table = t;
	return 0;
}

int qcow2_map_l2(struct qcow2_image *img, uint64_t gc, bool alloc, uint64_t **table)
{
	uint64_t i = gc >> img->l2_bits, off;
	uint64_t *t;
	int err;

	*table = NULL;
	if (i >= img->h.l1_size)
		return -EIO;
	off = img->l1[i] & QCOW2_OFFSET_MASK;
	if (!off)
		return alloc ? map_l2_alloc(img, i, table) : 0;
	t = qcow2_cache_find(&img->cache, off);
	if (!t) {
		/* Synchronous on a miss in this first version: one pread of
		 * one cluster, rare once the working set is cached. */
		t = qcow2_cache_insert(&img->cache, off);
		err = qcow2_pread(img, t, img->cluster_size, off);
		if (err) {
			qcow2_cache_drop(&img->cache, off);
			log_error("qcow2 %s: cannot read L2 table at %#llx: %d", img->path,
				  (unsigned long long)off, err);
			return err;
		}
		for (uint64_t k = 0; k < (1ULL << img->l2_bits); k++)
			t[k] = be64toh(t[k]);
	}
	*table = t;
	return 0;
}

int qcow2_map_get(struct qcow2_image *img, uint64_t gc, struct qcow2_map *m)
{
	uint64_t *t;
	int err = qcow2_map_l2(img, gc, false, &t);

	if (err)
		return err;
	if (!t) {
		memset(m, 0, sizeof(*m));
		m->kind = QCOW2_UNALLOCATED;
		return 0;
	}
	return qcow2_map_decode(img, t[gc & ((1ULL << img->l2_bits) - 1)], m);
}
