/* block/qcow2_refcount: the refcount table and blocks of a writable
 * image. The table is read at open and grown there, once, to cover every
 * cluster the image can use (qcow2_refcount_reserve), so at run time the
 * only growth is a new refcount block, written and synced before the
 * table entry that points to it. Blocks stay in memory once loaded
 * (2 bytes per cluster of the file with the usual 16-bit refcounts). */
#include "block/qcow2.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static unsigned rc_width(const struct qcow2_image *img)
{
	return 1u << img->h.refcount_order; /* bits */
}

static uint64_t rc_read(const struct qcow2_image *img, const uint8_t *b, uint64_t k)
{
	unsigned w = rc_width(img);
	uint64_t v = 0;

	if (w < 8)
		return (b[k * w / 8] >> (k * w % 8)) & ((1u << w) - 1);
	for (unsigned i = 0; i < w / 8; i++)
		v = v << 8 | b[k * (w / 8) + i];
	return v;
}

static void rc_write(const struct qcow2_image *img, uint8_t *b, uint64_t k, uint64_t v)
{
	unsigned w = rc_width(img);

	if (w < 8) {
		unsigned sh = k * w % 8;

		b[k * w / 8] = (uint8_t)((b[k * w / 8] & ~(((1u << w) - 1) << sh)) | v << sh);
		return;
	}
	for (unsigned i = w / 8; i-- > 0; v >>= 8)
		b[k * (w / 8) + i] = (uint8_t)v;
}

int qcow2_refcount_load(struct qcow2_image *img)
{
	uint64_t n = (uint64_t)img->h.reftable_clusters * img->cluster_size / 8;
	uint64_t end = img->end_cluster << img->cluster_bits;
	int err;

	img->rb_bits = img->cluster_bits + 3 - img->h.refcount_order;
	img->reftable = malloc(n * 8);
	img->refblocks = calloc(n, sizeof(*img->refblocks));
	if (!img->reftable || !img->refblocks)
		return -ENOMEM;
	img->reftable_entries = (uint32_t)n;
	err = qcow2_pread(img, img->reftable, n * 8, img->h.reftable_offset);
	if (err)
		return err;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = be64toh(img->reftable[i]);

		img->reftable[i] = e;
		if (e & ((img->cluster_size - 1) | ~QCOW2_OFFSET_MASK) || (e && (e >= end || e < img->cluster_size))) {
			log_error("qcow2 %s: refcount table entry %llu (%#llx) is unaligned or outside the file",
				  img->path, (unsigned long long)i, (unsigned long long)e);
			return -EINVAL;
		}
	}
	return 0;
}

void qcow2_refcount_free(struct qcow2_image *img)
{
	if (img->refblocks)
		for (uint32_t i = 0; i < img->reftable_entries; i++)
			free(img->refblocks[i]);
	free(img->refblocks);
	free(img->reftable);
	img->refblocks = NULL;
	img->reftable = NULL;
}

static int rc_block(struct qcow2_image *img, uint64_t i, uint8_t **out)
{
	uint8_t *b = img->refblocks[i];
	int err;

	if (!b) {
		b = malloc(img->cluster_size);
		if (!b)
			return -ENOMEM;
		err = qcow2_pread(img, b, img->cluster_size, img->reftable[i]);
		if (err) {
			free(b);
			return err;
		}
		img->refblocks[i] = b;
	}
	*out = b;
	return 0;
}

int qcow2_refcount_get(struct qcow2_image *img, uint64_t cluster, uint64_t *rc)
{
	uint64_t i = cluster >> img->rb_bits;
	uint8_t *b;
	int err;

	*rc = 0;
	if (i >= img->reftable_entries || !img->reftable[i])
		return 0;
	err = rc_block(img, i, &b);
	if (!err)
		*rc = rc_read(img, b, cluster & ((1ULL << img->rb_bits) - 1));
	return err;
}

/* A new refcount block for table index i, placed at the end of the
 * file: written and synced before the table entry names it. */
static int rc_block_new(struct qcow2_image *img, uint64_t i)
{
	uint64_t at = img->end_cluster++, be;
	uint8_t *b = calloc(1, img->cluster_size);
	int err = 0;

	if (!b)
		return -ENOMEM;
	img->refblocks[i] = b;
	img->reftable[i] = at << img->cluster_bits;
	if (at >> img->rb_bits == i)
		rc_write(img, b, at & ((1ULL << img->rb_bits) - 1), 1); /* covers itself */
	else
		err = qcow2_refcount_set(img, at, 1, true);
	if (!err)
		err = qcow2_pwrite(img, b, img->cluster_size, at << img->cluster_bits);
	/* During growth at open the new table is not on disk yet: its
	 * entries are written with the whole table. */
	if (!err && !img->reftable_pending) {
		err = qcow2_sync(img);
		be = htobe64(at << img->cluster_bits);
		if (!err)
			err = qcow2_pwrite(img, &be, 8, img->h.reftable_offset + i * 8);
		if (!err)
			err = qcow2_sync(img);
	}
	if (err) {
		/* Forget it: the cluster leaks, nothing points at garbage. */
		img->reftable[i] = 0;
		img->refblocks[i] = NULL;
		free(b);
	}
	return err;
}

int qcow2_refcount_entry(struct qcow2_image *img, uint64_t cluster, uint64_t *file_off,
			 unsigned *len, uint64_t *be_value)
{
	uint64_t i = cluster >> img->rb_bits, k = cluster & ((1ULL << img->rb_bits) - 1);
	unsigned w = rc_width(img);

	if (w < 8 || i >= img->reftable_entries || !img->refblocks[i])
		return -EINVAL;
	*len = w / 8;
	*file_off = img->reftable[i] + k * *len;
	*be_value = 0;
	memcpy(be_value, img->refblocks[i] + k * *len, *len);
	return 0;
}

