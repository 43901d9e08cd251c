/* tests=net: virtio-net against a host-side peer on the tap (see
 * tests/kvm/virtio_net.py, which plays the other end):
 *  1. set-up: MAC and link status from the config space; control queue:
 *     promiscuous mode off (ack OK), an unknown command (ack ERR);
 *  2. "LQTG: net ready", then wait for the peer's "go" frame;
 *  3. transmit NET_TX_GOOD Ethernet frames of 60..1514 bytes (pattern +
 *     sequence number), half with the header in its own descriptor;
 *  4. hostile chains: a 4-byte header, a 70000-byte frame, a bad GSO
 *     type; each must come back used (dropped by the device), and
 *     NET_TX_AFTER good frames after them must still go out;
 *  5. receive NET_RX frames from the peer into 1 KiB mergeable buffers
 *     (frames over 1012 bytes span two), checking order and contents;
 *     frames the peer sends to another MAC must be filtered out;
 *  6. offloads (CSUM, GUEST_CSUM, HOST_TSO4, GUEST_TSO4 negotiated): the
 *     peer sends one TCP segmentation-offload frame of NET_TSO bytes,
 *     which must arrive whole, over many buffers, with its GSO header;
 *     then the guest sends one, which the peer checks the same way.
 * Output: "LQTG: net ok tx=<n> bad=3 rx=<n> merged=<n>", then
 * "LQTG: net tso ok rx_buffers=<n>", or "LQTG: net FAIL ...". */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_tsc.h"
#include "tg_virtio.h"

#define NET_F_CSUM 0
#define NET_F_GUEST_CSUM 1
#define NET_F_GUEST_TSO4 7
#define NET_F_HOST_TSO4 11
#define NET_F_MAC 5
#define NET_F_MRG_RXBUF 15
#define NET_F_STATUS 16
#define NET_F_CTRL_VQ 17
#define NET_F_CTRL_RX 18
#define NET_HDR 12
#define NET_ETHERTYPE 0x88b5 /* IEEE local experimental */
#define NET_TX_GOOD 1000
#define NET_TX_AFTER 10
#define NET_RX 300
#define NET_RX_BUFS 96 /* 64 KiB + a frame: what a device offering GUEST_TSO waits for */
#define NET_TSO 20000  /* bytes of a TCP offload frame, Ethernet header included */
#define NET_RX_BUF 1024
#define NET_TX_SLOTS 32
#define NET_TX_BUF 1536
#define NET_HUGE 70000

static struct tg_vq tg_net_rxq __attribute__((aligned(4096), section(".bss.noinit")));
static struct tg_vq tg_net_txq __attribute__((aligned(4096), section(".bss.noinit")));
static struct tg_vq tg_net_ctlq __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_net_rxbuf[NET_RX_BUFS][NET_RX_BUF] __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_net_txbuf[NET_TX_SLOTS][NET_TX_BUF] __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_net_huge[NET_HDR + NET_HUGE] __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_net_frame[24576];

struct tg_net {
	struct tg_virtio d;
	uint8_t mac[6], peer[6];
	unsigned tx_inflight, rx_frames, merged, last_nb;
	uint8_t rxhdr[NET_HDR];  /* of the last frame received */
	char fail[112];
};

static void tg_net_put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void tg_net_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t tg_net_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The frame both sides agree on: dst, src, type, magic, seq, len, then
 * bytes (seq * 7 + i). */
static void tg_net_build(uint8_t *f, const uint8_t *dst, const uint8_t *src, const char *magic,
			 uint32_t seq, uint32_t len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	tg_net_put16be(f + 12, NET_ETHERTYPE);
	memcpy(f + 14, magic, 4);
	tg_net_put32(f + 18, seq);
	tg_net_put32(f + 22, len);
	for (uint32_t i = 26; i < len; i++)
		f[i] = (uint8_t)(seq * 7 + i);
}

static uint32_t tg_net_size(uint32_t seq)
{
	return 60 + (seq * 37) % 1455; /* 60..1514 */
}

static void tg_net_kick(struct tg_vq *q)
{
	*q->notify = q->index;
}

static bool tg_net_timeout(uint64_t t0, unsigned ms)
{
	return tg_rdtsc() - t0 > (uint64_t)ms * tg_tsc_khz;
}

/* ---- control queue ---- */

