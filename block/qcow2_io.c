/* block/qcow2_io: the qcow2 backend's blk_backend ops: jobs, the op
 * queue in front of the ring, and completions. */
#include "block/qcow2_dev.h"
#include "common/iov.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

static struct qcow2_dev *qdev(struct blk_backend *b)
{
	return (struct qcow2_dev *)b;
}

struct qcow2_job *qcow2_job_new(struct qcow2_dev *d, struct blk_req *req)
{
	struct qcow2_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->d = d;
	j->req = req;
	j->pending = 1; /* released when the job is fully set up */
	return j;
}

void qcow2_job_put(struct qcow2_job *j, int err)
{
	if (err && !j->err)
		j->err = err;
	if (--j->pending)
		return;
	/* Finished: completes from the next reap, so done() never runs
	 * inside submit and the device keeps one completion path. */
	j->next = j->d->finished;
	j->d->finished = j;
	/* A reap under way takes it in its loop: no wake-up (a system
	 * call per request) needed. */
	if (!j->d->reaping)
		eventfd_write(j->d->be.event_fd, 1);
}

struct qcow2_op *qcow2_op_new(struct qcow2_job *j, enum qcow2_op_kind kind)
{
	struct qcow2_op *op = calloc(1, sizeof(*op));

	if (!op)
		return NULL;
	op->job = j;
	op->kind = kind;
	if (j)
		j->pending++;
	return op;
}

void qcow2_op_queue(struct qcow2_dev *d, struct qcow2_op *op)
{
	op->next = NULL;
	if (d->wait_tail)
		d->wait_tail->next = op;
	else
		d->wait_head = op;
	d->wait_tail = op;
}

void qcow2_op_free(struct qcow2_op *op)
{
	free(op->iov);
	free(op->rest);
	free(op->cbuf);
	free(op->bounce);
	free(op->frees);
	free(op);
}

static int io_req_check(struct qcow2_dev *d, struct blk_req *req)
{
	uint64_t len = req->op == BLK_OP_READ || req->op == BLK_OP_WRITE ?
			       iov_size(req->iov, req->iovcnt) : req->len;

	if (req->op != BLK_OP_READ && req->op != BLK_OP_FLUSH && d->be.read_only)
		return -EROFS;
	if (req->op != BLK_OP_FLUSH && (req->offset > d->be.size || len > d->be.size - req->offset))
		return -EINVAL;
	return 0;
}

static int io_submit(struct blk_backend *b, struct blk_req *req)
{
	struct qcow2_dev *d = qdev(b);
	struct qcow2_job *j = qcow2_job_new(d, req);
	struct qcow2_op *op;
	int err;

	req->next = NULL;
	req->result = 0;
	if (!j)
		return -ENOMEM;
	err = io_req_check(d, req);
	if (err) {
		qcow2_job_put(j, err);
		return 0;
	}
	switch (req->op) {
	case BLK_OP_READ:
		qcow2_read_range(d, j, d->top, req->offset, iov_size(req->iov, req->iovcnt),
				 req->iov, req->iovcnt, 0);
		break;
	case BLK_OP_FLUSH:
		op = qcow2_op_new(j, QOP_FLUSH);
		if (!op) {
			j->err = -ENOMEM;
			break;
		}
		op->fd = d->top->fd;
		qcow2_op_queue(d, op);
		break;
	default:
		qcow2_write_start(d, j);
		break;
	}
	qcow2_job_put(j, 0);
	return 0;
}

static unsigned io_sqes(const struct qcow2_op *op)
{
	return op->kind == QOP_ALLOC ? 4 : 1;
}

/* The rest of a short transfer. */
static void io_prep_rw(struct io_uring_sqe *sqe, struct qcow2_op *op)
{
	const struct iovec *iov = op->iov;
	unsigned cnt = op->iovcnt;

	if (op->done) {
		free(op->rest);
		op->rest = qcow2_iov_slice(op->iov, op->iovcnt, op->done, op->len - op->done, &cnt);
		iov = op->rest;
	}
	if (op->kind == QOP_READV)
		io_uring_prep_readv(sqe, op->fd, iov, cnt, op->off + op->done);
	else
		io_uring_prep_writev(sqe, op->fd, iov, cnt, op->off + op->done);
}

