/* bench=net: virtio-net frame rates from ring 3, polling (no interrupts),
 * against a host peer on the tap (tools/bench/net drives the other end):
 *  - tx: 60- and 1514-byte frames for BENCH_MS each, the queue kept full,
 *    kicking only when the device asks for kicks (used.flags);
 *  - rx: after "LQTG: bench net rx ready size=<n>", the host floods the
 *    tap; frames are counted for BENCH_MS from the first one.
 * One line per row: "LQTG: bench net <tx|rx> size=<n> pps=<n> mbps=<n>". */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_tsc.h"
#include "tg_virtio.h"

#define BENCH_MS 2000
#define NET_F_MAC 5
#define NET_F_MRG_RXBUF 15
#define HDR 12
#define BUF 2048
#define ETHERTYPE 0x88b5

static struct tg_vq tg_bn_rxq __attribute__((aligned(4096), section(".bss.noinit")));
static struct tg_vq tg_bn_txq __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_bn_rxbuf[TG_VQ_SIZE][BUF] __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_bn_txbuf[TG_VQ_SIZE][BUF] __attribute__((aligned(4096), section(".bss.noinit")));

struct tg_bn {
	struct tg_virtio d;
	uint8_t mac[6];
	uint32_t size;          /* frame size of the row */
	uint64_t frames, ns;
};

static void tg_bn_kick(struct tg_vq *q)
{
	/* The device sets NO_NOTIFY while it is draining the queue. */
	if (!(__atomic_load_n(&q->used.flags, __ATOMIC_ACQUIRE) & 1))
		*q->notify = q->index;
}

static void tg_bn_tx_post(struct tg_bn *b, uint16_t id)
{
	tg_bn_txq.desc[id] = (struct tg_vq_desc){ (uintptr_t)tg_bn_txbuf[id], HDR + b->size, 0, 0 };
	tg_bn_txq.avail.ring[tg_bn_txq.avail.idx % tg_bn_txq.size] = id;
	__atomic_store_n(&tg_bn_txq.avail.idx, (uint16_t)(tg_bn_txq.avail.idx + 1),
			 __ATOMIC_RELEASE);
}

static uint64_t tg_bn_tx(void *arg)
{
	struct tg_bn *b = arg;
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint64_t t0, end, done = 0;

	for (uint16_t i = 0; i < tg_bn_txq.size; i++) {
		uint8_t *f = tg_bn_txbuf[i];

		memset(f, 0, HDR + 26);
		memcpy(f + HDR, bcast, 6);
		memcpy(f + HDR + 6, b->mac, 6);
		f[HDR + 12] = ETHERTYPE >> 8;
		f[HDR + 13] = ETHERTYPE & 0xff;
		memcpy(f + HDR + 14, "LQBN", 4);
		tg_bn_tx_post(b, i);
	}
	t0 = tg_rdtsc();
	end = t0 + BENCH_MS * tg_tsc_khz;
	*tg_bn_txq.notify = tg_bn_txq.index;
	while (tg_rdtsc() < end) {
		uint16_t used = __atomic_load_n(&tg_bn_txq.used.idx, __ATOMIC_ACQUIRE);

		if (used == tg_bn_txq.last_used)
			continue;
		while (tg_bn_txq.last_used != used) {
			uint16_t id = (uint16_t)tg_bn_txq.used.ring[tg_bn_txq.last_used % tg_bn_txq.size].id;

			tg_bn_txq.last_used++;
			done++;
			tg_bn_tx_post(b, id);
		}
		tg_bn_kick(&tg_bn_txq);
	}
	b->ns = (tg_rdtsc() - t0) * 1000000ULL / tg_tsc_khz;
	b->frames = done;
	/* Let the queue drain before the next row. */
	t0 = tg_rdtsc();
	while (tg_bn_txq.last_used != tg_bn_txq.avail.idx && tg_rdtsc() - t0 < 1000 * tg_tsc_khz) {
		tg_bn_kick(&tg_bn_txq);
		tg_bn_txq.last_used = __atomic_load_n(&tg_bn_txq.used.idx, __ATOMIC_ACQUIRE);
	}
	return 1;
}

