/* tests=blk: virtio-blk end to end: patterns written and read back in
 * requests of 1..256 sectors, flush, get-id, write-zeroes and discard,
 * a read past the end (must fail with IOERR, not hang); tests=blkbad: a
 * looping descriptor chain must put the device in NEEDS_RESET. */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_tsc.h"
#include "tg_virtio.h"

#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_T_DISCARD 11
#define BLK_T_WRITE_ZEROES 13
#define BLK_F_RO 5
#define BLK_F_FLUSH 9
#define BLK_F_MQ 12
#define BLK_F_DISCARD 13
#define BLK_F_WRITE_ZEROES 14
#define MAX_SECTORS 256
#define SPAN (64u * 2048) /* stay within the first 64 MiB */

struct blk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct tg_vq tg_blk_q __attribute__((aligned(4096), section(".bss.noinit")));
static struct tg_vq tg_blk_q1 __attribute__((aligned(4096), section(".bss.noinit")));
static struct tg_vq *tg_blk_cur = &tg_blk_q; /* where tg_blk_req posts */
static uint64_t tg_blk_buf[MAX_SECTORS * 64] __attribute__((aligned(4096), section(".bss.noinit")));
static struct blk_hdr tg_blk_hdr;
static uint8_t tg_blk_status;

struct tg_blk_job {
	struct tg_virtio d;
	bool bad;
	char fail[96];
};

/* One request; returns the status byte, or 0xff on timeout. */
static uint8_t tg_blk_req(uint32_t type, uint64_t sector, void *data, uint32_t len, bool in)
{
	uint64_t addr[3] = { (uintptr_t)&tg_blk_hdr, (uintptr_t)data, (uintptr_t)&tg_blk_status };
	uint32_t lens[3] = { sizeof(tg_blk_hdr), len, 1 };
	uint16_t flags[3] = { 0, (uint16_t)(in ? 2 : 0), 2 };

	tg_blk_hdr = (struct blk_hdr){ type, 0, sector };
	tg_blk_status = 0xee;
	if (!len) {
		addr[1] = addr[2];
		lens[1] = 1;
		flags[1] = 2;
		return tg_virtio_xfer(tg_blk_cur, addr, lens, flags, 2) < 0 ? 0xff : tg_blk_status;
	}
	return tg_virtio_xfer(tg_blk_cur, addr, lens, flags, 3) < 0 ? 0xff : tg_blk_status;
}

static void tg_blk_fill(uint64_t sector, unsigned n, uint64_t seed)
{
	for (unsigned i = 0; i < n * 64; i++)
		tg_blk_buf[i] = (sector + i / 64) << 32 ^ seed ^ i;
}

static bool tg_blk_patterns(struct tg_blk_job *j, uint64_t cap, unsigned *writes, unsigned *reads)
{
	uint64_t span = cap < SPAN ? cap : SPAN;

	for (unsigned k = 0; k < 48; k++) {
		unsigned n = 1 + (k * 37) % MAX_SECTORS;
		uint64_t s = (k * 7919ULL) % (span - MAX_SECTORS), seed = 0x5eed0000ULL + k;
		uint8_t st;

		tg_blk_fill(s, n, seed);
		st = tg_blk_req(BLK_T_OUT, s, tg_blk_buf, n * 512, false);
		if (st) {
			tg_snprintf(j->fail, sizeof(j->fail), "blk write sector=%llu n=%u status=%u",
				    (unsigned long long)s, n, st);
			return false;
		}
		(*writes)++;
		memset(tg_blk_buf, 0xa5, n * 512);
		st = tg_blk_req(BLK_T_IN, s, tg_blk_buf, n * 512, true);
		for (unsigned i = 0; !st && i < n * 64; i++) {
			uint64_t want = (s + i / 64) << 32 ^ seed ^ i;

			if (tg_blk_buf[i] != want) {
				tg_snprintf(j->fail, sizeof(j->fail),
					    "blk data sector=%llu word=%u expected=%llx got=%llx",
					    (unsigned long long)(s + i / 64), i % 64,
					    (unsigned long long)want, (unsigned long long)tg_blk_buf[i]);
				return false;
			}
		}
		if (st) {
			tg_snprintf(j->fail, sizeof(j->fail), "blk read status=%u", st);
			return false;
		}
		(*reads)++;
	}
	return true;
}

