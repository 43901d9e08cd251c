/* virtio/virtq: the device side of a split virtqueue (virtio 1.2, 2.7).
 *
 * The rings live in guest memory and the guest is hostile: every index,
 * address and length it writes is checked here, through guest_mem_ptr,
 * before it is used. The first malformed chain marks the queue broken
 * (the device then goes NEEDS_RESET); nothing is read or written outside
 * guest RAM, and no chain is walked further than the spec allows (so a
 * loop in the descriptors ends the walk).
 *
 * A buffer must lie inside one RAM region: one that straddles the end of
 * low RAM and the 4 GiB boundary cannot exist (there is a hole between),
 * and one that runs off the end of RAM is malformed.
 *
 * Threads: one thread at a time per queue (the device holds its lock);
 * ring fields shared with vCPUs are read and written with atomics. */
#ifndef LQ_VIRTIO_VIRTQ_H
#define LQ_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define VIRTQ_MAX_SIZE 32768
#define VIRTQ_MAX_IOV 1024  /* buffers per chain */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct guest_mem;

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq {
	const struct guest_mem *mem;
	uint16_t size;
	bool ready;
	bool broken;
	bool event_idx, indirect;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;   /* host pointers, checked at enable */
	uint16_t *avail;           /* flags, idx, ring[size], used_event */
	uint16_t *used;            /* flags, idx, then {u32 id, u32 len}[size], avail_event */
	uint16_t last_avail;       /* next avail entry to take */
	uint16_t used_idx;         /* next used entry to fill */
	uint16_t signalled_used;   /* used_idx at the last interrupt */
	bool signalled_valid;
};

struct virtq_elem {
	uint16_t head;
	unsigned n_out, n_in;      /* device-readable iovecs first, then writable */
	uint32_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_IOV];
};

/* Checks size (power of two, 1..32768), alignment (16/2/4) and that all
 * three rings are in guest RAM; resolves host pointers. -EINVAL if not. */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc,
		 uint64_t avail, uint64_t used, bool event_idx, bool indirect);
void virtq_reset(struct virtq *vq);
/* 1: e holds the next chain; 0: nothing available; -EINVAL / -ENOSPC:
 * malformed chain or avail index (vq->broken is set, the reason logged). */
int virtq_pop(struct virtq *vq, struct virtq_elem *e);
/* Hands chain head back with `written` bytes written to its buffers. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t written);
/* After pushes: whether the driver wants an interrupt now. */
bool virtq_should_notify(struct virtq *vq);
/* Kick suppression while the device drains the queue... */
void virtq_disable_notify(struct virtq *vq);
/* ...and back on; true if buffers came in meanwhile (drain again). */
bool virtq_enable_notify(struct virtq *vq);

#endif
