/* tools/lq-img: convert. Reads the source through the block backends
 * (blk_open, so a qcow2 source is read with its whole backing chain)
 * and writes the destination: raw as a sparse file, qcow2 through the
 * qcow2 backend. Ranges the source's metadata says are zeros are not
 * even read, and blocks of zeros that are read are not written, so a
 * big, mostly empty disk converts fast and both outputs stay thin.
 *
 * Requests run one at a time to completion (submit, kick, wait on the
 * backend's eventfd, reap), as tests/unit/blk_test_util.c does. */
#include "tools/lq-img/lqimg.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/qcow2_create.h"

#define CONVERT_CHUNK (1u << 20)    /* bytes per read */
#define CONVERT_ZERO_BLOCK 65536u   /* zero detection granularity */

struct convert_req {
	struct blk_req req;
	bool done;
	int result;
};

static void convert_done(struct blk_req *req, int result)
{
	struct convert_req *r = (struct convert_req *)req;

	r->done = true;
	r->result = result;
}

/* One request to completion. */
static int convert_io(struct blk_backend *b, enum blk_op op, uint64_t off, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct convert_req r = { .req = { .op = op, .offset = off, .iov = &iov, .iovcnt = 1,
					  .done = convert_done } };
	struct pollfd pf = { .fd = blk_backend_event_fd(b), .events = POLLIN };
	int err = blk_backend_submit(b, &r.req);

	if (err)
		return err;
	while (!r.done) {
		err = blk_backend_kick(b);
		if (err)
			return err;
		if (r.done)
			break;
		if (poll(&pf, 1, -1) < 0 && errno != EINTR)
			return -errno;
		blk_backend_complete(b);
	}
	return r.result;
}

static bool convert_is_zero(const uint8_t *p, size_t len)
{
	return !p[0] && !memcmp(p, p + 1, len - 1);
}

/* Redrawn only when the shown value changes (0.01% on a terminal,
 * whole percents into a log, which keeps every line). */
static void convert_progress(uint64_t done, uint64_t total, long *shown, long step)
{
	long now = total ? (long)(10000.0 * (double)done / (double)total) : 10000;

	now -= now % step;

	if (now == *shown)
		return;
	*shown = now;
	fprintf(stderr, "\r    (%ld.%02ld/100%%)", now / 100, now % 100);
	if (done == total)
		fprintf(stderr, "\n");
}

struct convert_dst {
	int fd;                        /* raw */
	struct blk_backend *b;         /* qcow2 */
};

