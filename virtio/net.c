/* virtio-net device glue: features, configuration space, queue pairs,
 * activation and reset, the tap and budget callbacks of the event loop. */
#include "virtio/net.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "net/tap.h"
#include "vmm/event_loop.h"

#define VIRTIO_NET_S_LINK_UP 1

static bool virtio_net_active(const struct virtio_net *n)
{
	return (n->dev.status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(n->dev.status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Where the control queue is depends on what was negotiated (5.1.2). */
static unsigned virtio_net_ctrl_queue(const struct virtio_net *n)
{
	return virtio_has_feature(&n->dev, VIRTIO_NET_F_MQ) ? 2 * n->max_pairs : 2;
}

/* Receive buffers posted: after starving, read again (quietly from now
 * on); otherwise only take them (see net_rxq.c: the poller). */
static void virtio_net_rx_notify(struct virtio_net_pair *p)
{
	struct virtq *vq = &p->net->dev.vq[2 * p->idx];

	if (p->rx_starved && p->idx < p->net->pairs) {
		p->rx_starved = false;
		virtq_disable_notify(vq);
		virtio_net_rx(p);
	} else {
		virtio_net_rxq_fill(&p->rxq, p->net->elem);
	}
}

/* A queue the negotiated features give no use: its chains come back
 * empty, so they are not left looking like work to the poller. */
static void virtio_net_discard(struct virtio_net *n, unsigned q)
{
	bool any = false;

	while (virtq_pop(&n->dev.vq[q], n->elem) == 1) {
		virtq_push(&n->dev.vq[q], n->elem->head, 0);
		any = true;
	}
	if (any)
		virtio_dev_used(&n->dev, q);
}

static void virtio_net_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = d->opaque;

	if (q == virtio_net_ctrl_queue(n)) {
		if (virtio_has_feature(d, VIRTIO_NET_F_CTRL_VQ))
			virtio_net_ctrl(n, q);
		else
			virtio_net_discard(n, q);
		return;
	}
	if (q / 2 >= n->max_pairs || (q > 2 && !virtio_has_feature(d, VIRTIO_NET_F_MQ))) {
		virtio_net_discard(n, q);
		return;
	}
	if (q % 2 == 0)
		virtio_net_rx_notify(&n->pair[q / 2]);
	else
		virtio_net_tx(&n->pair[q / 2]);
}

/* A pair's tap queue has new frames (edge-triggered). */
static void virtio_net_tap_ready(void *opaque, uint32_t events)
{
	struct virtio_net_pair *p = opaque;

	(void)events;
	pthread_mutex_lock(&p->net->dev.lock);
	if (virtio_net_active(p->net))
		virtio_net_rx(p);
	pthread_mutex_unlock(&p->net->dev.lock);
}

/* Passes that hit their budget go on here, after other events. */
static void virtio_net_again(void *opaque, uint32_t events)
{
	struct virtio_net *n = opaque;
	eventfd_t v;

	(void)events;
	if (eventfd_read(n->again_efd, &v) < 0)
		return;
	pthread_mutex_lock(&n->dev.lock);
	for (unsigned i = 0; i < n->max_pairs && virtio_net_active(n); i++) {
		struct virtio_net_pair *p = &n->pair[i];

		if (p->tx_again && n->dev.vq[2 * i + 1].ready)
			virtio_net_tx(p);
		if (p->rx_again) {
			p->rx_again = false;
			virtio_net_rx(p);
		}
	}
	pthread_mutex_unlock(&n->dev.lock);
}

int virtio_net_set_pairs(struct virtio_net *n, unsigned k)
{
	if (k < 1 || k > n->max_pairs)
		return -EINVAL;
	for (unsigned i = 0; i < n->max_pairs; i++) {
		struct virtio_net_pair *p = &n->pair[i];
		bool on = i < k;

		/* A single-queue tap has nothing to steer. */
		if (n->max_pairs > 1 && on != p->attached && tap_queue_enable(p->tap_fd, on))
			return -EIO;
		p->attached = on;
	}
	n->pairs = k;
	for (unsigned i = 0; i < k && virtio_net_active(n); i++) {
		n->pair[i].rx_starved = false;
		virtq_disable_notify(&n->dev.vq[2 * i]);
		virtio_net_rx(&n->pair[i]); /* frames may have waited */
	}
	return 0;
}

/* Without the offloads it agreed to, the kernel segments and checksums
 * frames for the guest; a failure leaves them off (slower, still right).
 * With mergeable buffers, reading waits for enough of them for the
 * largest frame the tap can hand over: 64 KiB with receive offloads,
 * else the MTU plus Ethernet and VLAN headers. */
static int virtio_net_activate(struct virtio_dev *d)
{
	struct virtio_net *n = d->opaque;
	unsigned offloads = virtio_net_tun_offloads(d->guest_features);
	int mtu = tap_get_mtu(n->pair[0].tap_fd);

	for (unsigned i = 0; i < n->max_pairs; i++)
		tap_set_offload(n->pair[i].tap_fd, offloads);
	n->rx_need = VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME;
	if (!(offloads & ~TUN_F_CSUM) && mtu > 0 && mtu < VIRTIO_NET_MAX_FRAME - 18)
		n->rx_need = VIRTIO_NET_HDR_LEN + 18 + (size_t)mtu;
	return virtio_net_set_pairs(n, 1);
}

static void virtio_net_reset(struct virtio_dev *d)
{
	struct virtio_net *n = d->opaque;

	for (unsigned i = 0; i < n->max_pairs; i++) {
		struct virtio_net_pair *p = &n->pair[i];

		virtio_net_rxq_clear(&p->rxq);
		p->rx_starved = true;
		p->tx_again = p->rx_again = false;
		tap_set_offload(p->tap_fd, 0);
		/* Until the driver says otherwise, frames go to pair 0. */
		if (n->max_pairs > 1)
			tap_queue_enable(p->tap_fd, i == 0);
		p->attached = i == 0;
	}
	n->pairs = 1;
	virtio_net_filter_reset(&n->filter);
	memcpy(n->config, n->mac, 6);
	n->rx_need = VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME;
}

static void virtio_net_config_read(struct virtio_dev *d, unsigned off, void *data, unsigned len)
{
	struct virtio_net *n = d->opaque;

	memcpy(data, &n->config[off], len);
}

static const struct virtio_dev_ops virtio_net_ops = {
	.queue_notify = virtio_net_notify,
	.activate = virtio_net_activate,
	.reset = virtio_net_reset,
	.config_read = virtio_net_config_read,
	/* config_write: the MAC is set through the control queue */
};

static uint64_t virtio_net_features(unsigned pairs)
{
	static const unsigned bits[] = {
		VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_MAC,
		VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN,
		VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_ECN,
		VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_CTRL_VQ,
		VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_MAC_ADDR,
	};
	uint64_t f = 0;

	for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		f |= 1ULL << bits[i];
	if (pairs > 1)
		f |= 1ULL << VIRTIO_NET_F_MQ;
	return f;
}

static int virtio_net_init_pairs(struct virtio_net *n, const int *tap_fds)
{
	for (unsigned i = 0; i < n->max_pairs; i++) {
		struct virtio_net_pair *p = &n->pair[i];
		int err;

		p->net = n;
		p->idx = i;
		p->tap_fd = tap_fds[i];
		err = virtio_net_rxq_init(&p->rxq, &n->dev.vq[2 * i], VIRTIO_NET_QUEUE_SIZE);
		if (err)
			return err;
	}
	return 0;
}

int virtio_net_create(const int *tap_fds, unsigned pairs, const uint8_t mac[6], unsigned index,
		      struct virtio_net **out)
{
	struct virtio_net *n;
	uint16_t status = VIRTIO_NET_S_LINK_UP, max = (uint16_t)pairs;
	int err;

	if (pairs < 1 || pairs > VIRTIO_NET_MAX_PAIRS)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	snprintf(n->name, sizeof(n->name), "virtio-net%u", index);
	n->again_efd = -1;
	n->max_pairs = pairs;
	memcpy(n->mac, mac, 6);
	n->elem = malloc(sizeof(*n->elem));
	virtio_dev_init(&n->dev, n->name, VIRTIO_ID_NET, virtio_net_features(pairs), 2 * pairs + 1,
			VIRTIO_NET_QUEUE_SIZE, VIRTIO_NET_CONFIG_SIZE, &virtio_net_ops, n);
	err = n->elem ? virtio_net_init_pairs(n, tap_fds) : -ENOMEM;
	if (!err) {
		n->again_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (n->again_efd < 0)
			err = -errno;
	}
	if (err) {
		virtio_net_destroy(n);
		return err;
	}
	memcpy(&n->config[6], &status, 2);
	memcpy(&n->config[8], &max, 2);
	virtio_net_reset(&n->dev);
	*out = n;
	return 0;
}

int virtio_net_start(struct virtio_net *n)
{
	int err = evl_add(n->dev.evl, n->again_efd, EPOLLIN, virtio_net_again, n);

	for (unsigned i = 0; !err && i < n->max_pairs; i++)
		err = evl_add(n->dev.evl, n->pair[i].tap_fd, EPOLLIN | EPOLLET, virtio_net_tap_ready,
			      &n->pair[i]);
	return err;
}

void virtio_net_destroy(struct virtio_net *n)
{
	const struct virtio_net_stats *s;

	if (!n)
		return;
	s = &n->stats;
	if (n->dev.evl) {
		for (unsigned i = 0; i < n->max_pairs; i++)
			evl_del(n->dev.evl, n->pair[i].tap_fd);
		if (n->again_efd >= 0)
			evl_del(n->dev.evl, n->again_efd);
	}
	log_info("%s: rx packets=%llu bytes=%llu dropped=%llu (truncated %llu) filtered=%llu; "
		 "tx packets=%llu bytes=%llu dropped=%llu bad_hdr=%llu; ctrl ok=%llu err=%llu; "
		 "rx stops: no buffers %llu, tap empty %llu", n->name,
		 (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
		 (unsigned long long)s->rx_dropped, (unsigned long long)s->rx_truncated,
		 (unsigned long long)s->rx_filtered, (unsigned long long)s->tx_packets,
		 (unsigned long long)s->tx_bytes, (unsigned long long)s->tx_dropped,
		 (unsigned long long)s->tx_bad_hdr, (unsigned long long)s->ctrl_ok,
		 (unsigned long long)s->ctrl_err, (unsigned long long)s->rx_starved,
		 (unsigned long long)s->rx_eagain);
	if (n->again_efd >= 0)
		close(n->again_efd);
	for (unsigned i = 0; i < n->max_pairs; i++)
		virtio_net_rxq_free(&n->pair[i].rxq);
	free(n->elem);
	free(n);
}
