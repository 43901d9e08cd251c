/* tests/guest: a minimal modern virtio-pci driver. Ring 0 finds the
 * device in PCI configuration space (port I/O, a few dozen accesses);
 * everything else (feature negotiation, queues, requests) runs in ring 3
 * against the memory BAR, polling the used ring: ring 3 is native speed
 * on PVM hosts, ring 0 is not. Queues live in the guest's identity-mapped
 * .bss, so their virtual and physical addresses are the same. */
#ifndef TG_VIRTIO_H
#define TG_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#define TG_VQ_SIZE 128

struct tg_vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct tg_vq {
	struct tg_vq_desc desc[TG_VQ_SIZE] __attribute__((aligned(16)));
	struct { uint16_t flags, idx, ring[TG_VQ_SIZE], used_event; } avail __attribute__((aligned(2)));
	struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[TG_VQ_SIZE];
		 uint16_t avail_event; } used __attribute__((aligned(4)));
	uint16_t last_used;
	uint16_t index;
	uint16_t size;             /* <= TG_VQ_SIZE: what the device allows */
	volatile uint16_t *notify;
};

struct tg_virtio {
	uint16_t device_id;        /* 0x1040 + virtio id */
	unsigned slot;
	volatile uint8_t *common, *isr, *device;
	uint64_t notify_base;
	uint32_t notify_mult;
	uint64_t features;         /* what the device offers */
	volatile uint32_t *msix;   /* MSI-X table (BAR0), NULL if none */
	unsigned msix_cap;
	unsigned cfg_cap;          /* VIRTIO_PCI_CAP_PCI_CFG, 0 if none */
	uint8_t common_bar;        /* where common and device config live */
	uint32_t common_off, device_off;
	uint16_t queue_vector;     /* given to queues at set-up; 0xffff none */
};

extern volatile uint64_t tg_virtio_irqs; /* MSI-X interrupts taken */

/* Ring 0: points MSI-X table entry 0 at this CPU's LAPIC (vector
 * TG_VEC_VIRTIO) and enables MSI-X; queues set up afterwards use it. */
bool tg_virtio_msix_enable(struct tg_virtio *d);

/* Ring 0: the first function with this PCI device id (0x1042 blk, ...)
 * after slot `from`; fills d from its capabilities. */
bool tg_virtio_find(uint16_t device_id, unsigned from, struct tg_virtio *d);

/* Ring 3 from here on. Resets, negotiates (VERSION_1 plus wanted, as far
 * as offered), returns the accepted features, or ~0 on failure. */
uint64_t tg_virtio_init(struct tg_virtio *d, uint64_t wanted);
bool tg_virtio_queue(struct tg_virtio *d, uint16_t index, struct tg_vq *q);
void tg_virtio_driver_ok(struct tg_virtio *d);
uint8_t tg_virtio_status(struct tg_virtio *d);
/* Kicks the device unless it said it needs no kick (VIRTQ_USED_F_NO_NOTIFY),
 * as drivers should: call after publishing avail->idx. */
static inline void tg_virtio_kick(struct tg_vq *q)
{
	/* The idx store must be visible before the flag is read, or a
	 * device that just stopped polling could miss this request. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(__atomic_load_n(&q->used.flags, __ATOMIC_RELAXED) & 1))
		*q->notify = q->index;
}

/* Posts a chain of n buffers (flags: 2 = device writes it) and waits for
 * the device to return it; returns the used length, or -1 on timeout. */
int64_t tg_virtio_xfer(struct tg_vq *q, const uint64_t *addr, const uint32_t *len,
		       const uint16_t *flags, unsigned n);

#endif
