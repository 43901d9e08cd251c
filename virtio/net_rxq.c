/* The receive chains virtio-net holds between popping them and filling
 * them: a frame's size is known only after the read, so the device holds
 * enough buffers for the largest frame first, reads, and completes only
 * the chains the frame used; the rest wait for the next frame.
 * It takes every chain the driver makes available at once: available
 * receive buffers are not work, and a ring left with some would look
 * like work forever to the event loop's poller (virtio/pci.c). */
#include "virtio/net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/iov.h"

int virtio_net_rxq_init(struct virtio_net_rxq *r, struct virtq *vq, unsigned cap)
{
	memset(r, 0, sizeof(*r));
	r->buf = calloc(cap, sizeof(*r->buf));
	if (!r->buf)
		return -ENOMEM;
	r->vq = vq;
	r->cap = cap;
	return 0;
}

void virtio_net_rxq_free(struct virtio_net_rxq *r)
{
	free(r->buf);
	r->buf = NULL;
}

void virtio_net_rxq_clear(struct virtio_net_rxq *r)
{
	r->first = r->count = 0;
	r->bytes = 0;
	r->n_iov = r->n_chains = 0;
	r->iov_bytes = 0;
}

static struct virtio_net_rxbuf *virtio_net_rxq_at(struct virtio_net_rxq *r, unsigned i)
{
	return &r->buf[(r->first + i) % r->cap];
}

/* Keeps the writable part of a popped chain (a readable part on a
 * receive queue is the driver's mistake and is ignored). */
static void virtio_net_rxq_keep(struct virtio_net_rxq *r, const struct virtq_elem *e)
{
	struct virtio_net_rxbuf *b = virtio_net_rxq_at(r, r->count);
	unsigned n = e->n_in < VIRTIO_NET_RXBUF_IOV ? e->n_in : VIRTIO_NET_RXBUF_IOV;

	b->head = e->head;
	b->n_iov = n;
	b->len = 0;
	for (unsigned i = 0; i < n; i++) {
		b->iov[i] = e->iov[e->n_out + i];
		b->len += (uint32_t)b->iov[i].iov_len;
	}
	r->bytes += b->len;
	r->count++;
}

unsigned virtio_net_rxq_limit(const struct virtio_net_rxq *r)
{
	return r->vq->size < r->cap ? r->vq->size : r->cap;
}

int virtio_net_rxq_fill(struct virtio_net_rxq *r, struct virtq_elem *scratch)
{
	while (r->count < virtio_net_rxq_limit(r)) {
		int got = virtq_pop(r->vq, scratch);

		if (got < 0)
			return got;
		if (got == 0)
			break;
		if (scratch->in_len == 0) {
			/* Nowhere to write even a header: hand it back empty;
			 * the driver drops a frame shorter than its header. */
			virtq_push(r->vq, scratch->head, 0);
			r->empty_chains++;
			continue;
		}
		virtio_net_rxq_keep(r, scratch);
	}
	return 0;
}

unsigned virtio_net_rxq_prepare(struct virtio_net_rxq *r, bool mergeable, size_t need)
{
	unsigned chains = mergeable ? r->count : (r->count ? 1 : 0);

	r->n_iov = r->n_chains = 0;
	r->iov_bytes = 0;
	/* Only as many as the largest frame needs: the kernel walks (and
	 * copies in) every iovec it is given. */
	for (unsigned i = 0; i < chains && r->iov_bytes < need; i++) {
		struct virtio_net_rxbuf *b = virtio_net_rxq_at(r, i);

		/* Whole chains only, so a frame never ends in one we
		 * could not describe. */
		if (r->n_iov + b->n_iov > VIRTIO_NET_RX_IOV)
			break;
		memcpy(&r->iov[r->n_iov], b->iov, b->n_iov * sizeof(struct iovec));
		r->n_iov += b->n_iov;
		r->iov_bytes += b->len;
		r->n_chains++;
	}
	return r->n_iov;
}

unsigned virtio_net_rxq_commit(struct virtio_net_rxq *r, size_t n)
{
	size_t left = n;
	uint16_t used = 0;

	/* Chains the frame reaches: all of the first ones, part of the last. */
	for (unsigned i = 0; i < r->n_chains && left; i++) {
		uint32_t len = virtio_net_rxq_at(r, i)->len;

		left -= left < len ? left : len;
		used++;
	}
	if (!used)
		return 0;
	/* num_buffers: offset 10 of the header, which may itself be split
	 * over buffers (only a careless driver does that). */
	iov_from_buf(r->iov, r->n_iov, 10, &used, sizeof(used));
	left = n;
	for (unsigned i = 0; i < used; i++) {
		struct virtio_net_rxbuf *b = virtio_net_rxq_at(r, 0);
		uint32_t len = left < b->len ? (uint32_t)left : b->len;

		virtq_push(r->vq, b->head, len);
		left -= len;
		r->bytes -= b->len;
		r->first = (r->first + 1) % r->cap;
		r->count--;
	}
	r->n_iov = r->n_chains = 0;
	r->iov_bytes = 0;
	return used;
}