static int convert_write(struct convert_dst *d, uint64_t off, uint8_t *buf, size_t len)
{
	if (d->b)
		return convert_io(d->b, BLK_OP_WRITE, off, buf, len);
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(d->fd, buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* The next run at off that is all zeros (any length) or all data (at
 * most one chunk), from the source chain's metadata. */
static int convert_extent(struct qcow2_image *img, uint64_t off, uint64_t *len, bool *zero)
{
	uint64_t n, max;
	bool z;
	int err = lqimg_map_zero(img, off, &n, zero);

	*len = 0;
	max = *zero ? img->size - off : CONVERT_CHUNK;
	while (!err) {
		*len += n;
		if (*len >= max)
			break;
		err = lqimg_map_zero(img, off + *len, &n, &z);
		if (z != *zero)
			break;
	}
	if (*len > max)
		*len = max;
	return err;
}

static int convert_copy(struct blk_backend *src, struct qcow2_image *img, struct convert_dst *d,
			bool progress)
{
	uint64_t size = blk_backend_size(src), len = 0;
	uint8_t *buf = malloc(CONVERT_CHUNK);
	int err = buf ? 0 : -ENOMEM;
	long shown = -1;
	bool zero = false;

	for (uint64_t off = 0; !err && off < size; off += len) {
		err = convert_extent(img, off, &len, &zero);
		if (!err && !len)
			err = -EIO; /* never loop in place */
		if (err)
			break;
		if (zero) {
			/* The new file reads as zeros there already. */
			if (progress)
				convert_progress(off + len, size, &shown, isatty(2) ? 1 : 100);
			continue;
		}
		err = convert_io(src, BLK_OP_READ, off, buf, len);
		for (size_t at = 0; !err && at < len; at += CONVERT_ZERO_BLOCK) {
			size_t n = len - at < CONVERT_ZERO_BLOCK ? len - at : CONVERT_ZERO_BLOCK;

			if (!convert_is_zero(buf + at, n))
				err = convert_write(d, off + at, buf + at, n);
		}
		if (progress)
			convert_progress(off + len, size, &shown, isatty(2) ? 1 : 100);
	}
	if (!err && d->b)
		err = convert_io(d->b, BLK_OP_FLUSH, 0, NULL, 0);
	if (!err && !d->b && fsync(d->fd) < 0)
		err = -errno;
	free(buf);
	return err;
}

static int convert_open_dst(const char *path, enum blk_format fmt, uint64_t size, unsigned bits,
			    struct convert_dst *d)
{
	struct blk_open_opts o = { .format = BLK_FORMAT_QCOW2, .queue_depth = 32 };
	int err;

	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	if (fmt == BLK_FORMAT_RAW) {
		d->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (d->fd < 0)
			return -errno;
		return ftruncate(d->fd, (off_t)size) < 0 ? -errno : 0;
	}
	err = qcow2_create(path, size, bits, NULL, NULL);
	return err ? err : blk_open(path, &o, &d->b);
}

/* DST is replaced: it must not be the source or any file of its chain. */
static bool convert_in_chain(const struct qcow2_image *img, const char *dst)
{
	struct stat st;

	if (stat(dst, &st))
		return false;
	for (; img; img = img->backing)
		if (img->dev == st.st_dev && img->ino == st.st_ino)
			return true;
	return false;
}

int lqimg_convert(int argc, char **argv)
{
	struct blk_open_opts so = { .read_only = true, .queue_depth = 32 };
	enum blk_format out = BLK_FORMAT_RAW;
	unsigned bits = QCOW2_CREATE_DEFAULT_CLUSTER_BITS;
	struct convert_dst d = { .fd = -1 };
	struct blk_backend *src = NULL;
	struct qcow2_image *img = NULL;
	bool progress = isatty(2);
	int c, err;

	optind = 1;
	while ((c = getopt(argc, argv, "pO:o:")) != -1) {
		if (c == 'p') {
			progress = true;
		} else if (c == 'O' && lqimg_parse_format(optarg, &out)) {
			fprintf(stderr, "lq-img convert: unknown output format '%s' (raw or qcow2)\n", optarg);
			return 1;
		} else if (c == 'o' && lqimg_parse_cluster_opt(optarg, &bits)) {
			fprintf(stderr, "lq-img convert: bad option '%s'\n", optarg);
			return 1;
		} else if (c == '?') {
			return 1;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "lq-img convert: expected SRC DST\n");
		return 1;
	}

	/* An administrator names the source: trust its header (and its
	 * backing file), as qemu-img does; blk_open's AUTO would not. */
	err = lqimg_probe(argv[optind], &so.format);
	if (!err)
		err = blk_open(argv[optind], &so, &src);
	/* A second, metadata-only view of the chain says where the zeros are. */
	if (!err)
		err = qcow2_image_open(argv[optind], true, 0, NULL, &img);
	if (err) {
		fprintf(stderr, "lq-img convert: cannot open '%s': %s\n", argv[optind], strerror(-err));
		blk_backend_close(src);
		return 1;
	}
	if (convert_in_chain(img, argv[optind + 1])) {
		fprintf(stderr, "lq-img convert: '%s' is '%s' or one of its backing files\n",
			argv[optind + 1], argv[optind]);
		qcow2_image_close(img);
		blk_backend_close(src);
		return 1;
	}
	err = convert_open_dst(argv[optind + 1], out, blk_backend_size(src), bits, &d);
	if (!err)
		err = convert_copy(src, img, &d, progress);
	qcow2_image_close(img);
	blk_backend_close(d.b);
	if (d.fd >= 0)
		close(d.fd);
	blk_backend_close(src);
	if (err) {
		/* A half-written copy looks like a good one: remove it. */
		fprintf(stderr, "lq-img convert: '%s' to '%s': %s\n", argv[optind], argv[optind + 1],
			strerror(-err));
		unlink(argv[optind + 1]);
	}
	return err ? 1 : 0;
}