static uint8_t tg_net_ctrl(uint8_t cls, uint8_t cmd, uint8_t val)
{
	static uint8_t hdr[2], data[1], ack[1];
	uint64_t addr[3] = { (uintptr_t)hdr, (uintptr_t)data, (uintptr_t)ack };
	uint32_t len[3] = { 2, 1, 1 };
	uint16_t flags[3] = { 0, 0, 2 };

	hdr[0] = cls;
	hdr[1] = cmd;
	data[0] = val;
	ack[0] = 0xee;
	return tg_virtio_xfer(&tg_net_ctlq, addr, len, flags, 3) < 0 ? 0xff : ack[0];
}

/* ---- transmit ---- */

/* Takes back used transmit chains; true if one came back within 2 s. */
static bool tg_net_tx_reap(struct tg_net *n, bool wait)
{
	uint64_t t0 = tg_rdtsc();

	for (;;) {
		uint16_t used = __atomic_load_n(&tg_net_txq.used.idx, __ATOMIC_ACQUIRE);

		if (used != tg_net_txq.last_used) {
			n->tx_inflight -= (uint16_t)(used - tg_net_txq.last_used);
			tg_net_txq.last_used = used;
			return true;
		}
		if (!wait || tg_net_timeout(t0, 2000))
			return false;
	}
}

/* Posts a chain (one or two descriptors) in transmit slot k (descriptors
 * 2k, 2k+1), waiting for a free slot first. */
static bool tg_net_tx_post(struct tg_net *n, uint64_t a0, uint32_t l0, uint64_t a1, uint32_t l1)
{
	unsigned k = tg_net_txq.avail.idx % NET_TX_SLOTS;
	struct tg_vq_desc *d = &tg_net_txq.desc[2 * k];

	while (n->tx_inflight == NET_TX_SLOTS)
		if (!tg_net_tx_reap(n, true))
			return false;
	d[0] = (struct tg_vq_desc){ a0, l0, (uint16_t)(l1 ? 1 : 0), (uint16_t)(2 * k + 1) };
	d[1] = (struct tg_vq_desc){ a1, l1, 0, 0 };
	tg_net_txq.avail.ring[tg_net_txq.avail.idx % tg_net_txq.size] = (uint16_t)(2 * k);
	__atomic_store_n(&tg_net_txq.avail.idx, (uint16_t)(tg_net_txq.avail.idx + 1),
			 __ATOMIC_RELEASE);
	n->tx_inflight++;
	tg_net_kick(&tg_net_txq);
	return true;
}

/* A good frame in slot buffer: even seq splits header and frame. */
static bool tg_net_tx_good(struct tg_net *n, uint32_t seq)
{
	uint8_t *b = tg_net_txbuf[tg_net_txq.avail.idx % NET_TX_SLOTS];
	uint32_t len = tg_net_size(seq);

	while (n->tx_inflight == NET_TX_SLOTS)
		if (!tg_net_tx_reap(n, true))
			return false;
	memset(b, 0, NET_HDR);
	tg_net_build(b + NET_HDR, n->peer, n->mac, "LQNT", seq, len);
	if (seq % 2 == 0)
		return tg_net_tx_post(n, (uintptr_t)b, NET_HDR, (uintptr_t)b + NET_HDR, len);
	return tg_net_tx_post(n, (uintptr_t)b, NET_HDR + len, 0, 0);
}

static bool tg_net_tx_drain(struct tg_net *n)
{
	while (n->tx_inflight)
		if (!tg_net_tx_reap(n, true))
			return false;
	return true;
}

static bool tg_net_tx_hostile(struct tg_net *n)
{
	uint8_t *b = tg_net_txbuf[0];

	if (!tg_net_tx_drain(n))
		return false;
	/* 1: a 4-byte "header" and nothing else. */
	memset(b, 0, 64);
	if (!tg_net_tx_post(n, (uintptr_t)b, 4, 0, 0) || !tg_net_tx_drain(n))
		return false;
	/* 2: a frame of 70000 bytes (over the 65550 limit). */
	memset(tg_net_huge, 0, NET_HDR);
	tg_net_build(tg_net_huge + NET_HDR, n->peer, n->mac, "LQNT", 0xbad, 1514);
	if (!tg_net_tx_post(n, (uintptr_t)tg_net_huge, NET_HDR + NET_HUGE, 0, 0) ||
	    !tg_net_tx_drain(n))
		return false;
	/* 3: GSO type 7 (no such type). */
	memset(b, 0, NET_HDR);
	b[1] = 7;
	tg_net_build(b + NET_HDR, n->peer, n->mac, "LQNT", 0xbad, 100);
	return tg_net_tx_post(n, (uintptr_t)b, NET_HDR + 100, 0, 0) && tg_net_tx_drain(n);
}

/* ---- receive ---- */

