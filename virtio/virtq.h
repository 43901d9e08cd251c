/* virtio/virtq: the device side of a split virtqueue (virtio 1.2, 2.7).
 *
 * The rings live in guest memory and the guest is hostile: every index,
 * address and length it writes is checked here, through guest_mem_ptr,
 * before it is used, and each descriptor is copied once and only the copy
 * is trusted (the guest may rewrite it meanwhile). The first malformed
 * chain or avail index marks the queue broken and logs why, once (queue,
 * chain head, descriptor, what is wrong); from then on virtq_pop returns
 * -EINVAL without reading the rings, and the device must go NEEDS_RESET.
 * Nothing is read or written outside guest RAM and no walk is longer than
 * the spec allows, so a loop in the descriptors ends the walk.
 *
 * What virtq_pop refuses (vq->broken set, -EINVAL unless said):
 *  - avail->idx more than `size` entries ahead of last_avail (or behind);
 *  - a head or a `next` index >= size; a chain of more than `size`
 *    descriptors (it loops);
 *  - INDIRECT when VIRTIO_F_INDIRECT_DESC was not negotiated, together
 *    with NEXT, anywhere but as the only descriptor of its chain, or with
 *    a table length of 0, not a multiple of 16 or above 16 * 32768;
 *    INDIRECT inside an indirect table; an indirect `next` past the
 *    table's len/16 entries, or more than len/16 entries walked (a loop);
 *  - a device-readable buffer after a device-writable one;
 *  - a buffer (or indirect table) not entirely inside ONE guest RAM
 *    region: a range that runs past the end of RAM, into the 32-bit hole,
 *    or overflows uint64 is malformed. Buffers are never split: the low
 *    and high RAM regions are not adjacent in guest-physical space (the
 *    hole lies between), so a range over the 3 GiB boundary always
 *    touches the hole;
 *  - a chain whose buffers total 4 GiB or more (spec 2.7.5: < 2^32);
 *  - more than VIRTQ_MAX_IOV non-empty buffers: -ENOSPC.
 * Zero-length descriptors are allowed (their address is not checked) and
 * produce no iovec. An indirect table needs no particular alignment; the
 * WRITE flag of the descriptor that points to it is ignored (2.7.5.3.2).
 *
 * Memory ordering: avail->idx is loaded with acquire before ring entries
 * and descriptors are read; a used entry is stored before used->idx is
 * published with release; notification decisions put a full fence between
 * our store (used->idx, or the "kick me" flag/avail_event) and the load of
 * the driver's side (flags/used_event, or avail->idx).
 *
 * Threads: one thread at a time per queue (the device holds its lock).
 * Host byte order must be little-endian (the rings are, in virtio 1.x). */
#ifndef LQ_VIRTIO_VIRTQ_H
#define LQ_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#define VIRTQ_MAX_SIZE 32768
#define VIRTQ_MAX_IOV 1024  /* non-empty buffers per chain */

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct guest_mem;

/* The descriptor layout in guest memory (16 bytes). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq {
	/* Identity for messages; set by virtq_set_label, kept across
	 * virtq_reset and virtq_enable. NULL owner: named by its ring address. */
	const char *owner;
	unsigned index;

	const struct guest_mem *mem;
	uint16_t size;             /* power of two, 1..32768 */
	bool ready;
	bool broken;               /* first malformed chain: device needs a reset */
	bool event_idx, indirect;  /* VIRTIO_F_EVENT_IDX / _INDIRECT_DESC negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	struct virtq_desc *desc;   /* host pointers, checked at enable */
	uint16_t *avail;           /* flags, idx, ring[size], used_event */
	uint16_t *used;            /* flags, idx, then {u32 id, u32 len}[size], avail_event */
	uint16_t last_avail;       /* next avail entry to take */
	uint16_t used_idx;         /* next used entry to fill (shadow of used->idx) */
	uint16_t signalled_used;   /* used_idx when should_notify last looked */
	bool signalled_valid;      /* false: the next should_notify says yes */
	bool polling;              /* kicks suppressed while the loop polls */
};

/* One request: its buffers as host iovecs, device-readable first. */
struct virtq_elem {
	uint16_t head;
	unsigned n_out, n_in;      /* iov[0..n_out) readable, then n_in writable */
	uint32_t out_len, in_len;  /* bytes; out_len + in_len < 2^32 */
	struct iovec iov[VIRTQ_MAX_IOV];
};

/* Names the queue in messages ("virtio-blk0 queue 1"); owner must outlive it. */
void virtq_set_label(struct virtq *vq, const char *owner, unsigned index);
/* Checks size (power of two, 1..32768), alignment (desc 16, avail 2,
 * used 4) and that each ring, event fields included, lies in guest RAM;
 * resolves host pointers once (guest RAM never moves). -EINVAL if not, and
 * the queue stays disabled. The indices start at the used ring's idx as
 * found (0 in the zeroed rings drivers must provide, 4.1.5.1.3), so rings
 * that were saved and restored with guest memory carry on. */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem, uint16_t size, uint64_t desc,
		 uint64_t avail, uint64_t used, bool event_idx, bool indirect);
/* Back to disabled, not broken; keeps the label. */
void virtq_reset(struct virtq *vq);
/* Whether the driver has made buffers available that virtq_pop would
 * take (false for a queue that is not ready or broken). Cheap: one
 * load of avail->idx, for polling. */
bool virtq_has_avail(const struct virtq *vq);
/* 1: e holds the next chain; 0: nothing available (or not enabled);
 * -EINVAL / -ENOSPC: malformed (see above), vq->broken set, reason logged
 * once. With event_idx, also sets avail_event to the new last_avail
 * (unless polling). */
int virtq_pop(struct virtq *vq, struct virtq_elem *e);
/* Hands chain `head` back with `written` bytes written to its writable
 * buffers. head must come from virtq_pop on this queue since its enable;
 * allowed on a broken queue (completes work popped before it broke). */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t written);
/* After a batch of pushes: whether the driver wants an interrupt now
 * (not VIRTQ_AVAIL_F_NO_INTERRUPT; with event_idx, used->idx passed
 * used_event since the last call). Call once per batch: it records it. */
bool virtq_should_notify(struct virtq *vq);
/* Kick suppression while the device drains the queue (VIRTQ_USED_F_NO_NOTIFY;
 * with event_idx, avail_event already trails last_avail, which asks for
 * no kick while the driver is ahead)... */
void virtq_disable_notify(struct virtq *vq);
/* ...and asking for kicks again before sleeping; true if buffers came in
 * meanwhile (drain again). False on a broken or disabled queue. */
bool virtq_enable_notify(struct virtq *vq);
/* While the event loop polls the queue (virtq_has_avail), the driver
 * need not kick: kicks stay suppressed (virtq_enable_notify keeps them
 * off and only says whether buffers wait) until polling stops, which
 * asks for kicks again and returns true if buffers came in meanwhile.
 * Saves the driver an exit per request. virtq_enable/reset end it. */
void virtq_poll_start(struct virtq *vq);
bool virtq_poll_stop(struct virtq *vq);

#endif
