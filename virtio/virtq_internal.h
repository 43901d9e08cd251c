/* virtio/virtq internals: the chain walker and failure reporting. */
#ifndef LQ_VIRTIO_VIRTQ_INTERNAL_H
#define LQ_VIRTIO_VIRTQ_INTERNAL_H

#include "common/log.h"
#include "virtio/virtq.h"

/* Marks the queue broken and logs why (once). */
void virtq_fail(struct virtq *vq, const char *why, unsigned a, unsigned b);
/* Collects the chain at head into e: 1, or -EINVAL/-ENOSPC (broken). */
int virtq_walk(struct virtq *vq, uint16_t head, struct virtq_elem *e);

#endif
