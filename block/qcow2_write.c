/* block/qcow2_write: writes, write-zeroes and discards.
 *
 * The ordering that keeps the image consistent after a crash (a leak at
 * worst, never a reference to a cluster that is free or holds garbage):
 *  - a new data cluster: its refcount entry and its data (the whole
 *    cluster, old contents copied in from below) are written, then
 *    fdatasync, then the L2 entry: one linked io_uring chain (QOP_ALLOC);
 *  - a new L2 table or refcount block: written and synced before the L1
 *    or refcount-table entry naming it (synchronously, rare);
 *  - a cluster dropped from L2 (discard, zeroing, overwriting a
 *    compressed one) keeps its refcount until a later fdatasync has made
 *    the L2 change durable: only then is it freed and can be reused.
 * A guest cluster with an allocation or L2 update in flight is busy:
 * further writes to it wait, so no two updates of one entry race. */
#include "block/qcow2_dev.h"
#include "common/iov.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define FREES_AUTO_FLUSH 4096 /* pending frees that trigger an internal flush */

static void piece_run(struct qcow2_dev *d, struct qcow2_piece *p);

static struct qcow2_busy *busy_find(struct qcow2_dev *d, uint64_t gc)
{
	for (struct qcow2_busy *b = d->busy; b; b = b->next)
		if (b->gc == gc)
			return b;
	return NULL;
}

static int busy_mark(struct qcow2_dev *d, uint64_t gc)
{
	struct qcow2_busy *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->gc = gc;
	b->next = d->busy;
	d->busy = b;
	return 0;
}

/* Unmarks gc and runs, in order, the pieces that waited for it. */
static void busy_clear(struct qcow2_dev *d, uint64_t gc)
{
	struct qcow2_busy **pp = &d->busy, *b;
	struct qcow2_piece *p;

	while (*pp && (*pp)->gc != gc)
		pp = &(*pp)->next;
	b = *pp;
	if (!b)
		return;
	*pp = b->next;
	p = b->wait_head;
	free(b);
	while (p) {
		struct qcow2_piece *next = p->next;

		p->next = NULL;
		piece_run(d, p); /* may mark gc busy again: the rest wait there */
		p = next;
	}
}

static void piece_end(struct qcow2_piece *p, int err)
{
	qcow2_job_put(p->job, err);
	free(p);
}

void qcow2_frees_add(struct qcow2_dev *d, uint64_t cluster)
{
	if (d->nfrees == d->frees_cap) {
		size_t cap = d->frees_cap ? 2 * d->frees_cap : 64;
		uint64_t *f = realloc(d->frees, cap * sizeof(*f));

		if (!f)
			return; /* the cluster leaks: harmless */
		d->frees = f;
		d->frees_cap = cap;
	}
	d->frees[d->nfrees++] = cluster;
	if (d->nfrees >= FREES_AUTO_FLUSH && !d->auto_flush) {
		/* Bounds the space held by clusters waiting for a guest flush. */
		struct qcow2_op *op = qcow2_op_new(NULL, QOP_FLUSH);

		if (op) {
			op->fd = d->top->fd;
			d->auto_flush = true;
			qcow2_op_queue(d, op);
		}
	}
}

/* The clusters an L2 entry stops referencing. */
static void frees_of(struct qcow2_dev *d, const struct qcow2_map *old, uint64_t new_entry)
{
	struct qcow2_image *img = d->top;

	if (old->kind == QCOW2_COMPRESSED) {
		uint64_t start = old->host & ~511ULL;
		uint64_t first = start >> img->cluster_bits;
		uint64_t last = (start + old->csize - 1) >> img->cluster_bits;

		for (uint64_t c = first; c <= last; c++)
			qcow2_frees_add(d, c);
	} else if (old->host && (new_entry & QCOW2_OFFSET_MASK) != old->host) {
		qcow2_frees_add(d, old->host >> img->cluster_bits);
	}
}