/* With VIRTIO_BLK_F_MQ and two or more queues: what one queue writes,
 * the other reads, both ways. Sectors 5000.. are not checked by the host. */
static bool tg_blk_mq(struct tg_blk_job *j)
{
	for (unsigned k = 0; k < 2; k++) {
		struct tg_vq *wq = k ? &tg_blk_q : &tg_blk_q1, *rq = k ? &tg_blk_q1 : &tg_blk_q;
		uint64_t seed = 0x3a3a0000ULL + k;
		uint8_t st;

		tg_blk_fill(5000 + 16 * k, 16, seed);
		tg_blk_cur = wq;
		st = tg_blk_req(BLK_T_OUT, 5000 + 16 * k, tg_blk_buf, 16 * 512, false);
		memset(tg_blk_buf, 0xa5, 16 * 512);
		tg_blk_cur = rq;
		if (!st)
			st = tg_blk_req(BLK_T_IN, 5000 + 16 * k, tg_blk_buf, 16 * 512, true);
		tg_blk_cur = &tg_blk_q;
		for (unsigned i = 0; !st && i < 16 * 64; i++)
			if (tg_blk_buf[i] != ((5000ULL + 16 * k + i / 64) << 32 ^ seed ^ i))
				st = 0x77;
		if (st) {
			tg_snprintf(j->fail, sizeof(j->fail), "blk mq: pass %u status=%u", k, st);
			return false;
		}
	}
	return true;
}

