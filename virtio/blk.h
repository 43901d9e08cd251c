/* virtio/blk: the virtio block device (virtio 1.2, 5.2) on a block
 * backend (block/blk_backend.h): read, write, flush, get-id, discard and
 * write-zeroes over several request queues. Requests go to the backend
 * asynchronously in batches; completions arrive on the event loop. A
 * request the device cannot do ends with IOERR or UNSUPP, never hangs. */
#ifndef LQ_VIRTIO_BLK_H
#define LQ_VIRTIO_BLK_H

#include "virtio/dev.h"
#include "vmm/config.h"

#define VIRTIO_BLK_SEG_MAX 126   /* data segments per request */
#define VIRTIO_BLK_QUEUE_SIZE 256
#define VIRTIO_BLK_CONFIG_SIZE 60

struct blk_backend;
struct virtio_blk_req;

struct virtio_blk_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids;
	uint64_t read_bytes, write_bytes, errors;
};

struct virtio_blk {
	struct virtio_dev dev;
	struct blk_backend *be;
	char name[24];
	char serial[DISK_SERIAL_MAX + 1];
	uint64_t capacity;          /* 512-byte sectors */
	bool read_only;
	uint64_t gen;               /* bumped by reset: stale completions are dropped */
	struct virtio_blk_req *free_reqs;
	unsigned inflight;
	bool touched[VIRTIO_MAX_QUEUES];
	struct virtq_elem elem;     /* the chain being parsed (under dev.lock) */
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
	struct virtio_blk_stats stats;
};

/* Opens the disk (raw image or block device) and prepares the device
 * with nr_queues request queues. The caller attaches a transport and
 * then calls virtio_blk_start to hook completions into the event loop. */
int virtio_blk_create(const struct disk_config *dc, unsigned index, unsigned nr_queues,
		      struct virtio_blk **out);
int virtio_blk_start(struct virtio_blk *b);
void virtio_blk_destroy(struct virtio_blk *b);

#endif
