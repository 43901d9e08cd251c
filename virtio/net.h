/* virtio/net: the virtio network card (virtio 1.2, 5.1) on a tap, with
 * the datapath in userspace on the event loop (there may be no vhost).
 *
 * Transmit: a kick drains the queue; each chain (12-byte header first,
 * then the frame) is checked (net_hdr.h) and written to the tap with one
 * writev, the header copied out of guest memory first so the guest
 * cannot change it after the check. Malformed chains are completed and
 * counted as dropped, never written.
 * Receive: the tap (non-blocking, edge-triggered) is read with readv
 * straight into guest receive buffers until EAGAIN; with mergeable
 * buffers a frame spans as many chains as it needs. When the guest has
 * no buffers the device stops reading and asks for a kick; frames wait
 * in the tap's queue meanwhile (the kernel drops beyond it). One
 * interrupt per batch, as event-idx suppression allows.
 * Control queue: promiscuous / all-multicast, the MAC filter table and
 * the MAC address; frames the filter refuses are counted and reused.
 *
 * Multiqueue: up to VIRTIO_NET_MAX_PAIRS queue pairs on a multi-queue
 * tap, one tap fd per pair; pair k receives on queue 2k and transmits on
 * 2k + 1; the control queue is 2 * max_pairs with MQ negotiated, else 2.
 * Until the driver sets the pairs in use (VQ_PAIRS_SET) only pair 0 is,
 * and the tap steers frames only to the fds of the pairs in use.
 * Lock: dev.lock for all. */
#ifndef LQ_VIRTIO_NET_H
#define LQ_VIRTIO_NET_H

#include <sys/uio.h>

#include "virtio/dev.h"
#include "virtio/net_hdr.h"

#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_CONFIG_SIZE 10   /* mac, status, max_virtqueue_pairs */
#define VIRTIO_NET_RXBUF_IOV 20     /* writable buffers kept per receive chain */
#define VIRTIO_NET_RX_IOV 1024      /* buffers per readv (the kernel's UIO_MAXIOV) */
#define VIRTIO_NET_MAC_TABLE 64     /* filter entries per kind */

#define VIRTIO_NET_MAX_PAIRS 7      /* 2 * 7 + 1 queues: VIRTIO_MAX_QUEUES */

struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_filtered, rx_truncated;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_bad_hdr;
	uint64_t ctrl_ok, ctrl_err;
	uint64_t rx_starved, rx_eagain; /* times reading stopped: no buffers, tap empty */
};

/* A receive chain taken from the ring and not yet used. */
struct virtio_net_rxbuf {
	uint16_t head;
	unsigned n_iov;
	uint32_t len;
	struct iovec iov[VIRTIO_NET_RXBUF_IOV];
};

/* The receive chains the device holds, oldest first, and the iovec a
 * readv fills (whole chains, in order). */
struct virtio_net_rxq {
	struct virtq *vq;
	struct virtio_net_rxbuf *buf;  /* ring of cap entries */
	unsigned cap, first, count;
	uint64_t bytes;                /* writable bytes held */
	unsigned n_iov, n_chains;      /* what virtio_net_rxq_prepare covered */
	size_t iov_bytes;
	struct iovec iov[VIRTIO_NET_RX_IOV];
	uint64_t empty_chains;         /* chains with nothing writable */
};

struct virtio_net_filter {
	bool promisc, allmulti;
	bool uni_overflow, multi_overflow; /* tables too big: accept that kind */
	unsigned n_uni, n_multi;
	uint8_t uni[VIRTIO_NET_MAC_TABLE][6], multi[VIRTIO_NET_MAC_TABLE][6];
};

struct virtio_net;

/* One receive/transmit queue pair and its tap queue. */
struct virtio_net_pair {
	struct virtio_net *net;
	unsigned idx;           /* receive queue 2 * idx, transmit 2 * idx + 1 */
	int tap_fd;
	bool attached;          /* the tap steers frames to tap_fd */
	bool rx_starved;        /* no receive buffers: waiting for a kick */
	bool tx_again, rx_again; /* a pass hit its budget: go on */
	struct virtio_net_rxq rxq;
};

struct virtio_net {
	struct virtio_dev dev;
	char name[24];
	int again_efd;          /* a pass hit its budget: go on from the loop */
	uint8_t mac[6];
	uint8_t config[VIRTIO_NET_CONFIG_SIZE];
	unsigned max_pairs;     /* offered (tap queues) */
	unsigned pairs;         /* in use */
	size_t rx_need;         /* mergeable: bytes of buffers a largest frame needs */
	bool rx_error_logged, tx_drop_logged;
	struct virtio_net_pair pair[VIRTIO_NET_MAX_PAIRS];
	struct virtio_net_filter filter;
	struct virtio_net_stats stats;
	struct virtq_elem *elem; /* scratch for pops (16 KiB) */
};

/* Prepares the device on `pairs` open fds of one tap (net/tap.h: vnet
 * header of 12 bytes, non-blocking; a multi-queue tap if pairs > 1); the
 * fds stay the caller's. The caller attaches a transport, then calls
 * virtio_net_start to watch the tap. */
int virtio_net_create(const int *tap_fds, unsigned pairs, const uint8_t mac[6], unsigned index,
		      struct virtio_net **out);
int virtio_net_start(struct virtio_net *n);
void virtio_net_destroy(struct virtio_net *n);

/* Internal to virtio/net*.c (and their tests). Lock held for all. */
int virtio_net_rxq_init(struct virtio_net_rxq *r, struct virtq *vq, unsigned cap);
void virtio_net_rxq_free(struct virtio_net_rxq *r);
/* Forgets the chains held (device reset: they belong to the old rings). */
void virtio_net_rxq_clear(struct virtio_net_rxq *r);
/* How many chains it may hold: the queue's size, at most cap. */
unsigned virtio_net_rxq_limit(const struct virtio_net_rxq *r);
/* Pops every chain available, up to virtio_net_rxq_limit held. Chains
 * without a writable byte are completed at once with length 0. 0, or
 * -EINVAL / -ENOSPC if the ring is malformed (vq->broken). */
int virtio_net_rxq_fill(struct virtio_net_rxq *r, struct virtq_elem *scratch);
/* Builds r->iov over the oldest held chains: if mergeable, whole chains
 * until they hold `need` bytes (or no more fit), else the oldest one.
 * Returns the iovec count (0 if none held). */
unsigned virtio_net_rxq_prepare(struct virtio_net_rxq *r, bool mergeable, size_t need);
/* A frame of n bytes, header included, was read into r->iov: sets the
 * header's num_buffers, completes the chains it used (all full but the
 * last) and returns how many. n must be 1..iov bytes. */
unsigned virtio_net_rxq_commit(struct virtio_net_rxq *r, size_t n);

void virtio_net_filter_reset(struct virtio_net_filter *f);
bool virtio_net_filter_accept(const struct virtio_net_filter *f, const uint8_t *mac,
			      const uint8_t dst[6]);

void virtio_net_rx(struct virtio_net_pair *p);
void virtio_net_tx(struct virtio_net_pair *p);
void virtio_net_ctrl(struct virtio_net *n, unsigned q);
/* VQ_PAIRS_SET: pairs 0..k-1 in use, their tap queues attached. */
int virtio_net_set_pairs(struct virtio_net *n, unsigned k);

#endif
