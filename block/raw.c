/* block/raw: raw images and block devices through io_uring. */
#include "block/blk_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

struct blk_raw {
	struct blk_backend be;
	struct io_uring ring;
	int fd;
	unsigned depth, inflight;
	struct blk_req *wait_head, *wait_tail; /* not yet in the ring */
	struct blk_req *err_head;              /* refused before starting */
	const char *path;
};

static struct blk_raw *blk_raw(struct blk_backend *b)
{
	return (struct blk_raw *)b;
}

static void raw_wake(struct blk_raw *r)
{
	eventfd_write(r->be.event_fd, 1);
}

static int raw_submit(struct blk_backend *b, struct blk_req *req)
{
	struct blk_raw *r = blk_raw(b);
	int err = 0;

	req->next = NULL;
	req->done_bytes = 0;
	req->rest = NULL;
	req->result = 0;
	if (req->op != BLK_OP_READ && req->op != BLK_OP_FLUSH && b->read_only)
		err = -EROFS;
	else if ((req->op == BLK_OP_DISCARD || req->op == BLK_OP_WRITE_ZEROES) &&
		 (req->offset > b->size || req->len > b->size - req->offset))
		err = -EINVAL;
	if (err) {
		/* Completes through the normal path, on the next reap. */
		req->result = err;
		req->next = r->err_head;
		r->err_head = req;
		raw_wake(r);
		return 0;
	}
	if (r->wait_tail)
		r->wait_tail->next = req;
	else
		r->wait_head = req;
	r->wait_tail = req;
	return 0;
}

/* The part of req->iov not yet transferred, in iov (at most max). */
static unsigned raw_rest(const struct blk_req *req, struct iovec *iov, unsigned max)
{
	uint64_t skip = req->done_bytes;
	unsigned n = 0;

	for (unsigned i = 0; i < req->iovcnt && n < max; i++) {
		size_t l = req->iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		iov[n].iov_base = (char *)req->iov[i].iov_base + skip;
		iov[n].iov_len = l - skip;
		skip = 0;
		n++;
	}
	return n;
}

static void raw_prep(struct blk_raw *r, struct io_uring_sqe *sqe, struct blk_req *req)
{
	int mode;

	switch (req->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (req->done_bytes) {
			/* The rest of a short transfer (raw_cqe made req->rest). */
			unsigned n = raw_rest(req, req->rest, req->iovcnt);

			if (req->op == BLK_OP_READ)
				io_uring_prep_readv(sqe, r->fd, req->rest, n, req->offset + req->done_bytes);
			else
				io_uring_prep_writev(sqe, r->fd, req->rest, n, req->offset + req->done_bytes);
		} else if (req->op == BLK_OP_READ) {
			io_uring_prep_readv(sqe, r->fd, req->iov, req->iovcnt, req->offset);
		} else {
			io_uring_prep_writev(sqe, r->fd, req->iov, req->iovcnt, req->offset);
		}
		break;
	case BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, r->fd, IORING_FSYNC_DATASYNC);
		/* The ring runs requests in any order: without the drain an
		 * fsync could finish before writes submitted ahead of it, and
		 * the guest would take data as durable that is not. */
		sqe->flags |= IOSQE_IO_DRAIN;
		break;
	case BLK_OP_DISCARD:
		io_uring_prep_fallocate(sqe, r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					req->offset, req->len);
		break;
	case BLK_OP_WRITE_ZEROES:
		mode = req->unmap || req->result == -EOPNOTSUPP ?
			       FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
			       FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		io_uring_prep_fallocate(sqe, r->fd, mode, req->offset, req->len);
		break;
	}
	io_uring_sqe_set_data(sqe, req);
}

static int raw_kick(struct blk_backend *b)
{
	struct blk_raw *r = blk_raw(b);
	unsigned queued = 0;
	int err;

	while (r->wait_head && r->inflight < r->depth) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
		struct blk_req *req = r->wait_head;

		if (!sqe)
			break;
		r->wait_head = req->next;
		if (!r->wait_head)
			r->wait_tail = NULL;
		raw_prep(r, sqe, req);
		r->inflight++;
		queued++;
	}
	/* Also entries a failed submit left in the ring: they count as in
	 * flight and would otherwise never complete. */
	if (!queued && !io_uring_sq_ready(&r->ring))
		return 0;
	do /* a signal (pause's vCPU kick, a timer) must not strand them */
		err = io_uring_submit(&r->ring);
	while (err == -EINTR);
	return err < 0 ? -EIO : 0;
}

/* Requeues at the front (a short transfer's rest, a fallback). */
static void raw_requeue(struct blk_raw *r, struct blk_req *req)
{
	req->next = r->wait_head;
	r->wait_head = req;
	if (!r->wait_tail)
		r->wait_tail = req;
}

static uint64_t raw_iov_len(const struct blk_req *req)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < req->iovcnt; i++)
		n += req->iov[i].iov_len;
	return n;
}