static void frees_apply(struct qcow2_dev *d, const uint64_t *c, size_t n)
{
	struct qcow2_image *img = d->top;

	for (size_t i = 0; i < n; i++) {
		uint64_t rc;

		if (qcow2_refcount_get(img, c[i], &rc) || rc == 0) {
			log_error("qcow2 %s: refcount of cluster %llu would go below zero",
				  img->path, (unsigned long long)c[i]);
			continue;
		}
		/* Written in place (page cache) before any reuse can be queued. */
		if (qcow2_refcount_set(img, c[i], rc - 1, true))
			continue;
		if (rc == 1 && c[i] < img->free_hint)
			img->free_hint = c[i];
	}
}

void qcow2_flush_done(struct qcow2_dev *d, struct qcow2_op *op, int res)
{
	if (res >= 0)
		frees_apply(d, op->frees, op->nfrees);
	/* On failure the clusters leak: never freed while maybe referenced. */
	if (op->job)
		qcow2_job_put(op->job, res < 0 ? res : 0);
	else
		d->auto_flush = false;
	qcow2_op_free(op);
}

void qcow2_frees_apply_now(struct qcow2_dev *d)
{
	if (!d->nfrees || qcow2_sync(d->top))
		return;
	frees_apply(d, d->frees, d->nfrees);
	d->nfrees = 0;
}

static uint64_t l2_file_off(struct qcow2_image *img, uint64_t gc)
{
	return (img->l1[gc >> img->l2_bits] & QCOW2_OFFSET_MASK) +
	       (gc & ((1ULL << img->l2_bits) - 1)) * 8;
}

/* The data of piece p (guest bytes, or zeros) into buf. */
static void piece_fill(struct qcow2_piece *p, uint8_t *buf)
{
	const struct blk_req *r = p->job->req;

	if (p->op == BLK_OP_WRITE)
		iov_to_buf(r->iov, r->iovcnt, p->src_skip, buf, p->in_len);
	else
		memset(buf, 0, p->in_len);
}

static void alloc_submit(struct qcow2_dev *d, struct qcow2_op *op)
{
	struct qcow2_piece *p = op->piece;

	piece_fill(p, op->bounce + p->in_off);
	qcow2_op_queue(d, op);
}

static void alloc_fail(struct qcow2_dev *d, struct qcow2_op *op, int err)
{
	struct qcow2_piece *p = op->piece;

	/* The new cluster's refcount may be on disk: it leaks, safely. */
	log_error("qcow2 %s: write to guest cluster %llu failed: %s", d->top->path,
		  (unsigned long long)p->gc, strerror(-err));
	qcow2_op_free(op);
	busy_clear(d, p->gc);
	piece_end(p, err);
}

static void alloc_cow_done(struct qcow2_job *j)
{
	struct qcow2_op *op = j->arg;

	if (j->err)
		alloc_fail(j->d, op, j->err);
	else
		alloc_submit(j->d, op);
}

/* A new cluster for p: the old contents around the written part come
 * from the current mapping (backing file, compressed, zero). */
static int alloc_start(struct qcow2_dev *d, struct qcow2_piece *p, const struct qcow2_map *m)
{
	struct qcow2_image *img = d->top;
	struct qcow2_op *op = qcow2_op_new(NULL, QOP_ALLOC);
	uint64_t *t;
	int err;

	if (!op)
		return -ENOMEM;
	op->piece = p;
	op->old = *m;
	op->fd = img->fd;
	op->bounce = malloc(img->cluster_size);
	err = op->bounce ? qcow2_map_l2(img, p->gc, true, &t) : -ENOMEM;
	if (!err)
		err = qcow2_alloc_clusters(img, 1, false, &op->host);
	if (!err)
		err = qcow2_refcount_entry(img, op->host >> img->cluster_bits, &op->rc_off,
					   &op->rc_len, &op->rc_be);
	if (err) {
		qcow2_op_free(op);
		return err;
	}
	op->new_entry = op->host | QCOW2_OFLAG_COPIED;
	op->l2_be = htobe64(op->new_entry);
	op->l2_file_off = l2_file_off(img, p->gc);
	if (p->in_len == img->cluster_size || m->kind == QCOW2_ZERO ||
	    (m->kind == QCOW2_UNALLOCATED && !img->backing)) {
		memset(op->bounce, 0, img->cluster_size);
		alloc_submit(d, op);
		return 0;
	}
	struct qcow2_job *cow = qcow2_job_new(d, NULL);
	struct iovec iov = { op->bounce, img->cluster_size };

	if (!cow) {
		qcow2_op_free(op);
		return -ENOMEM;
	}
	cow->finish = alloc_cow_done;
	cow->arg = op;
	qcow2_read_range(d, cow, img, p->gc << img->cluster_bits, img->cluster_size, &iov, 1, 0);
	qcow2_job_put(cow, 0);
	return 0;
}

