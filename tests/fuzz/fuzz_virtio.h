/* What the virtio device fuzz targets share: the mode byte picks the
 * queue size and the ring features, the body becomes the first 64 KiB
 * of guest RAM (rings, descriptors, buffers), and the device is made
 * live as a driver would leave it. Header only: each target is built by
 * meson's replay main and by tools/fuzz from its own file list. */
#ifndef LQ_TESTS_FUZZ_VIRTIO_H
#define LQ_TESTS_FUZZ_VIRTIO_H

#include <stdint.h>
#include <string.h>

#include "virtio/dev.h"
#include "vmm/guest_mem.h"

#define FUZZ_VIRTIO_WINDOW 0x10000

/* Loads the body into RAM and sets features and status (the caller
 * holds d->lock); returns the queue size, 1..128. Bit 3 of mode asks for
 * event idx, bit 4 for indirect descriptors. */
static inline uint16_t fuzz_virtio_start(struct virtio_dev *d, const struct guest_mem *mem,
					 uint8_t mode, const uint8_t *body, size_t len)
{
	uint8_t *ram = guest_mem_ptr(mem, 0, FUZZ_VIRTIO_WINDOW);

	memset(ram, 0, FUZZ_VIRTIO_WINDOW);
	memcpy(ram, body, len < FUZZ_VIRTIO_WINDOW ? len : FUZZ_VIRTIO_WINDOW);
	d->guest_features = 1ULL << VIRTIO_F_VERSION_1 |
			    (uint64_t)((mode >> 3) & 1) << VIRTIO_F_EVENT_IDX |
			    (uint64_t)((mode >> 4) & 1) << VIRTIO_F_INDIRECT_DESC;
	d->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK;
	return (uint16_t)(1u << (mode & 7));
}

#endif