static void tg_net_rx_post(uint16_t id)
{
	tg_net_rxq.desc[id] = (struct tg_vq_desc){ (uintptr_t)tg_net_rxbuf[id], NET_RX_BUF, 2, 0 };
	tg_net_rxq.avail.ring[tg_net_rxq.avail.idx % tg_net_rxq.size] = id;
	__atomic_store_n(&tg_net_rxq.avail.idx, (uint16_t)(tg_net_rxq.avail.idx + 1),
			 __ATOMIC_RELEASE);
}

/* Next used entry, waiting up to ms; false on timeout. */
static bool tg_net_rx_used(unsigned ms, uint16_t *id, uint32_t *len)
{
	uint64_t t0 = tg_rdtsc();

	while (__atomic_load_n(&tg_net_rxq.used.idx, __ATOMIC_ACQUIRE) == tg_net_rxq.last_used)
		if (tg_net_timeout(t0, ms))
			return false;
	*id = (uint16_t)tg_net_rxq.used.ring[tg_net_rxq.last_used % tg_net_rxq.size].id;
	*len = tg_net_rxq.used.ring[tg_net_rxq.last_used % tg_net_rxq.size].len;
	tg_net_rxq.last_used++;
	return true;
}

/* One frame, reassembled into tg_net_frame from its num_buffers
 * buffers (which go back to the device). Returns its length, 0 on
 * timeout, -1 if malformed. */
static int tg_net_rx_frame(struct tg_net *n, unsigned ms)
{
	uint16_t id, nb;
	uint32_t len, total = 0;

	if (!tg_net_rx_used(ms, &id, &len))
		return 0;
	memcpy(&nb, tg_net_rxbuf[id] + 10, 2);
	memcpy(n->rxhdr, tg_net_rxbuf[id], NET_HDR);
	if (len < NET_HDR || len > NET_RX_BUF || nb < 1 ||
	    nb > sizeof(tg_net_frame) / (NET_RX_BUF - NET_HDR)) {
		tg_snprintf(n->fail, sizeof(n->fail), "rx used len=%u num_buffers=%u", len, nb);
		return -1;
	}
	for (unsigned i = 0;; i++) {
		uint32_t skip = i ? 0 : NET_HDR;

		memcpy(tg_net_frame + total, tg_net_rxbuf[id] + skip, len - skip);
		total += len - skip;
		tg_net_rx_post(id);
		if (i + 1 == nb)
			break;
		if (!tg_net_rx_used(1000, &id, &len) || len > NET_RX_BUF) {
			tg_snprintf(n->fail, sizeof(n->fail), "rx: buffer %u of %u of a frame missing",
				    i + 2, nb);
			return -1;
		}
	}
	n->merged += nb > 1;
	n->last_nb = nb;
	tg_net_kick(&tg_net_rxq);
	return (int)total;
}

/* Skips frames that are not ours (the host's own IPv6 chatter). */
static bool tg_net_ours(const uint8_t *f, int len, const char *magic)
{
	return len >= 26 && f[12] == (NET_ETHERTYPE >> 8) && f[13] == (NET_ETHERTYPE & 0xff) &&
	       !memcmp(f + 14, magic, 4);
}

static bool tg_net_wait_go(struct tg_net *n)
{
	uint64_t t0 = tg_rdtsc();

	while (!tg_net_timeout(t0, 30000)) {
		int len = tg_net_rx_frame(n, 1000);

		if (len < 0)
			return false;
		if (tg_net_ours(tg_net_frame, len, "LQGO")) {
			memcpy(n->peer, tg_net_frame + 6, 6);
			return true;
		}
	}
	tg_snprintf(n->fail, sizeof(n->fail), "no go frame from the host in 30 s");
	return false;
}

static bool tg_net_check_rx(struct tg_net *n, const uint8_t *f, int len)
{
	uint32_t seq = tg_net_get32(f + 18), want = tg_net_get32(f + 22);

	if (memcmp(f, n->mac, 6)) {
		tg_snprintf(n->fail, sizeof(n->fail), "rx frame seq=%u for another MAC passed the filter",
			    seq);
		return false;
	}
	if (seq != n->rx_frames || want != (uint32_t)len) {
		tg_snprintf(n->fail, sizeof(n->fail), "rx seq=%u len=%d, expected seq=%u len=%u", seq,
			    len, n->rx_frames, want);
		return false;
	}
	for (int i = 26; i < len; i++)
		if (f[i] != (uint8_t)(seq * 7 + (uint32_t)i)) {
			tg_snprintf(n->fail, sizeof(n->fail), "rx seq=%u byte %d wrong", seq, i);
			return false;
		}
	n->rx_frames++;
	return true;
}

