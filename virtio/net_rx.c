/* virtio-net receive: tap -> guest receive buffers, one readv per frame
 * straight into guest memory. */
#include "virtio/net.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/iov.h"

/* Frames per pass before the event loop gets a turn (the rest go on
 * from again_efd), and frames between interrupts within a pass. */
#define VIRTIO_NET_RX_BUDGET 256
#define VIRTIO_NET_RX_SIGNAL_EVERY 64

static struct virtq *virtio_net_rx_vq(struct virtio_net_pair *p)
{
	return &p->net->dev.vq[2 * p->idx];
}

/* Takes a frame the driver may see: filter, checksum flags, used ring. */
static bool virtio_net_rx_deliver(struct virtio_net_pair *p, size_t len)
{
	struct virtio_net *n = p->net;
	struct virtio_net_rxq *r = &p->rxq;
	uint8_t dst[6];

	iov_to_buf(r->iov, r->n_iov, VIRTIO_NET_HDR_LEN, dst, sizeof(dst));
	if (virtio_has_feature(&n->dev, VIRTIO_NET_F_CTRL_RX) &&
	    !virtio_net_filter_accept(&n->filter, n->mac, dst)) {
		n->stats.rx_filtered++; /* its buffers take the next frame */
		return false;
	}
	if (!virtio_has_feature(&n->dev, VIRTIO_NET_F_GUEST_CSUM)) {
		/* The tap may mark frames DATA_VALID; without GUEST_CSUM
		 * the spec wants the flags zero. */
		uint8_t zero = 0;

		iov_from_buf(r->iov, r->n_iov, 0, &zero, 1);
	}
	virtio_net_rxq_commit(r, len);
	n->stats.rx_packets++;
	n->stats.rx_bytes += len - VIRTIO_NET_HDR_LEN;
	return true;
}

/* One frame from the tap; 1 read (delivered or not), 0 nothing there or
 * no buffers (rx_starved set), -1 stop for now. */
static int virtio_net_rx_one(struct virtio_net_pair *p, bool mergeable)
{
	struct virtio_net *n = p->net;
	struct virtq *vq = virtio_net_rx_vq(p);
	struct virtio_net_rxq *r = &p->rxq;
	ssize_t len;
	unsigned cnt;

	if (virtio_net_rxq_fill(r, n->elem) < 0)
		return -1;
	/* The tap truncates a frame that does not fit and the rest is
	 * lost, so read only with room for the largest frame (or with all
	 * the chains a queue can give). */
	if (mergeable ? r->bytes < n->rx_need && r->count < virtio_net_rxq_limit(r) : !r->count) {
		/* Ask for a kick, then look once more: buffers posted in
		 * between would otherwise wait for one. */
		if (virtq_enable_notify(vq)) {
			virtq_disable_notify(vq);
			return 1;
		}
		p->rx_starved = true;
		n->stats.rx_starved++;
		return 0;
	}
	cnt = virtio_net_rxq_prepare(r, mergeable, n->rx_need);
	len = readv(p->tap_fd, r->iov, (int)cnt);
	if (len < 0) {
		if (errno == EINTR)
			return 1;
		if (errno == EAGAIN) {
			n->stats.rx_eagain++;
			return 0;
		}
		if (errno == EFAULT || errno == EINVAL) {
			/* Buffers the kernel could not write (or shorter than
			 * the header): the frame is gone, they stay for the
			 * next one. */
			n->stats.rx_dropped++;
			return 1;
		}
		if (!n->rx_error_logged)
			log_warn("%s: reading the tap: %s", n->name, strerror(errno));
		n->rx_error_logged = true;
		return -1;
	}
	if ((size_t)len < VIRTIO_NET_HDR_LEN + VIRTIO_NET_ETH_HLEN) {
		n->stats.rx_dropped++;
		return 1;
	}
	if ((size_t)len > r->iov_bytes) {
		/* Cut short by the tap (it says how long the frame was):
		 * a guest must not see part of a frame. */
		n->stats.rx_dropped++;
		n->stats.rx_truncated++;
		return 1;
	}
	virtio_net_rx_deliver(p, (size_t)len);
	return 1;
}

void virtio_net_rx(struct virtio_net_pair *p)
{
	struct virtio_net *n = p->net;
	struct virtq *vq = virtio_net_rx_vq(p);
	unsigned q = 2 * p->idx;
	bool mergeable = virtio_has_feature(&n->dev, VIRTIO_NET_F_MRG_RXBUF);
	uint16_t before = vq->used_idx;
	unsigned pass = 0;
	int r = 1;

	if (!vq->ready || p->rx_starved || !p->attached || p->idx >= n->pairs)
		return;
	while (pass < VIRTIO_NET_RX_BUDGET && (r = virtio_net_rx_one(p, mergeable)) == 1) {
		if (++pass % VIRTIO_NET_RX_SIGNAL_EVERY == 0 && vq->used_idx != before) {
			virtio_dev_used(&n->dev, q);
			before = vq->used_idx;
		}
	}
	if (vq->used_idx != before)
		virtio_dev_used(&n->dev, q);
	if (vq->broken)
		virtio_dev_fail(&n->dev, "malformed descriptor chain");
	else if (r == 1) {
		p->rx_again = true;
		eventfd_write(n->again_efd, 1); /* budget spent: the tap is edge-triggered */
	}
}
