/* Fuzz target: a guest's virtqueues and virtio-net traffic. The input
 * after a 6-byte preamble is copied over the first 64 KiB of guest RAM,
 * where the three rings (receive, transmit, control) and the buffers
 * live. Preamble: [0] queue size and ring features, [1] net features,
 * [2] which queues to run, [3..5] lengths of up to two frames the "tap"
 * delivers (taken from RAM at 0x8000). The real virtqueue and the real
 * virtio-net model run; the tap is a datagram socket pair (frames keep
 * their boundaries, as on a tap), the interrupt a counter.
 * Built with libFuzzer by tools/fuzz, and with replay_main.c by meson. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "virtio/net.h"
#include "tests/fuzz/fuzz_virtio.h"
#include "vmm/guest_mem.h"

#define RAM (16u << 20)
#define FRAMES 0x8000

static struct guest_mem mem;
static struct virtio_net *net;
static int peer; /* the host end of the "tap" */
static uint64_t interrupts;

static void fuzz_signal(struct virtio_dev *d, int q)
{
	(void)d, (void)q;
	interrupts++;
}

static const struct virtio_transport_ops fuzz_tops = { fuzz_signal };

static int fuzz_init(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	int sv[2];

	log_set_level(LOG_ERROR);
	if (guest_mem_init(&mem, RAM) ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) ||
	    virtio_net_create(&sv[0], 1, mac, 0, &net))
		abort();
	peer = sv[1];
	net->dev.mem = &mem;
	net->dev.tops = &fuzz_tops;
	return 0;
}

static void fuzz_drain(void)
{
	static uint8_t sink[1 << 17];

	while (recv(peer, sink, sizeof(sink), MSG_DONTWAIT) >= 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t feat_bits[8] = {
		VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM,
		VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_RX,
		VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_HOST_ECN,
	};
	static int ready;
	struct virtio_dev *d;
	uint8_t *ram;
	uint16_t qsize;

	if (!ready)
		ready = !fuzz_init();
	if (size < 6)
		return 0;
	d = &net->dev;
	ram = guest_mem_ptr(&mem, 0, RAM);
	pthread_mutex_lock(&d->lock);
	qsize = fuzz_virtio_start(d, &mem, data[0], data + 6, size - 6);
	for (unsigned i = 0; i < 8; i++)
		if (data[1] >> i & 1)
			d->guest_features |= 1ULL << feat_bits[i];
	/* Receive, transmit and control rings, 0x2000 apart. */
	for (unsigned q = 0; q < 3; q++)
		virtq_enable(&d->vq[q], &mem, qsize, 0x2000 * q, 0x2000 * q + 0x800,
			     0x2000 * q + 0x1000, data[0] & 8, data[0] & 16);
	/* Frames waiting in the "tap" before the device starts. */
	if (data[3] & 1)
		send(peer, ram + FRAMES, 1 + data[4] * 8u, MSG_DONTWAIT);
	if (data[3] & 2)
		send(peer, ram + FRAMES + 0x1000, 1 + data[5] * 16u, MSG_DONTWAIT);
	d->ops->activate(d);
	for (unsigned q = 0; q < 3; q++)
		if ((data[2] >> q & 1) && !(d->status & VIRTIO_STATUS_NEEDS_RESET))
			d->ops->queue_notify(d, q);
	fuzz_drain();
	virtio_dev_reset(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}