static void raw_done(struct blk_req *req, int result)
{
	free(req->rest);
	req->rest = NULL;
	req->done(req, result);
}

/* One completion: finished, or requeued for the rest. */
static void raw_cqe(struct blk_raw *r, struct blk_req *req, int res)
{
	if ((req->op == BLK_OP_READ || req->op == BLK_OP_WRITE) && res >= 0) {
		uint64_t total = raw_iov_len(req);

		req->done_bytes += (uint64_t)res;
		if (req->done_bytes < total && res == 0 && req->op == BLK_OP_READ) {
			/* End of file: the rest reads as zeros, never as stale memory. */
			uint64_t skip = 0;

			for (unsigned i = 0; i < req->iovcnt; i++) {
				size_t l = req->iov[i].iov_len;
				uint64_t at = req->done_bytes > skip ? req->done_bytes - skip : 0;

				if (at < l)
					memset((char *)req->iov[i].iov_base + at, 0, l - at);
				skip += l;
			}
			req->done_bytes = total;
		}
		if (req->done_bytes < total) {
			if (res == 0) { /* a write that makes no progress */
				raw_done(req, -EIO);
				return;
			}
			if (!req->rest)
				req->rest = malloc(req->iovcnt * sizeof(*req->rest));
			if (!req->rest) {
				raw_done(req, -ENOMEM);
				return;
			}
			raw_requeue(r, req);
			return;
		}
		raw_done(req, 0);
		return;
	}
	if (req->op == BLK_OP_WRITE_ZEROES && res == -EOPNOTSUPP && req->result != -EOPNOTSUPP) {
		req->result = -EOPNOTSUPP; /* retry as a hole: reads back as zeros */
		raw_requeue(r, req);
		return;
	}
	raw_done(req, res < 0 ? res : 0);
}

static int raw_complete(struct blk_backend *b)
{
	struct blk_raw *r = blk_raw(b);
	struct io_uring_cqe *cqe;
	eventfd_t ignored;
	int n = 0;

	eventfd_read(b->event_fd, &ignored);
	while (r->err_head) {
		struct blk_req *req = r->err_head;

		r->err_head = req->next;
		req->done(req, req->result);
		n++;
	}
	while (io_uring_peek_cqe(&r->ring, &cqe) == 0) {
		struct blk_req *req = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&r->ring, cqe);
		r->inflight--;
		raw_cqe(r, req, res);
		n++;
	}
	return n;
}

static void raw_close(struct blk_backend *b)
{
	struct blk_raw *r = blk_raw(b);

	/* Let what is in flight finish: the buffers belong to the guest. */
	while (r->inflight) {
		struct io_uring_cqe *cqe;

		if (io_uring_wait_cqe(&r->ring, &cqe) < 0)
			break;
		raw_complete(b);
	}
	io_uring_queue_exit(&r->ring);
	close(r->fd);
	close(b->event_fd);
	free(r);
}

static bool raw_pending(struct blk_backend *b)
{
	struct blk_raw *r = blk_raw(b);

	return r->err_head || io_uring_cq_ready(&r->ring);
}

static const struct blk_backend_ops raw_ops = { raw_submit, raw_kick, raw_complete, raw_close,
						raw_pending };

static int raw_size(struct blk_raw *r, const char *path)
{
	struct stat st;

	if (fstat(r->fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;
		int lbs = 512;

		if (ioctl(r->fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
		ioctl(r->fd, BLKSSZGET, &lbs);
		r->be.size = bytes;
		r->be.block_size = (uint32_t)lbs;
	} else if (S_ISREG(st.st_mode)) {
		r->be.size = (uint64_t)st.st_size;
		r->be.block_size = 512;
	} else {
		log_error("disk %s: not a regular file or block device", path);
		return -EINVAL;
	}
	return 0;
}

int blk_raw_open(const char *path, const struct blk_open_opts *o, struct blk_backend **out)
{
	struct blk_raw *r = calloc(1, sizeof(*r));
	int flags = (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | (o->direct ? O_DIRECT : 0);
	int err;

	if (!r)
		return -ENOMEM;
	r->be.ops = &raw_ops;
	r->be.read_only = o->read_only;
	r->depth = o->queue_depth ? o->queue_depth : 128;
	r->path = path;
	r->fd = open(path, flags);
	if (r->fd < 0) {
		err = -errno;
		log_error("disk %s: cannot open%s: %s", path, o->direct ? " with O_DIRECT" : "",
			  strerror(errno));
		free(r);
		return err;
	}
	err = raw_size(r, path);
	if (!err) {
		r->be.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		err = r->be.event_fd < 0 ? -errno : io_uring_queue_init(r->depth, &r->ring, 0);
		if (err)
			log_error("disk %s: io_uring set-up failed: %s", path, strerror(-err));
	}
	if (!err && io_uring_register_eventfd(&r->ring, r->be.event_fd) < 0)
		err = -EIO;
	if (err) {
		close(r->fd);
		free(r);
		return err;
	}
	*out = &r->be;
	return 0;
}
