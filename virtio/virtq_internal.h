/* virtio/virtq internals: ring field locations, the chain walker and
 * failure reporting, shared by virtq.c, virtq_chain.c and virtq_notify.c. */
#ifndef LQ_VIRTIO_VIRTQ_INTERNAL_H
#define LQ_VIRTIO_VIRTQ_INTERNAL_H

#include "virtio/virtq.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtq reads the little-endian rings of virtio 1.x natively"
#endif

/* Ring fields, by the layout of 2.7.6 and 2.7.8 (16-bit units). */
static inline uint16_t *virtq_avail_flags(const struct virtq *vq) { return &vq->avail[0]; }
static inline uint16_t *virtq_avail_idx(const struct virtq *vq) { return &vq->avail[1]; }
static inline uint16_t *virtq_avail_ring(const struct virtq *vq, uint16_t i)
{
	return &vq->avail[2 + (i & (vq->size - 1))];
}
static inline uint16_t *virtq_used_event(const struct virtq *vq) { return &vq->avail[2 + vq->size]; }
static inline uint16_t *virtq_used_flags(const struct virtq *vq) { return &vq->used[0]; }
static inline uint16_t *virtq_used_idx(const struct virtq *vq) { return &vq->used[1]; }
/* used ring entry i: {u32 id, u32 len}; 4-aligned as used_gpa is. */
static inline uint32_t *virtq_used_elem(const struct virtq *vq, uint16_t i)
{
	return (uint32_t *)&vq->used[2] + 2 * (i & (vq->size - 1));
}
static inline uint16_t *virtq_avail_event(const struct virtq *vq) { return &vq->used[2 + 4 * vq->size]; }

/* Marks the queue broken and, the first time, logs why (printf-style,
 * prefixed with the queue's name). */
void virtq_fail(struct virtq *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Collects the chain at head (< size) into e: 1, or -EINVAL/-ENOSPC (broken). */
int virtq_walk(struct virtq *vq, uint16_t head, struct virtq_elem *e);

#endif