static bool tg_net_receive(struct tg_net *n)
{
	uint64_t t0 = tg_rdtsc();

	while (n->rx_frames < NET_RX) {
		int len = tg_net_rx_frame(n, 1000);

		if (len < 0)
			return false;
		if (tg_net_ours(tg_net_frame, len, "LQRX") && !tg_net_check_rx(n, tg_net_frame, len))
			return false;
		if (tg_net_timeout(t0, 30000)) {
			tg_snprintf(n->fail, sizeof(n->fail), "rx: %u of %u frames in 30 s",
				    n->rx_frames, NET_RX);
			return false;
		}
	}
	return true;
}

/* ---- the test ---- */

static bool tg_net_setup(struct tg_net *n)
{
	uint64_t off = 1ULL << NET_F_CSUM | 1ULL << NET_F_GUEST_CSUM | 1ULL << NET_F_GUEST_TSO4 |
		       1ULL << NET_F_HOST_TSO4;
	uint64_t f = tg_virtio_init(&n->d, 1ULL << NET_F_MAC | 1ULL << NET_F_MRG_RXBUF |
						   1ULL << NET_F_STATUS | 1ULL << NET_F_CTRL_VQ |
						   1ULL << NET_F_CTRL_RX | off);
	uint16_t status;

	if (f == ~0ULL || !(f & 1ULL << NET_F_MRG_RXBUF) || !(f & 1ULL << NET_F_CTRL_RX) ||
	    (f & off) != off ||
	    !tg_virtio_queue(&n->d, 0, &tg_net_rxq) || !tg_virtio_queue(&n->d, 1, &tg_net_txq) ||
	    !tg_virtio_queue(&n->d, 2, &tg_net_ctlq)) {
		tg_snprintf(n->fail, sizeof(n->fail), "set-up (features %llx)",
			    (unsigned long long)n->d.features);
		return false;
	}
	for (unsigned i = 0; i < 6; i++)
		n->mac[i] = n->d.device[i];
	status = (uint16_t)(n->d.device[6] | n->d.device[7] << 8);
	for (uint16_t i = 0; i < NET_RX_BUFS; i++)
		tg_net_rx_post(i);
	tg_virtio_driver_ok(&n->d);
	tg_net_kick(&tg_net_rxq);
	if (!(status & 1)) {
		tg_snprintf(n->fail, sizeof(n->fail), "link down (status %x)", status);
		return false;
	}
	if (tg_net_ctrl(0, 0, 0) != 0 || tg_net_ctrl(9, 9, 0) != 1) {
		tg_snprintf(n->fail, sizeof(n->fail), "control queue acks wrong");
		return false;
	}
	return true;
}

/* ---- offloads ---- */

/* The IPv4 header checksum: a bridge with netfilter drops bad ones. */
static void tg_net_ip_csum(uint8_t *ip)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	tg_net_put16be(ip + 10, (uint16_t)~sum);
}

/* Ethernet + IPv4 + TCP headers (54 bytes) and a payload pattern. */
static void tg_net_tcp(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t len,
		       uint8_t seed)
{
	memset(f, 0, 54);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	f[14] = 0x45;                     /* IPv4, 20-byte header */
	tg_net_put16be(f + 16, (uint16_t)(len - 14));
	f[22] = 64;                       /* TTL */
	f[23] = 6;                        /* TCP */
	memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	tg_net_ip_csum(f + 14);
	tg_net_put16be(f + 34, 40000);
	tg_net_put16be(f + 36, 5001);
	f[46] = 0x50;                     /* 20-byte TCP header */
	f[47] = 0x18;                     /* PSH, ACK */
	tg_net_put16be(f + 48, 65535);
	for (uint32_t i = 54; i < len; i++)
		f[i] = (uint8_t)(i * 13 + seed);
}

