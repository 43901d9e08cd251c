/* bench=blk: virtio-blk throughput from ring 3, polling (no interrupts,
 * so it measures the device, not PVM's slow ring 0): 4 KiB random reads
 * and writes at queue depth 1 and 32, 1 MiB sequential reads and writes,
 * each for BENCH_MS, within the first 64 MiB (or the disk, if smaller).
 * One line per row: "LQTG: bench blk <name> qd=<n> bs=<b> iops=<n> mbps=<x>". */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_tsc.h"
#include "tg_virtio.h"

#define BENCH_MS 2000
#define QD_MAX 32
#define BIG (1u << 20)

struct bench_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct tg_vq tg_bq __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_bbuf[QD_MAX][4096] __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_bbig[BIG] __attribute__((aligned(4096), section(".bss.noinit")));
static struct bench_hdr tg_bhdr[QD_MAX];
static uint8_t tg_bstatus[QD_MAX];

struct bench_row {
	const char *name;
	uint32_t type;      /* 0 read, 1 write */
	unsigned qd, bs;
	bool sequential;
};

static uint64_t tg_bench_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Puts request slot k (descriptors 3k..3k+2) on the avail ring. */
static void tg_bench_post(const struct bench_row *r, unsigned k, uint64_t sector)
{
	struct tg_vq_desc *d = &tg_bq.desc[3 * k];
	void *data = r->bs == BIG ? (void *)tg_bbig : (void *)tg_bbuf[k];

	tg_bhdr[k] = (struct bench_hdr){ r->type, 0, sector };
	d[0] = (struct tg_vq_desc){ (uintptr_t)&tg_bhdr[k], 16, 1, (uint16_t)(3 * k + 1) };
	d[1] = (struct tg_vq_desc){ (uintptr_t)data, r->bs, (uint16_t)(1 | (r->type ? 0 : 2)),
				    (uint16_t)(3 * k + 2) };
	d[2] = (struct tg_vq_desc){ (uintptr_t)&tg_bstatus[k], 1, 2, 0 };
	tg_bq.avail.ring[tg_bq.avail.idx % tg_bq.size] = (uint16_t)(3 * k);
	__atomic_store_n(&tg_bq.avail.idx, (uint16_t)(tg_bq.avail.idx + 1), __ATOMIC_RELEASE);
}

static bool tg_bench_row(const struct bench_row *r, uint64_t blocks)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL, next = 0, done = 0, t0, end, ns;
	unsigned per = r->bs / 512;

	for (unsigned k = 0; k < r->qd; k++) {
		tg_bench_post(r, k, r->sequential ? (next++ % blocks) * per :
						    (tg_bench_rand(&seed) % blocks) * per);
	}
	t0 = tg_rdtsc();
	end = t0 + BENCH_MS * tg_tsc_khz;
	tg_virtio_kick(&tg_bq);
	while (tg_rdtsc() < end) {
		uint16_t used = __atomic_load_n(&tg_bq.used.idx, __ATOMIC_ACQUIRE);
		bool posted = false;

		while (tg_bq.last_used != used) {
			unsigned k = tg_bq.used.ring[tg_bq.last_used % tg_bq.size].id / 3;

			tg_bq.last_used++;
			if (tg_bstatus[k]) {
				tg_printf("LQTG: bench FAIL %s status=%u\n", r->name, tg_bstatus[k]);
				return false;
			}
			done++;
			tg_bench_post(r, k, r->sequential ? (next++ % blocks) * per :
							    (tg_bench_rand(&seed) % blocks) * per);
			posted = true;
		}
		if (posted)
			tg_virtio_kick(&tg_bq);
	}
	ns = (tg_rdtsc() - t0) * 1000000ULL / tg_tsc_khz;
	/* Drain what is still in flight before the next row. */
	while (tg_bq.last_used != tg_bq.avail.idx)
		if (__atomic_load_n(&tg_bq.used.idx, __ATOMIC_ACQUIRE) != tg_bq.last_used)
			tg_bq.last_used++;
	{
		uint64_t iops = done * 1000000000ULL / ns, kbps = done * (r->bs / 1024) * 1000000000ULL / ns;

		tg_printf("LQTG: bench blk %s qd=%u bs=%u iops=%llu mbps=%llu.%llu\n", r->name, r->qd,
			  r->bs, (unsigned long long)iops, (unsigned long long)(kbps / 1024),
			  (unsigned long long)(kbps % 1024 * 10 / 1024));
	}
	return true;
}

static uint64_t tg_bench_user(void *arg)
{
	static const struct bench_row rows[] = {
		{ "randread", 0, 1, 4096, false }, { "randwrite", 1, 1, 4096, false },
		{ "randread", 0, QD_MAX, 4096, false }, { "randwrite", 1, QD_MAX, 4096, false },
		{ "seqread", 0, 1, BIG, true }, { "seqwrite", 1, 1, BIG, true },
	};
	struct tg_virtio *d = arg;
	uint64_t cap;

	if (tg_virtio_init(d, 0) == ~0ULL || !tg_virtio_queue(d, 0, &tg_bq) || tg_bq.size < 3 * QD_MAX) {
		tg_printf("LQTG: bench FAIL device set-up (queue size %u)\n", tg_bq.size);
		return 0;
	}
	tg_virtio_driver_ok(d);
	tg_bq.avail.flags = 1; /* polling: no interrupts */
	cap = *(volatile uint64_t *)d->device;
	if (cap > 64 * 2048)
		cap = 64 * 2048;
	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (!tg_bench_row(&rows[i], cap / (rows[i].bs / 512)))
			return 0;
	return 1;
}

bool tg_bench_blk(void)
{
	static struct tg_virtio d;

	if (!tg_virtio_find(0x1042, 0, &d)) {
		tg_printf("LQTG: bench FAIL no virtio-blk device\n");
		return false;
	}
	return tg_user_run(tg_bench_user, &d) == 1;
}