void qcow2_alloc_cqe(struct qcow2_op *op, unsigned idx, int res)
{
	struct qcow2_piece *p = op->piece;
	struct qcow2_dev *d = p->job->d;
	struct qcow2_image *img = d->top;
	/* QOP_ALLOC: refcount, data, fdatasync, L2 entry; QOP_L2: L2 entry */
	const int want[4] = { (int)op->rc_len, (int)img->cluster_size, 0, 8 };
	uint64_t *t;

	/* A short metadata or data write is a failure too. */
	if (op->kind == QOP_L2)
		idx = 3;
	else if (idx != op->next_idx++)
		d->chain_misordered++;
	if (!op->chain_err && res != want[idx])
		op->chain_err = res < 0 ? res : -EIO;
	if (--op->left)
		return;
	if (op->chain_err) {
		alloc_fail(d, op, op->chain_err);
		return;
	}
	t = qcow2_cache_find(&img->cache, img->l1[p->gc >> img->l2_bits] & QCOW2_OFFSET_MASK);
	if (t)
		t[p->gc & ((1ULL << img->l2_bits) - 1)] = op->new_entry;
	frees_of(d, &op->old, op->new_entry);
	qcow2_op_free(op);
	busy_clear(d, p->gc);
	piece_end(p, 0);
}

/* A whole-cluster discard or write-zeroes: a new L2 entry, no data. */
static int piece_l2(struct qcow2_dev *d, struct qcow2_piece *p, const struct qcow2_map *m,
		    uint64_t entry)
{
	struct qcow2_image *img = d->top;
	struct qcow2_op *op;
	uint64_t *t;
	int err;

	if (entry == m->entry) {
		piece_end(p, 0);
		return 0;
	}
	err = qcow2_map_l2(img, p->gc, entry != 0, &t);
	if (err)
		return err;
	if (!t) {
		piece_end(p, 0); /* no table: already reads as zeros */
		return 0;
	}
	op = qcow2_op_new(NULL, QOP_L2);
	err = op ? busy_mark(d, p->gc) : -ENOMEM;
	if (err) {
		free(op);
		return err;
	}
	op->piece = p;
	op->old = *m;
	op->fd = img->fd;
	op->new_entry = entry;
	op->l2_be = htobe64(entry);
	op->l2_file_off = l2_file_off(img, p->gc);
	qcow2_op_queue(d, op);
	return 0;
}

/* The L2 entry a whole-cluster discard / write-zeroes wants, or ~0 when
 * it must write zeros as data (version 2 has no zero flag). */
static uint64_t piece_zero_entry(struct qcow2_dev *d, const struct qcow2_piece *p,
				 const struct qcow2_map *m)
{
	struct qcow2_image *img = d->top;
	bool v3 = img->h.version >= 3;

	if (!img->backing)
		return (p->op == BLK_OP_WRITE_ZEROES && !p->unmap && m->kind == QCOW2_NORMAL &&
			m->copied && v3) ? m->host | QCOW2_OFLAG_COPIED | QCOW2_OFLAG_ZERO : 0;
	if (!v3)
		return p->op == BLK_OP_DISCARD ? m->entry : ~0ULL; /* a discard may do nothing */
	if (p->op == BLK_OP_WRITE_ZEROES && !p->unmap && m->kind == QCOW2_NORMAL && m->copied)
		return m->host | QCOW2_OFLAG_COPIED | QCOW2_OFLAG_ZERO;
	return QCOW2_OFLAG_ZERO;
}