static uint64_t tg_net_tso_user(void *arg)
{
	struct tg_net *n = arg;
	static uint8_t out[NET_HDR + NET_TSO] __attribute__((aligned(64)));
	uint64_t t0 = tg_rdtsc();
	uint16_t gso_size;
	int len;

	/* The peer's offload frame: whole, GSO TCPv4 header kept. */
	for (;;) {
		len = tg_net_rx_frame(n, 1000);
		if (len < 0)
			return 0;
		if (len == NET_TSO && tg_net_frame[12] == 0x08 && tg_net_frame[23] == 6)
			break;
		if (tg_net_timeout(t0, 30000)) {
			tg_snprintf(n->fail, sizeof(n->fail), "tso: no %u-byte frame from the peer",
				    NET_TSO);
			return 0;
		}
	}
	memcpy(&gso_size, n->rxhdr + 4, 2);
	if ((n->rxhdr[1] & 0x7f) != 1 || gso_size == 0 || n->last_nb < 2) {
		tg_snprintf(n->fail, sizeof(n->fail), "tso rx: flags=%u gso_type=%u gso_size=%u nb=%u",
			    n->rxhdr[0], n->rxhdr[1], gso_size, n->last_nb);
		return 0;
	}
	for (int i = 54; i < len; i++)
		if (tg_net_frame[i] != (uint8_t)(i * 13 + 0x11)) {
			tg_snprintf(n->fail, sizeof(n->fail), "tso rx: byte %d wrong", i);
			return 0;
		}
	/* Ours: NEEDS_CSUM at the TCP checksum, GSO TCPv4 of 1448-byte
	 * segments, header length 54. */
	memset(out, 0, NET_HDR);
	out[0] = 1;
	out[1] = 1;
	out[2] = 54;
	out[4] = 1448 & 0xff;
	out[5] = 1448 >> 8;
	out[6] = 34;
	out[8] = 16;
	tg_net_tcp(out + NET_HDR, n->peer, n->mac, NET_TSO, 0x22);
	if (!tg_net_tx_post(n, (uintptr_t)out, NET_HDR + NET_TSO, 0, 0) || !tg_net_tx_drain(n)) {
		tg_snprintf(n->fail, sizeof(n->fail), "tso tx: chain never came back");
		return 0;
	}
	return 1;
}

/* Ring-3 output reaches the serial port only when tg_user_run returns,
 * and the host must see "net ready" before the "go" frame: three runs. */
static uint64_t tg_net_setup_user(void *arg)
{
	return tg_net_setup(arg);
}

static uint64_t tg_net_tx_user(void *arg)
{
	struct tg_net *n = arg;
	uint64_t t0;

	if (!tg_net_wait_go(n))
		return 0;
	t0 = tg_rdtsc();
	for (uint32_t seq = 0; seq < NET_TX_GOOD; seq++)
		if (!tg_net_tx_good(n, seq))
			goto stuck;
	if (!tg_net_tx_drain(n))
		goto stuck;
	tg_printf("LQTG: net tx %u frames in %llu us\n", NET_TX_GOOD,
		  (unsigned long long)((tg_rdtsc() - t0) * 1000 / tg_tsc_khz));
	if (!tg_net_tx_hostile(n)) {
		tg_snprintf(n->fail, sizeof(n->fail), "a hostile transmit chain never came back");
		return 0;
	}
	for (uint32_t seq = NET_TX_GOOD; seq < NET_TX_GOOD + NET_TX_AFTER; seq++)
		if (!tg_net_tx_good(n, seq))
			goto stuck;
	if (!tg_net_tx_drain(n))
		goto stuck;
	return 1;
stuck:
	tg_snprintf(n->fail, sizeof(n->fail), "transmit chains not coming back (%u in flight)",
		    n->tx_inflight);
	return 0;
}

static uint64_t tg_net_rx_user(void *arg)
{
	return tg_net_receive(arg);
}

bool tg_test_net(void)
{
	static struct tg_net n;

	if (!tg_virtio_find(0x1041, 0, &n.d)) {
		tg_printf("LQTG: net FAIL no virtio-net device\n");
		return false;
	}
	if (tg_user_run(tg_net_setup_user, &n) != 1)
		goto fail;
	tg_printf("LQTG: net ready mac=%02x:%02x:%02x:%02x:%02x:%02x\n", n.mac[0], n.mac[1],
		  n.mac[2], n.mac[3], n.mac[4], n.mac[5]);
	if (tg_user_run(tg_net_tx_user, &n) != 1)
		goto fail;
	tg_printf("LQTG: net tx done sent=%u bad=3\n", NET_TX_GOOD + NET_TX_AFTER);
	if (tg_user_run(tg_net_rx_user, &n) != 1)
		goto fail;
	tg_printf("LQTG: net ok tx=%u bad=3 rx=%u merged=%u\n", NET_TX_GOOD + NET_TX_AFTER,
		  n.rx_frames, n.merged);
	if (tg_user_run(tg_net_tso_user, &n) != 1)
		goto fail;
	tg_printf("LQTG: net tso ok rx_buffers=%u\n", n.last_nb);
	return true;
fail:
	tg_printf("LQTG: net FAIL %s\n", n.fail);
	return false;
}
