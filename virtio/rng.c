#include "virtio/rng.h"

#include <errno.h>
#include <sys/random.h>

#define VIRTIO_RNG_QUEUE_SIZE 256

/* Fills the chain's writable buffers; returns the bytes written. */
static uint32_t virtio_rng_fill(const struct virtq_elem *e)
{
	uint32_t done = 0;

	for (unsigned i = e->n_out; i < e->n_out + e->n_in; i++) {
		uint8_t *p = e->iov[i].iov_base;
		size_t left = e->iov[i].iov_len;

		while (left) {
			/* Non-blocking: early in the host's boot a short or
			 * EAGAIN answer just gives the guest fewer bytes. */
			ssize_t n = getrandom(p, left, GRND_NONBLOCK);

			if (n <= 0)
				return done;
			p += n;
			left -= (size_t)n;
			done += (uint32_t)n;
		}
	}
	return done;
}

static void virtio_rng_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_rng *r = d->opaque;
	struct virtq *vq = &d->vq[q];
	struct virtq_elem e;
	bool any = false;

	while (virtq_pop(vq, &e) == 1) {
		uint32_t n = virtio_rng_fill(&e);

		r->bytes += n;
		r->requests++;
		virtq_push(vq, e.head, n);
		any = true;
	}
	if (any)
		virtio_dev_used(d, q);
}

static const struct virtio_dev_ops virtio_rng_ops = { .queue_notify = virtio_rng_notify };

void virtio_rng_init(struct virtio_rng *r)
{
	virtio_dev_init(&r->dev, "virtio-rng", VIRTIO_ID_RNG, 0, 1, VIRTIO_RNG_QUEUE_SIZE, 0,
			&virtio_rng_ops, r);
	r->bytes = 0;
	r->requests = 0;
}