static int piece_write(struct qcow2_dev *d, struct qcow2_piece *p)
{
	struct qcow2_image *img = d->top;
	struct qcow2_map m;
	uint64_t entry;
	int err = qcow2_map_get(img, p->gc, &m);

	if (err)
		return err;
	if (p->op != BLK_OP_WRITE && p->in_len == img->cluster_size) {
		entry = piece_zero_entry(d, p, &m);
		if (entry != ~0ULL)
			return piece_l2(d, p, &m, entry);
	} else if (p->op == BLK_OP_DISCARD) {
		piece_end(p, 0); /* part of a cluster: discard is only a hint */
		return 0;
	}
	if (m.kind == QCOW2_NORMAL && m.copied) {
		struct qcow2_op *op = qcow2_op_new(p->job, QOP_WRITEV);
		const struct blk_req *r = p->job->req;
		struct iovec z = { d->zeroes, p->in_len };

		if (!op)
			return -ENOMEM;
		op->fd = img->fd;
		op->off = m.host + p->in_off;
		op->len = p->in_len;
		op->iov = p->op == BLK_OP_WRITE ?
				  qcow2_iov_slice(r->iov, r->iovcnt, p->src_skip, p->in_len, &op->iovcnt) :
				  qcow2_iov_slice(&z, 1, 0, p->in_len, &op->iovcnt);
		if (!op->iov) {
			qcow2_op_free(op);
			p->job->pending--;
			return -ENOMEM;
		}
		qcow2_op_queue(d, op);
		piece_end(p, 0); /* the op holds the job */
		return 0;
	}
	err = busy_mark(d, p->gc);
	if (!err) {
		err = alloc_start(d, p, &m);
		if (err)
			busy_clear(d, p->gc);
	}
	return err;
}

static void piece_run(struct qcow2_dev *d, struct qcow2_piece *p)
{
	struct qcow2_busy *b = busy_find(d, p->gc);
	int err;

	if (b) {
		if (b->wait_tail)
			b->wait_tail->next = p;
		else
			b->wait_head = p;
		b->wait_tail = p;
		return;
	}
	err = piece_write(d, p);
	if (err) {
		if (busy_find(d, p->gc))
			busy_clear(d, p->gc);
		piece_end(p, err);
	}
}

void qcow2_write_start(struct qcow2_dev *d, struct qcow2_job *j)
{
	struct blk_req *r = j->req;
	struct qcow2_image *img = d->top;
	uint64_t off = r->offset, skip = 0;
	uint64_t len = r->op == BLK_OP_WRITE ? iov_size(r->iov, r->iovcnt) : r->len;

	while (len) {
		uint32_t in_off = (uint32_t)(off & (img->cluster_size - 1));
		uint64_t n = img->cluster_size - in_off;
		struct qcow2_piece *p = calloc(1, sizeof(*p));

		if (!p) {
			j->err = -ENOMEM;
			return;
		}
		if (n > len)
			n = len;
		*p = (struct qcow2_piece){ .job = j, .op = r->op, .gc = off >> img->cluster_bits,
					   .in_off = in_off, .in_len = (uint32_t)n, .src_skip = skip,
					   .unmap = r->unmap };
		/* The last cluster may pass the virtual size: zeroing up to the
		 * end zeroes (or drops) all of it. */
		if (r->op != BLK_OP_WRITE && in_off == 0 && off + n == img->size)
			p->in_len = img->cluster_size;
		j->pending++;
		piece_run(d, p);
		off += n;
		skip += n;
		len -= n;
	}
}