static uint64_t tg_blk_user(void *arg)
{
	struct tg_blk_job *j = arg;
	uint64_t feat, cap;
	unsigned writes = 0, reads = 0, queues;
	char id[21] = { 0 };
	const char *wz = "unsupported", *disc = "unsupported";
	uint8_t st;

	feat = tg_virtio_init(&j->d, 1ULL << BLK_F_RO | 1ULL << BLK_F_FLUSH | 1ULL << BLK_F_DISCARD |
					     1ULL << BLK_F_WRITE_ZEROES | 1ULL << BLK_F_MQ);
	if (feat == ~0ULL || !tg_virtio_queue(&j->d, 0, &tg_blk_q)) {
		tg_snprintf(j->fail, sizeof(j->fail), "blk set-up (features %llx)",
			    (unsigned long long)j->d.features);
		return 0;
	}
	queues = *(volatile uint16_t *)(j->d.device + 34); /* num_queues */
	if (!(feat & 1ULL << BLK_F_MQ) || queues < 2) {
		queues = 1;
	} else if (!tg_virtio_queue(&j->d, 1, &tg_blk_q1)) {
		tg_snprintf(j->fail, sizeof(j->fail), "blk mq: queue 1 set-up");
		return 0;
	}
	tg_virtio_driver_ok(&j->d);
	cap = *(volatile uint64_t *)j->d.device;
	if (j->bad) {
		/* A chain whose descriptor points back at itself. */
		uint64_t t0 = tg_rdtsc();

		tg_blk_q.desc[0] = (struct tg_vq_desc){ (uintptr_t)&tg_blk_hdr, 16, 1, 0 };
		tg_blk_q.avail.ring[0] = 0;
		__atomic_store_n(&tg_blk_q.avail.idx, 1, __ATOMIC_RELEASE);
		*tg_blk_q.notify = 0;
		while (!(tg_virtio_status(&j->d) & 0x40))
			if (tg_rdtsc() - t0 > 2000ULL * tg_tsc_khz) {
				tg_snprintf(j->fail, sizeof(j->fail), "blkbad: no NEEDS_RESET");
				return 0;
			}
		tg_printf("LQTG: blkbad ok status=0x%x\n", tg_virtio_status(&j->d));
		return 1;
	}
	st = tg_blk_req(BLK_T_GET_ID, 0, id, 20, true);
	tg_printf("LQTG: blk capacity=%llu serial=%s ro=%d\n", (unsigned long long)cap,
		  st ? "?" : id, (int)!!(feat & 1ULL << BLK_F_RO));
	if (feat & 1ULL << BLK_F_RO) {
		st = tg_blk_req(BLK_T_OUT, 0, tg_blk_buf, 512, false);
		if (st != 1) {
			tg_snprintf(j->fail, sizeof(j->fail), "blkro: write status=%u, expected IOERR", st);
			return 0;
		}
		tg_printf("LQTG: blkro ok\n");
		return 1;
	}
	if (cap < 2 * MAX_SECTORS || !tg_blk_patterns(j, cap, &writes, &reads))
		return j->fail[0] ? 0 : (tg_snprintf(j->fail, sizeof(j->fail), "blk too small"), 0);
	if ((feat & 1ULL << BLK_F_FLUSH) && (st = tg_blk_req(BLK_T_FLUSH, 0, NULL, 0, false))) {
		tg_snprintf(j->fail, sizeof(j->fail), "blk flush status=%u", st);
		return 0;
	}
	if (feat & 1ULL << BLK_F_WRITE_ZEROES) {
		struct { uint64_t sector; uint32_t n, flags; } seg = { 100, 16, 0 };

		st = tg_blk_req(BLK_T_WRITE_ZEROES, 0, &seg, sizeof(seg), false);
		memset(tg_blk_buf, 0xa5, 16 * 512);
		if (!st)
			st = tg_blk_req(BLK_T_IN, 100, tg_blk_buf, 16 * 512, true);
		for (unsigned i = 0; !st && i < 16 * 64; i++)
			if (tg_blk_buf[i])
				st = 0x77;
		if (st) {
			tg_snprintf(j->fail, sizeof(j->fail), "blk write_zeroes status=%u", st);
			return 0;
		}
		wz = "ok";
	}
	if (queues > 1) {
		if (!tg_blk_mq(j))
			return 0;
		tg_printf("LQTG: blk mq ok queues=%u\n", queues);
	}
	if (feat & 1ULL << BLK_F_DISCARD) {
		struct { uint64_t sector; uint32_t n, flags; } seg = { 2048, 2048, 0 };

		if ((st = tg_blk_req(BLK_T_DISCARD, 0, &seg, sizeof(seg), false))) {
			tg_snprintf(j->fail, sizeof(j->fail), "blk discard status=%u", st);
			return 0;
		}
		disc = "ok";
	}
	st = tg_blk_req(BLK_T_IN, cap, tg_blk_buf, 512, true);
	if (st != 1) {
		tg_snprintf(j->fail, sizeof(j->fail), "blk read past the end: status=%u, expected IOERR", st);
		return 0;
	}
	tg_printf("LQTG: blk ok writes=%u reads=%u flush=ok discard=%s write_zeroes=%s\n", writes,
		  reads, disc, wz);
	return 1;
}

bool tg_test_blk(bool bad)
{
	static struct tg_blk_job job;

	memset(&job, 0, sizeof(job));
	job.bad = bad;
	if (!tg_virtio_find(0x1042, 0, &job.d)) {
		tg_printf("LQTG: blk FAIL no virtio-blk device\n");
		return false;
	}
	tg_printf("LQTG: virtio: 00:%02x.0 blk\n", job.d.slot);
	if (tg_user_run(tg_blk_user, &job))
		return true;
	tg_printf("LQTG: %s FAIL %s\n", bad ? "blkbad" : "blk", job.fail);
	return false;
}
