/* tests=netmq: virtio-net with two queue pairs (VIRTIO_NET_F_MQ) against
 * a host peer on a multi-queue tap (tests/kvm/virtio_net.py --queues 2):
 *  1. control queue: VQ_PAIRS_SET 2 (ack OK), 9 (ack ERR: beyond max);
 *  2. "LQTG: netmq ready", then the peer's "go" frame on either queue;
 *  3. NETMQ_TX frames out, half on each transmit queue;
 *  4. NETMQ_RX UDP frames from the peer (many flows, so the tap spreads
 *     them over its queues), each seen once, on either receive queue.
 * Output: "LQTG: netmq ok tx=<n> rx=<n> rxq0=<n> rxq1=<n>". */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_tsc.h"
#include "tg_virtio.h"

#define F_MAC 5
#define F_MRG_RXBUF 15
#define F_CTRL_VQ 17
#define F_MQ 22
#define HDR 12
#define NETMQ_TX 200
#define NETMQ_RX 200
#define NBUF 32
#define BUFSZ 2048

static struct tg_vq tg_mq_q[5] __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_mq_rxbuf[2][NBUF][BUFSZ] __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_mq_txbuf[2][BUFSZ] __attribute__((aligned(4096), section(".bss.noinit")));

struct tg_mq {
	struct tg_virtio d;
	uint8_t mac[6], peer[6];
	unsigned rx[2], seen;
	uint8_t got[NETMQ_RX];
	char fail[96];
};

enum { RX0, TX0, RX1, TX1, CTL };

static bool tg_mq_late(uint64_t t0, unsigned ms)
{
	return tg_rdtsc() - t0 > (uint64_t)ms * tg_tsc_khz;
}

static void tg_mq_rx_post(unsigned k, uint16_t id)
{
	struct tg_vq *q = &tg_mq_q[k ? RX1 : RX0];

	q->desc[id] = (struct tg_vq_desc){ (uintptr_t)tg_mq_rxbuf[k][id], BUFSZ, 2, 0 };
	q->avail.ring[q->avail.idx % q->size] = id;
	__atomic_store_n(&q->avail.idx, (uint16_t)(q->avail.idx + 1), __ATOMIC_RELEASE);
	*q->notify = q->index;
}

/* Next frame on receive queue k, or NULL: its payload after the header. */
static const uint8_t *tg_mq_rx_poll(unsigned k, uint32_t *len, uint16_t *id)
{
	struct tg_vq *q = &tg_mq_q[k ? RX1 : RX0];

	if (__atomic_load_n(&q->used.idx, __ATOMIC_ACQUIRE) == q->last_used)
		return NULL;
	*id = (uint16_t)q->used.ring[q->last_used % q->size].id;
	*len = q->used.ring[q->last_used % q->size].len - HDR;
	q->last_used++;
	return tg_mq_rxbuf[k][*id % NBUF] + HDR;
}

static uint8_t tg_mq_ctrl(uint8_t cls, uint8_t cmd, uint16_t val)
{
	static uint8_t hdr[2], data[2], ack[1];
	uint64_t addr[3] = { (uintptr_t)hdr, (uintptr_t)data, (uintptr_t)ack };
	uint32_t len[3] = { 2, 2, 1 };
	uint16_t flags[3] = { 0, 0, 2 };

	hdr[0] = cls;
	hdr[1] = cmd;
	memcpy(data, &val, 2);
	ack[0] = 0xee;
	return tg_virtio_xfer(&tg_mq_q[CTL], addr, len, flags, 3) < 0 ? 0xff : ack[0];
}

static uint64_t tg_mq_setup(void *arg)
{
	struct tg_mq *m = arg;
	uint64_t f = tg_virtio_init(&m->d, 1ULL << F_MAC | 1ULL << F_MRG_RXBUF | 1ULL << F_CTRL_VQ |
						   1ULL << F_MQ);
	uint16_t max;

	if (f == ~0ULL || !(f & 1ULL << F_MQ)) {
		tg_snprintf(m->fail, sizeof(m->fail), "no MQ (features %llx)",
			    (unsigned long long)m->d.features);
		return 0;
	}
	max = (uint16_t)(m->d.device[8] | m->d.device[9] << 8);
	if (max < 2 || !tg_virtio_queue(&m->d, 0, &tg_mq_q[RX0]) ||
	    !tg_virtio_queue(&m->d, 1, &tg_mq_q[TX0]) || !tg_virtio_queue(&m->d, 2, &tg_mq_q[RX1]) ||
	    !tg_virtio_queue(&m->d, 3, &tg_mq_q[TX1]) ||
	    !tg_virtio_queue(&m->d, (uint16_t)(2 * max), &tg_mq_q[CTL])) {
		tg_snprintf(m->fail, sizeof(m->fail), "queue set-up (max pairs %u)", max);
		return 0;
	}
	for (unsigned i = 0; i < 6; i++)
		m->mac[i] = m->d.device[i];
	tg_virtio_driver_ok(&m->d);
	for (uint16_t i = 0; i < NBUF; i++) {
		tg_mq_rx_post(0, i);
		tg_mq_rx_post(1, i);
	}
	if (tg_mq_ctrl(4, 0, 2) != 0 || tg_mq_ctrl(4, 0, 9) != 1) {
		tg_snprintf(m->fail, sizeof(m->fail), "VQ_PAIRS_SET acks wrong");
		return 0;
	}
	return 1;
}