static void io_prep(struct qcow2_dev *d, struct qcow2_op *op)
{
	struct io_uring_sqe *s[4];
	unsigned n = io_sqes(op);

	for (unsigned i = 0; i < n; i++)
		s[i] = io_uring_get_sqe(&d->ring);
	op->left = n;
	switch (op->kind) {
	case QOP_READV:
	case QOP_WRITEV:
		io_prep_rw(s[0], op);
		break;
	case QOP_COMPRESSED:
		io_uring_prep_read(s[0], op->fd, op->cbuf + op->done, (unsigned)(op->len - op->done),
				   op->off + op->done);
		break;
	case QOP_FLUSH:
		/* Everything submitted before completes first: the flush covers
		 * every write (and L2 update) the guest saw complete. */
		io_uring_prep_fsync(s[0], op->fd, IORING_FSYNC_DATASYNC);
		s[0]->flags |= IOSQE_IO_DRAIN;
		/* Frees wait for this sync: the L2 entries that dropped them are durable. */
		op->frees = d->frees;
		op->nfrees = d->nfrees;
		d->frees = NULL;
		d->nfrees = d->frees_cap = 0;
		break;
	case QOP_L2:
		io_uring_prep_write(s[0], op->fd, &op->l2_be, 8, op->l2_file_off);
		break;
	case QOP_ALLOC:
		/* Ordered by the links: the refcount and the data are on disk
		 * (fdatasync) before the L2 entry that makes them reachable. */
		io_uring_prep_write(s[0], op->fd, &op->rc_be, op->rc_len, op->rc_off);
		io_uring_prep_write(s[1], op->fd, op->bounce, d->top->cluster_size, op->host);
		io_uring_prep_fsync(s[2], op->fd, IORING_FSYNC_DATASYNC);
		io_uring_prep_write(s[3], op->fd, &op->l2_be, 8, op->l2_file_off);
		break;
	}
	/* After the prep helpers, which reset the flags. */
	for (unsigned i = 0; i < n; i++) {
		/* ops are 8-aligned: the low bits say which entry of a chain */
		io_uring_sqe_set_data64(s[i], (uint64_t)(uintptr_t)op | i);
		if (i + 1 < n)
			s[i]->flags |= IOSQE_IO_LINK;
	}
	d->inflight += n;
}

static int io_kick(struct blk_backend *b)
{
	struct qcow2_dev *d = qdev(b);
	unsigned queued = 0;
	int r;

	while (d->wait_head) {
		struct qcow2_op *op = d->wait_head;
		unsigned n = io_sqes(op);

		if (d->inflight + n > d->depth || io_uring_sq_space_left(&d->ring) < n)
			break;
		d->wait_head = op->next;
		if (!d->wait_head)
			d->wait_tail = NULL;
		io_prep(d, op);
		queued++;
	}
	/* Also entries a failed submit left behind (-EAGAIN, -EBUSY): they
	 * are counted in flight and would otherwise never complete. */
	if (!queued && !io_uring_sq_ready(&d->ring))
		return 0;
	do /* a signal (a vCPU kick, a timer) must not strand the entries */
		r = io_uring_submit(&d->ring);
	while (r == -EINTR);
	return r < 0 ? -EIO : 0;
}

static void io_requeue_front(struct qcow2_dev *d, struct qcow2_op *op)
{
	op->next = d->wait_head;
	d->wait_head = op;
	if (!d->wait_tail)
		d->wait_tail = op;
}

/* READV / WRITEV / COMPRESSED: short transfers go on, EOF reads zeros. */
static void io_rw_done(struct qcow2_dev *d, struct qcow2_op *op, int res)
{
	if (res > 0) {
		op->done += (uint64_t)res;
		if (op->done < op->len) {
			io_requeue_front(d, op);
			return;
		}
	} else if (res == 0 && op->done < op->len) {
		if (op->kind == QOP_WRITEV) {
			res = -EIO;
		} else if (op->kind == QOP_READV) {
			/* Past the end of the file: zeros, never stale memory. */
			iov_zero(op->iov, op->iovcnt, op->done, op->len - op->done);
		} else {
			memset(op->cbuf + op->done, 0, op->len - op->done);
		}
		op->done = op->len;
	}
	if (op->kind == QOP_COMPRESSED) {
		qcow2_read_compressed_done(op, res < 0 ? res : 0);
		return;
	}
	qcow2_job_put(op->job, res < 0 ? res : 0);
	qcow2_op_free(op);
}

