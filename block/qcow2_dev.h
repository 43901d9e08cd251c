/* block/qcow2_dev: the qcow2 block backend's request machinery,
 * internal to block/qcow2_*.c.
 *
 * A guest request is a job; it is split along cluster boundaries into
 * operations (ops), each one or a linked chain of io_uring entries. A job
 * completes, through done(), when its last op does: always from
 * blk_backend_complete(), never from submit. Allocating writes and table
 * updates mark their guest cluster busy; later writes to that cluster
 * wait for it (qcow2_write.c). */
#ifndef LQ_BLOCK_QCOW2_DEV_H
#define LQ_BLOCK_QCOW2_DEV_H

#include <liburing.h>

#include "block/qcow2.h"

struct qcow2_dev;

struct qcow2_job {
	struct qcow2_dev *d;
	int pending;                     /* ops and children not finished, +1 while set up */
	int err;                         /* the first error */
	struct blk_req *req;             /* a guest request, or NULL */
	void (*finish)(struct qcow2_job *j); /* instead of req->done */
	void *arg;
	struct qcow2_job *next;          /* on the finished list */
};

enum qcow2_op_kind {
	QOP_READV,                       /* data into iov (short reads: rest, EOF: zeros) */
	QOP_WRITEV,                      /* data in place */
	QOP_COMPRESSED,                  /* read cbuf, then decompress into iov */
	QOP_FLUSH,                       /* fdatasync after everything before it */
	QOP_ALLOC,                       /* refcount, data, fdatasync, L2 entry: linked */
	QOP_L2,                          /* one L2 entry (discard, zero clusters) */
};

struct qcow2_piece;

struct qcow2_op {
	struct qcow2_op *next;
	struct qcow2_job *job;
	enum qcow2_op_kind kind;
	int fd;
	uint64_t off;                    /* file offset */
	uint64_t len, done;              /* READV/WRITEV/COMPRESSED */
	struct iovec *iov;               /* owned slice */
	unsigned iovcnt;
	struct iovec *rest;              /* what is left after a short transfer */
	const struct iovec *dst;         /* READV: the list iov slices, from dst_skip */
	unsigned dstcnt;
	uint64_t dst_skip;
	/* QOP_COMPRESSED */
	uint8_t *cbuf;
	uint32_t in_off;                 /* within the cluster */
	struct qcow2_image *img;
	/* QOP_ALLOC / QOP_L2 */
	struct qcow2_piece *piece;
	uint8_t *bounce;                 /* the whole new cluster */
	uint64_t host;                   /* the new cluster */
	uint64_t rc_off, rc_be;
	unsigned rc_len;
	uint64_t l2_file_off, l2_be, new_entry;
	struct qcow2_map old;
	unsigned left;                   /* CQEs still to come */
	unsigned next_idx;               /* the chain entry expected to complete next */
	int chain_err;
	/* QOP_FLUSH */
	uint64_t *frees;
	size_t nfrees;
};

/* One cluster's worth of a write, write-zeroes or discard. */
struct qcow2_piece {
	struct qcow2_piece *next;        /* waiting for a busy cluster */
	struct qcow2_job *job;
	enum blk_op op;
	uint64_t gc;                     /* guest cluster of the top image */
	uint32_t in_off, in_len;         /* within the cluster */
	uint64_t src_skip;               /* WRITE: bytes of req->iov before this piece */
	bool unmap;
};

struct qcow2_busy {
	struct qcow2_busy *next;
	uint64_t gc;
	struct qcow2_piece *wait_head, *wait_tail;
};

struct qcow2_dev {
	struct blk_backend be;
	struct qcow2_image *top;
	struct io_uring ring;
	unsigned depth, inflight;        /* entries in the kernel */
	struct qcow2_op *wait_head, *wait_tail; /* not yet in the ring */
	struct qcow2_job *finished;      /* to complete on the next reap */
	bool reaping;                    /* inside io_complete: it sees finished */
	struct qcow2_busy *busy;
	uint64_t *frees;                 /* clusters to free after the next flush */
	size_t nfrees, frees_cap;
	bool auto_flush;                 /* an internal flush is queued */
	uint8_t *zeroes;                 /* one cluster of zeros */
	/* Chain entries that completed before the one linked ahead of them:
	 * always 0 while links order the chain (tests check it). */
	uint64_t chain_misordered;
};

struct qcow2_job *qcow2_job_new(struct qcow2_dev *d, struct blk_req *req);
/* Drops one reference; the last one queues the job as finished. */
void qcow2_job_put(struct qcow2_job *j, int err);
struct qcow2_op *qcow2_op_new(struct qcow2_job *j, enum qcow2_op_kind kind);
void qcow2_op_queue(struct qcow2_dev *d, struct qcow2_op *op);
void qcow2_op_free(struct qcow2_op *op);

/* Reads [off, off + len) of img's guest view into iov after skip. */
void qcow2_read_range(struct qcow2_dev *d, struct qcow2_job *j, struct qcow2_image *img,
		      uint64_t off, uint64_t len, const struct iovec *iov, unsigned cnt,
		      uint64_t skip);
void qcow2_read_compressed_done(struct qcow2_op *op, int res);

/* Splits a write / write-zeroes / discard request into pieces. */
void qcow2_write_start(struct qcow2_dev *d, struct qcow2_job *j);
/* One CQE of a QOP_ALLOC chain (idx: its place in the chain) or QOP_L2;
 * the chain's CQEs may come in any order. */
void qcow2_alloc_cqe(struct qcow2_op *op, unsigned idx, int res);
void qcow2_flush_done(struct qcow2_dev *d, struct qcow2_op *op, int res);
void qcow2_frees_add(struct qcow2_dev *d, uint64_t cluster);
/* At close: everything completed; sync and apply the pending frees. */
void qcow2_frees_apply_now(struct qcow2_dev *d);

#endif