static bool tg_mq_send(struct tg_mq *m, unsigned k, uint32_t seq)
{
	struct tg_vq *q = &tg_mq_q[k ? TX1 : TX0];
	uint8_t *b = tg_mq_txbuf[k];
	uint64_t t0 = tg_rdtsc();

	memset(b, 0, HDR + 64);
	memcpy(b + HDR, m->peer, 6);
	memcpy(b + HDR + 6, m->mac, 6);
	b[HDR + 12] = 0x88;
	b[HDR + 13] = 0xb5;
	memcpy(b + HDR + 14, "LQMQ", 4);
	memcpy(b + HDR + 18, &seq, 4);
	b[HDR + 22] = (uint8_t)k;
	q->desc[0] = (struct tg_vq_desc){ (uintptr_t)b, HDR + 64, 0, 0 };
	q->avail.ring[q->avail.idx % q->size] = 0;
	__atomic_store_n(&q->avail.idx, (uint16_t)(q->avail.idx + 1), __ATOMIC_RELEASE);
	*q->notify = q->index;
	while (__atomic_load_n(&q->used.idx, __ATOMIC_ACQUIRE) == q->last_used)
		if (tg_mq_late(t0, 2000))
			return false;
	q->last_used++;
	return true;
}

static uint64_t tg_mq_tx(void *arg)
{
	struct tg_mq *m = arg;
	uint64_t t0 = tg_rdtsc();
	bool go = false;

	while (!go) {
		for (unsigned k = 0; k < 2 && !go; k++) {
			uint32_t len;
			uint16_t id;
			const uint8_t *f = tg_mq_rx_poll(k, &len, &id);

			if (!f)
				continue;
			if (len >= 18 && !memcmp(f + 14, "LQGO", 4)) {
				memcpy(m->peer, f + 6, 6);
				go = true;
			}
			tg_mq_rx_post(k, id % NBUF);
		}
		if (!go && tg_mq_late(t0, 30000)) {
			tg_snprintf(m->fail, sizeof(m->fail), "no go frame in 30 s");
			return 0;
		}
	}
	for (uint32_t seq = 0; seq < NETMQ_TX; seq++)
		if (!tg_mq_send(m, seq % 2, seq)) {
			tg_snprintf(m->fail, sizeof(m->fail), "tx queue %u stuck at seq %u", seq % 2, seq);
			return 0;
		}
	return 1;
}

/* UDP frames: the sequence number sits after Ethernet, IPv4 and UDP
 * headers and the magic, at byte 46. */
static uint64_t tg_mq_rx(void *arg)
{
	struct tg_mq *m = arg;
	uint64_t t0 = tg_rdtsc();

	while (m->seen < NETMQ_RX) {
		for (unsigned k = 0; k < 2; k++) {
			uint32_t len, seq;
			uint16_t id;
			const uint8_t *f = tg_mq_rx_poll(k, &len, &id);

			if (!f)
				continue;
			if (len >= 50 && f[12] == 0x08 && f[13] == 0 && !memcmp(f + 42, "LQRX", 4)) {
				memcpy(&seq, f + 46, 4);
				if (seq >= NETMQ_RX || m->got[seq]) {
					tg_snprintf(m->fail, sizeof(m->fail), "rx seq %u bad or twice", seq);
					return 0;
				}
				m->got[seq] = 1;
				m->seen++;
				m->rx[k]++;
			}
			tg_mq_rx_post(k, id % NBUF);
		}
		if (tg_mq_late(t0, 30000)) {
			tg_snprintf(m->fail, sizeof(m->fail), "rx: %u of %u frames in 30 s", m->seen,
				    NETMQ_RX);
			return 0;
		}
	}
	return 1;
}

bool tg_test_netmq(void)
{
	static struct tg_mq m;

	if (!tg_virtio_find(0x1041, 0, &m.d)) {
		tg_printf("LQTG: netmq FAIL no virtio-net device\n");
		return false;
	}
	if (tg_user_run(tg_mq_setup, &m) != 1)
		goto fail;
	tg_printf("LQTG: netmq ready\n");
	if (tg_user_run(tg_mq_tx, &m) != 1)
		goto fail;
	tg_printf("LQTG: netmq tx done sent=%u\n", NETMQ_TX);
	if (tg_user_run(tg_mq_rx, &m) != 1)
		goto fail;
	tg_printf("LQTG: netmq ok tx=%u rx=%u rxq0=%u rxq1=%u\n", NETMQ_TX, m.seen, m.rx[0], m.rx[1]);
	return true;
fail:
	tg_printf("LQTG: netmq FAIL %s\n", m.fail);
	return false;
}