static void tg_bn_rx_post(uint16_t id)
{
	tg_bn_rxq.desc[id] = (struct tg_vq_desc){ (uintptr_t)tg_bn_rxbuf[id], BUF, 2, 0 };
	tg_bn_rxq.avail.ring[tg_bn_rxq.avail.idx % tg_bn_rxq.size] = id;
	__atomic_store_n(&tg_bn_rxq.avail.idx, (uint16_t)(tg_bn_rxq.avail.idx + 1),
			 __ATOMIC_RELEASE);
}

static uint64_t tg_bn_rx(void *arg)
{
	struct tg_bn *b = arg;
	uint64_t t0 = tg_rdtsc(), end = 0, done = 0;

	for (;;) {
		uint16_t used = __atomic_load_n(&tg_bn_rxq.used.idx, __ATOMIC_ACQUIRE);
		uint64_t now = tg_rdtsc();

		if (end && now >= end)
			break;
		if (!end && now - t0 > 15000 * tg_tsc_khz)
			return 0; /* no flood came */
		if (used == tg_bn_rxq.last_used)
			continue;
		if (!end) {
			t0 = now;
			end = t0 + BENCH_MS * tg_tsc_khz;
		}
		while (tg_bn_rxq.last_used != used) {
			uint16_t id = (uint16_t)tg_bn_rxq.used.ring[tg_bn_rxq.last_used % tg_bn_rxq.size].id;
			uint32_t len = tg_bn_rxq.used.ring[tg_bn_rxq.last_used % tg_bn_rxq.size].len;

			tg_bn_rxq.last_used++;
			done += len == HDR + b->size;
			tg_bn_rx_post(id);
		}
		tg_bn_kick(&tg_bn_rxq);
	}
	b->ns = (tg_rdtsc() - t0) * 1000000ULL / tg_tsc_khz;
	b->frames = done;
	return 1;
}

static uint64_t tg_bn_setup(void *arg)
{
	struct tg_bn *b = arg;

	if (tg_virtio_init(&b->d, 1ULL << NET_F_MAC | 1ULL << NET_F_MRG_RXBUF) == ~0ULL ||
	    !tg_virtio_queue(&b->d, 0, &tg_bn_rxq) || !tg_virtio_queue(&b->d, 1, &tg_bn_txq))
		return 0;
	for (unsigned i = 0; i < 6; i++)
		b->mac[i] = b->d.device[i];
	tg_bn_rxq.avail.flags = 1; /* polling: no interrupts */
	tg_bn_txq.avail.flags = 1;
	for (uint16_t i = 0; i < tg_bn_rxq.size; i++)
		tg_bn_rx_post(i);
	tg_virtio_driver_ok(&b->d);
	*tg_bn_rxq.notify = tg_bn_rxq.index;
	return 1;
}

static void tg_bn_report(const char *dir, const struct tg_bn *b)
{
	uint64_t ns = b->ns ? b->ns : 1;
	uint64_t pps = b->frames * 1000000000ULL / ns;
	uint64_t mbps = b->frames * b->size * 8ULL * 1000ULL / ns;

	tg_printf("LQTG: bench net %s size=%u pps=%llu mbps=%llu\n", dir, b->size,
		  (unsigned long long)pps, (unsigned long long)mbps);
}

bool tg_bench_net(void)
{
	static const uint32_t sizes[] = { 60, 1514 };
	static struct tg_bn b;

	if (!tg_virtio_find(0x1041, 0, &b.d) || tg_user_run(tg_bn_setup, &b) != 1) {
		tg_printf("LQTG: bench FAIL no usable virtio-net device\n");
		return false;
	}
	tg_printf("LQTG: bench net ready\n");
	for (unsigned i = 0; i < 2; i++) {
		b.size = sizes[i];
		tg_user_run(tg_bn_tx, &b);
		tg_bn_report("tx", &b);
	}
	for (unsigned i = 0; i < 2; i++) {
		b.size = sizes[i];
		tg_printf("LQTG: bench net rx ready size=%u\n", b.size);
		if (tg_user_run(tg_bn_rx, &b) != 1) {
			tg_printf("LQTG: bench FAIL no frames from the host\n");
			return false;
		}
		tg_bn_report("rx", &b);
	}
	return true;
}
