/* block/qcow2_read: a guest range of one image of the chain, cluster by
 * cluster: data is read from the file through the ring, zero clusters
 * and holes without a backing file are zero-filled, unallocated clusters
 * come from the backing file (zeros past its end), compressed clusters
 * are read into a bounce buffer and inflated on completion. */
#include "block/qcow2_dev.h"
#include "common/iov.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"

/* Extends the last queued read when this one continues it both in the
 * file and in the destination: a sequential read of contiguous clusters
 * becomes one readv, not one per cluster. */
static bool read_merge(struct qcow2_dev *d, struct qcow2_job *j, int fd, uint64_t host,
		       uint64_t len, const struct iovec *iov, uint64_t skip)
{
	struct qcow2_op *op = d->wait_tail;
	struct iovec *more;
	unsigned n;

	if (!op || op->kind != QOP_READV || op->job != j || op->fd != fd || op->dst != iov ||
	    op->off + op->len != host || op->dst_skip + op->len != skip)
		return false;
	more = qcow2_iov_slice(iov, op->dstcnt, op->dst_skip, op->len + len, &n);
	if (!more)
		return false;
	free(op->iov);
	op->iov = more;
	op->iovcnt = n;
	op->len += len;
	return true;
}

static int read_data(struct qcow2_dev *d, struct qcow2_job *j, int fd, uint64_t host,
		     uint64_t len, const struct iovec *iov, unsigned cnt, uint64_t skip)
{
	struct qcow2_op *op;

	if (read_merge(d, j, fd, host, len, iov, skip))
		return 0;
	op = qcow2_op_new(j, QOP_READV);
	if (!op)
		return -ENOMEM;
	op->dst = iov;
	op->dstcnt = cnt;
	op->dst_skip = skip;
	op->fd = fd;
	op->off = host;
	op->len = len;
	op->iov = qcow2_iov_slice(iov, cnt, skip, len, &op->iovcnt);
	if (!op->iov) {
		qcow2_op_free(op);
		j->pending--;
		return -ENOMEM;
	}
	qcow2_op_queue(d, op);
	return 0;
}

static int read_compressed(struct qcow2_dev *d, struct qcow2_job *j, struct qcow2_image *img,
			   const struct qcow2_map *m, uint32_t in_off, uint64_t len,
			   const struct iovec *iov, unsigned cnt, uint64_t skip)
{
	struct qcow2_op *op = qcow2_op_new(j, QOP_COMPRESSED);

	if (!op)
		return -ENOMEM;
	op->fd = img->fd;
	op->img = img;
	op->off = m->host;
	op->len = m->csize;
	op->in_off = in_off;
	op->cbuf = malloc(m->csize);
	op->iov = qcow2_iov_slice(iov, cnt, skip, len, &op->iovcnt);
	if (!op->cbuf || !op->iov) {
		qcow2_op_free(op);
		j->pending--;
		return -ENOMEM;
	}
	qcow2_op_queue(d, op);
	return 0;
}

void qcow2_read_compressed_done(struct qcow2_op *op, int res)
{
	struct qcow2_image *img = op->img;
	uint8_t *out = res ? NULL : malloc(img->cluster_size);

	if (!res && !out)
		res = -ENOMEM;
	if (!res && qcow2_decompress(img->h.compression, op->cbuf, op->len, out, img->cluster_size)) {
		log_error("qcow2 %s: compressed cluster at %#llx does not decompress", img->path,
			  (unsigned long long)op->off);
		res = -EIO;
	}
	if (!res)
		iov_from_buf(op->iov, op->iovcnt, 0, out + op->in_off,
				  iov_size(op->iov, op->iovcnt));
	free(out);
	qcow2_job_put(op->job, res);
	qcow2_op_free(op);
}

static int read_cluster(struct qcow2_dev *d, struct qcow2_job *j, struct qcow2_image *img,
			uint64_t off, uint64_t len, const struct iovec *iov, unsigned cnt, uint64_t skip)
{
	uint32_t in_off = (uint32_t)(off & (img->cluster_size - 1));
	struct qcow2_map m;
	int err = qcow2_map_get(img, off >> img->cluster_bits, &m);

	if (err)
		return err;
	switch (m.kind) {
	case QCOW2_NORMAL:
		return read_data(d, j, img->fd, m.host + in_off, len, iov, cnt, skip);
	case QCOW2_COMPRESSED:
		return read_compressed(d, j, img, &m, in_off, len, iov, cnt, skip);
	case QCOW2_UNALLOCATED:
		if (img->backing) {
			qcow2_read_range(d, j, img->backing, off, len, iov, cnt, skip);
			return 0;
		}
		/* fall through */
	case QCOW2_ZERO:
		iov_zero(iov, cnt, skip, len);
		return 0;
	}
	return 0;
}

void qcow2_read_range(struct qcow2_dev *d, struct qcow2_job *j, struct qcow2_image *img,
		      uint64_t off, uint64_t len, const struct iovec *iov, unsigned cnt,
		      uint64_t skip)
{
	while (len) {
		uint64_t n = len;
		int err = 0;

		if (off >= img->size) {
			/* A backing file smaller than the image above: zeros. */
			iov_zero(iov, cnt, skip, len);
			return;
		}
		if (n > img->size - off)
			n = img->size - off;
		if (img->raw) {
			err = read_data(d, j, img->fd, off, n, iov, cnt, skip);
		} else {
			uint64_t room = img->cluster_size - (off & (img->cluster_size - 1));

			if (n > room)
				n = room;
			err = read_cluster(d, j, img, off, n, iov, cnt, skip);
		}
		if (err) {
			if (!j->err)
				j->err = err;
			return;
		}
		off += n;
		skip += n;
		len -= n;
	}
}
