/* tests=rng: virtio-rng hands back the buffer full, and not all zeros. */
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_virtio.h"

static struct tg_vq tg_rng_q __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_rng_buf[256];

static uint64_t tg_rng_user(void *arg)
{
	struct tg_virtio *d = arg;
	uint64_t addr = (uintptr_t)tg_rng_buf;
	uint32_t len = sizeof(tg_rng_buf);
	uint16_t flags = 2;
	unsigned nonzero = 0;
	int64_t got;

	if (tg_virtio_init(d, 0) == ~0ULL || !tg_virtio_queue(d, 0, &tg_rng_q))
		return 0;
	tg_virtio_driver_ok(d);
	memset(tg_rng_buf, 0, sizeof(tg_rng_buf));
	got = tg_virtio_xfer(&tg_rng_q, &addr, &len, &flags, 1);
	for (unsigned i = 0; i < sizeof(tg_rng_buf); i++)
		nonzero += tg_rng_buf[i] != 0;
	if (got != (int64_t)sizeof(tg_rng_buf) || nonzero < sizeof(tg_rng_buf) / 2) {
		tg_printf("LQTG: rng FAIL got=%lld nonzero=%u\n", (long long)got, nonzero);
		return 0;
	}
	tg_printf("LQTG: rng ok bytes=%lld\n", (long long)got);
	return 1;
}

bool tg_test_rng(void)
{
	static struct tg_virtio d;

	if (!tg_virtio_find(0x1044, 0, &d)) {
		tg_printf("LQTG: rng FAIL no virtio-rng device\n");
		return false;
	}
	return tg_user_run(tg_rng_user, &d) == 1;
}
