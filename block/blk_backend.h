/* block/blk_backend: the one interface every disk backend (raw, qcow2)
 * implements for the virtio-blk device.
 *
 * Everything is asynchronous and single-threaded: the event-loop thread
 * submits requests (queued, not yet in the kernel), kicks once per batch,
 * and when the backend's eventfd is readable reaps completions, which
 * call each request's done() with 0 or -errno. A request that cannot
 * even start (read-only disk, range past the end) also completes through
 * done(), from the next blk_backend_complete() call, so the device has
 * exactly one completion path. Requests are never refused for lack of
 * ring space: they wait in the backend until there is room. */
#ifndef LQ_BLOCK_BLK_BACKEND_H
#define LQ_BLOCK_BLK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_DISCARD, BLK_OP_WRITE_ZEROES };

struct blk_req {
	enum blk_op op;
	uint64_t offset;            /* bytes */
	uint64_t len;               /* DISCARD / WRITE_ZEROES */
	const struct iovec *iov;    /* READ / WRITE */
	unsigned iovcnt;
	bool unmap;                 /* WRITE_ZEROES may deallocate */
	void (*done)(struct blk_req *req, int result);
	/* backend-private */
	struct blk_req *next;
	uint64_t done_bytes;        /* progress of a short read/write */
	struct iovec *rest;         /* what is left of iov after a short transfer */
	int result;
};

/* BLK_FORMAT_AUTO probes the file's first bytes; see blk_open. */
enum blk_format { BLK_FORMAT_AUTO, BLK_FORMAT_RAW, BLK_FORMAT_QCOW2 };

struct blk_open_opts {
	enum blk_format format;
	bool read_only;
	bool direct;                /* O_DIRECT */
	unsigned queue_depth;       /* ring entries, e.g. 128 */
};

struct blk_backend;

struct blk_backend_ops {
	int (*submit)(struct blk_backend *b, struct blk_req *req);
	int (*kick)(struct blk_backend *b);
	int (*complete)(struct blk_backend *b);
	void (*close)(struct blk_backend *b);
	/* Completions wait to be reaped: a look at memory, no system call
	 * (for the event loop's poller). */
	bool (*pending)(struct blk_backend *b);
};

struct blk_backend {
	const struct blk_backend_ops *ops;
	uint64_t size;              /* bytes */
	uint32_t block_size;        /* logical block size */
	bool read_only;
	int event_fd;               /* readable when completions wait */
};

/* Raw image file or block device; a clear message on failure. */
int blk_raw_open(const char *path, const struct blk_open_opts *o, struct blk_backend **out);
/* qcow2 image (v2 or v3) with its backing chain; a clear message on failure. */
int blk_qcow2_open(const char *path, const struct blk_open_opts *o, struct blk_backend **out);
/* Opens path with the backend o->format names, or with AUTO the one its
 * first bytes say (qcow2 magic, else raw). A probed qcow2 image with a
 * backing file is refused: a guest that can write a raw disk can forge
 * such a header and name any host file as its backing; format=qcow2
 * trusts the header. */
int blk_open(const char *path, const struct blk_open_opts *o, struct blk_backend **out);

static inline uint64_t blk_backend_size(const struct blk_backend *b) { return b->size; }
static inline bool blk_backend_read_only(const struct blk_backend *b) { return b->read_only; }
static inline uint32_t blk_backend_block_size(const struct blk_backend *b) { return b->block_size; }
static inline int blk_backend_event_fd(const struct blk_backend *b) { return b->event_fd; }
static inline int blk_backend_submit(struct blk_backend *b, struct blk_req *r) { return b->ops->submit(b, r); }
static inline int blk_backend_kick(struct blk_backend *b) { return b->ops->kick(b); }
static inline int blk_backend_complete(struct blk_backend *b) { return b->ops->complete(b); }
static inline bool blk_backend_pending(struct blk_backend *b) { return b->ops->pending(b); }
static inline void blk_backend_close(struct blk_backend *b) { if (b) b->ops->close(b); }

#endif
