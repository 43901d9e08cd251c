/* virtio-net transmit: guest chains -> tap, one writev each, the header
 * checked on a private copy. */
#include "virtio/net.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#include "common/log.h"
#include "common/iov.h"

#define VIRTIO_NET_TX_IOV 1024 /* the kernel's UIO_MAXIOV */
#define VIRTIO_NET_TX_BUDGET 256

static void virtio_net_tx_drop(struct virtio_net *n, const struct virtq_elem *e, const char *why)
{
	n->stats.tx_dropped++;
	if (!n->tx_drop_logged)
		log_warn("%s: dropped a transmit chain of %u bytes: %s (further drops are only "
			 "counted)", n->name, e->out_len, why);
	else
		log_debug("%s: dropped a transmit chain of %u bytes: %s", n->name, e->out_len, why);
	n->tx_drop_logged = true;
}

static void virtio_net_tx_one(struct virtio_net *n, int fd, const struct virtq_elem *e)
{
	struct iovec iov[VIRTIO_NET_TX_IOV];
	struct virtio_net_hdr h;
	const char *why;
	size_t frame;
	ssize_t w;
	int k;

	if (e->out_len < VIRTIO_NET_HDR_LEN) {
		n->stats.tx_bad_hdr++;
		virtio_net_tx_drop(n, e, "shorter than the 12-byte header");
		return;
	}
	iov_to_buf(e->iov, e->n_out, 0, &h, sizeof(h));
	frame = e->out_len - VIRTIO_NET_HDR_LEN;
	if (virtio_net_tx_check(&h, frame, n->dev.guest_features, &why)) {
		n->stats.tx_bad_hdr++;
		virtio_net_tx_drop(n, e, why);
		return;
	}
	h.num_buffers = 0;
	iov[0] = (struct iovec){ &h, sizeof(h) };
	k = iov_slice(e->iov, e->n_out, VIRTIO_NET_HDR_LEN, frame, &iov[1], VIRTIO_NET_TX_IOV - 1);
	if (k < 0) {
		virtio_net_tx_drop(n, e, "more than 1023 buffers");
		return;
	}
	w = writev(fd, iov, k + 1);
	if (w < 0) {
		/* EAGAIN included: a tap does not push back, so a full one
		 * loses the frame, as a wire would. */
		virtio_net_tx_drop(n, e, strerror(errno));
		return;
	}
	n->stats.tx_packets++;
	n->stats.tx_bytes += frame;
}

void virtio_net_tx(struct virtio_net_pair *p)
{
	struct virtio_net *n = p->net;
	unsigned q = 2 * p->idx + 1;
	struct virtq *vq = &n->dev.vq[q];
	/* A pair not in use has its tap queue detached: pair 0's takes it. */
	int fd = p->attached ? p->tap_fd : n->pair[0].tap_fd;
	unsigned done = 0;

	/* Drain, then re-enable kicks and look again (see virtio/blk.c);
	 * a guest that keeps the queue full gets a budget per pass, the
	 * rest from again_efd, so other devices get the event loop too. */
	p->tx_again = false;
	do {
		virtq_disable_notify(vq);
		while (done < VIRTIO_NET_TX_BUDGET && virtq_pop(vq, n->elem) == 1) {
			virtio_net_tx_one(n, fd, n->elem);
			virtq_push(vq, n->elem->head, 0);
			done++;
		}
		if (done == VIRTIO_NET_TX_BUDGET) {
			p->tx_again = true;
			eventfd_write(n->again_efd, 1);
			break;
		}
	} while (!vq->broken && virtq_enable_notify(vq));
	if (done)
		virtio_dev_used(&n->dev, q);
}