int qcow2_refcount_set(struct qcow2_image *img, uint64_t cluster, uint64_t rc, bool sync)
{
	uint64_t i = cluster >> img->rb_bits, k = cluster & ((1ULL << img->rb_bits) - 1);
	unsigned w = rc_width(img);
	uint8_t *b;
	int err;

	if (i >= img->reftable_entries) {
		log_error("qcow2 %s: cluster %llu is beyond the refcount table", img->path,
			  (unsigned long long)cluster);
		return -ENOSPC;
	}
	err = img->reftable[i] ? rc_block(img, i, &b) : rc_block_new(img, i);
	if (err)
		return err;
	b = img->refblocks[i];
	rc_write(img, b, k, rc);
	if (!sync)
		return 0;
	if (w < 8)
		return qcow2_pwrite(img, b + k * w / 8, 1, img->reftable[i] + k * w / 8);
	return qcow2_pwrite(img, b + k * (w / 8), w / 8, img->reftable[i] + k * (w / 8));
}

int qcow2_alloc_clusters(struct qcow2_image *img, unsigned n, bool sync, uint64_t *host)
{
	uint64_t c = img->free_hint, rc = 0, run = 0;
	int err;

	/* First fit below the end of the file, else append. */
	for (; c < img->end_cluster && run < n; c++) {
		err = qcow2_refcount_get(img, c, &rc);
		if (err)
			return err;
		run = rc ? 0 : run + 1;
		if (rc && run == 0 && c == img->free_hint)
			img->free_hint = c + 1;
	}
	if (run < n) {
		c = img->end_cluster + n - run;
		img->end_cluster = c;
	}
	c -= n;
	for (unsigned k = 0; k < n; k++) {
		err = qcow2_refcount_set(img, c + k, 1, sync);
		if (err)
			return err;
	}
	*host = c << img->cluster_bits;
	return 0;
}

/* The most clusters this image can ever hold: what is there, every
 * guest cluster and its L2 table, twice over for clusters that wait to
 * be freed, and room for the refcount structures themselves. */
static uint64_t rc_need(const struct qcow2_image *img)
{
	uint64_t data = (img->h.size + img->cluster_size - 1) >> img->cluster_bits;

	return 2 * (img->end_cluster + data + img->h.l1_size) + 64;
}

static int rc_grow_write(struct qcow2_image *img, uint64_t table_at, uint32_t clusters,
			 uint64_t old_off, uint32_t old_clusters)
{
	size_t bytes = (size_t)clusters << img->cluster_bits;
	uint64_t *t = malloc(bytes);
	uint8_t hdr[12];
	int err;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < bytes / 8; i++)
		t[i] = htobe64(img->reftable[i]);
	err = qcow2_pwrite(img, t, bytes, table_at);
	free(t);
	if (!err)
		err = qcow2_sync(img);
	if (err)
		return err;
	/* The header switch is one 12-byte write inside one sector. */
	for (int k = 0; k < 8; k++)
		hdr[k] = (uint8_t)(table_at >> (56 - 8 * k));
	for (int k = 0; k < 4; k++)
		hdr[8 + k] = (uint8_t)(clusters >> (24 - 8 * k));
	err = qcow2_pwrite(img, hdr, sizeof(hdr), 48);
	if (!err)
		err = qcow2_sync(img);
	if (err)
		return err;
	img->h.reftable_offset = table_at;
	img->h.reftable_clusters = clusters;
	for (uint32_t k = 0; k < old_clusters; k++) {
		err = qcow2_refcount_set(img, (old_off >> img->cluster_bits) + k, 0, true);
		if (err)
			return err;
	}
	img->free_hint = 0;
	return 0;
}

int qcow2_refcount_reserve(struct qcow2_image *img)
{
	uint64_t per_block = 1ULL << img->rb_bits;
	uint64_t want = (rc_need(img) + per_block - 1) / per_block;
	uint64_t max = QCOW2_MAX_REFTABLE_BYTES / 8, entries, at;
	uint32_t clusters;
	uint64_t *t;
	uint8_t **blocks;
	int err = 0;

	if (want <= img->reftable_entries)
		return 0;
	if (want > max)
		want = max;
	clusters = (uint32_t)((want * 8 + img->cluster_size - 1) >> img->cluster_bits);
	entries = (uint64_t)clusters << img->cluster_bits >> 3;
	t = calloc(entries, 8);
	blocks = calloc(entries, sizeof(*blocks));
	if (!t || !blocks) {
		free(t);
		free(blocks);
		return -ENOMEM;
	}
	memcpy(t, img->reftable, (size_t)img->reftable_entries * 8);
	memcpy(blocks, img->refblocks, (size_t)img->reftable_entries * sizeof(*blocks));
	free(img->reftable);
	free(img->refblocks);
	img->reftable = t;
	img->refblocks = blocks;
	img->reftable_entries = (uint32_t)entries;
	at = img->end_cluster;
	img->end_cluster += clusters;
	img->reftable_pending = true;
	for (uint32_t k = 0; k < clusters && !err; k++)
		err = qcow2_refcount_set(img, at + k, 1, true);
	img->reftable_pending = false;
	if (!err)
		err = rc_grow_write(img, at << img->cluster_bits, clusters, img->h.reftable_offset,
				    img->h.reftable_clusters);
	if (err)
		log_error("qcow2 %s: cannot grow the refcount table: %d", img->path, err);
	return err;
}