static void io_cqe(struct qcow2_dev *d, struct qcow2_op *op, unsigned idx, int res)
{
	switch (op->kind) {
	case QOP_READV:
	case QOP_WRITEV:
	case QOP_COMPRESSED:
		io_rw_done(d, op, res);
		break;
	case QOP_FLUSH:
		qcow2_flush_done(d, op, res);
		break;
	case QOP_L2:
	case QOP_ALLOC:
		qcow2_alloc_cqe(op, idx, res);
		break;
	}
}

static int io_complete(struct blk_backend *b)
{
	struct qcow2_dev *d = qdev(b);
	struct io_uring_cqe *cqe;
	eventfd_t ignored;
	int n = 0;
	bool more = true;

	eventfd_read(b->event_fd, &ignored);
	d->reaping = true;
	while (more) {
		more = false;
		while (io_uring_peek_cqe(&d->ring, &cqe) == 0) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			struct qcow2_op *op = (struct qcow2_op *)(uintptr_t)(ud & ~7ULL);
			int res = cqe->res;

			io_uring_cqe_seen(&d->ring, cqe);
			d->inflight--;
			io_cqe(d, op, (unsigned)(ud & 7), res);
			more = true;
			n++; /* counted like done(): the caller kicks what it queued */
		}
		while (d->finished) {
			struct qcow2_job *j = d->finished;

			d->finished = j->next;
			if (j->finish)
				j->finish(j);
			else
				j->req->done(j->req, j->err);
			n++;
			free(j);
			more = true;
		}
	}
	d->reaping = false;
	return n;
}

static void io_close(struct blk_backend *b)
{
	struct qcow2_dev *d = qdev(b);

	/* Let everything finish: the buffers belong to the guest, and
	 * allocations in flight must reach their L2 entries. */
	while (d->inflight || d->wait_head || d->finished) {
		struct io_uring_cqe *cqe;

		if (io_kick(b) && !d->inflight && !d->finished)
			break; /* the ring refuses work: nothing more will finish */
		if (d->inflight && io_uring_wait_cqe(&d->ring, &cqe) < 0)
			break;
		io_complete(b);
	}
	qcow2_frees_apply_now(d);
	io_uring_queue_exit(&d->ring);
	close(b->event_fd);
	qcow2_image_close(d->top);
	free(d->frees);
	free(d->zeroes);
	free(d);
}

static bool io_pending(struct blk_backend *b)
{
	struct qcow2_dev *d = qdev(b);

	return d->finished || io_uring_cq_ready(&d->ring);
}

static const struct blk_backend_ops qcow2_ops = { io_submit, io_kick, io_complete, io_close,
						  io_pending };

bool blk_qcow2_has_backing(const struct blk_backend *b)
{
	return ((const struct qcow2_dev *)b)->top->backing != NULL;
}

int blk_qcow2_open(const char *path, const struct blk_open_opts *o, struct blk_backend **out)
{
	struct qcow2_dev *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->be.event_fd = -1;
	/* O_DIRECT is not used for qcow2 yet: metadata I/O is unaligned. */
	if (o->direct)
		log_warn("disk %s: direct=on is not supported for qcow2 yet: using the page cache", path);
	err = qcow2_image_open(path, o->read_only, 0, NULL, &d->top);
	if (err) {
		free(d);
		return err;
	}
	d->depth = o->queue_depth > 8 ? o->queue_depth : 8;
	d->be.ops = &qcow2_ops;
	d->be.size = d->top->size;
	d->be.block_size = 512;
	d->be.read_only = o->read_only;
	d->zeroes = calloc(1, d->top->cluster_size);
	d->be.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = !d->zeroes ? -ENOMEM : d->be.event_fd < 0 ? -errno :
	      io_uring_queue_init(d->depth, &d->ring, 0);
	if (!err && io_uring_register_eventfd(&d->ring, d->be.event_fd) < 0) {
		io_uring_queue_exit(&d->ring);
		err = -EIO;
	}
	if (err) {
		log_error("disk %s: io_uring set-up failed: %s", path, strerror(-err));
		if (d->be.event_fd >= 0)
			close(d->be.event_fd);
		qcow2_image_close(d->top);
		free(d->zeroes);
		free(d);
		return err;
	}
	*out = &d->be;
	return 0;
}
