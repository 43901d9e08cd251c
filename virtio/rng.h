/* virtio/rng: entropy for the guest from the host's getrandom(). */
#ifndef LQ_VIRTIO_RNG_H
#define LQ_VIRTIO_RNG_H

#include "virtio/dev.h"

struct virtio_rng {
	struct virtio_dev dev;
	uint64_t bytes; /* handed to the guest */
	uint64_t requests; /* buffers filled */
};

void virtio_rng_init(struct virtio_rng *r);

#endif
