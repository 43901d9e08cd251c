/* tests=console: a line out through virtio-console port 0 (hvc0); the
 * host side (the test script) finds it in the console's file. */
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_virtio.h"

static struct tg_vq tg_con_rx __attribute__((aligned(4096), section(".bss.noinit")));
static struct tg_vq tg_con_tx __attribute__((aligned(4096), section(".bss.noinit")));
static const char tg_con_msg[] = "LQTG: hvc hello\n";

static uint64_t tg_con_user(void *arg)
{
	struct tg_virtio *d = arg;
	uint64_t addr = (uintptr_t)tg_con_msg;
	uint32_t len = sizeof(tg_con_msg) - 1;
	uint16_t flags = 0;

	/* No MULTIPORT: queue 0 receives, queue 1 transmits for port 0. */
	if (tg_virtio_init(d, 0) == ~0ULL || !tg_virtio_queue(d, 0, &tg_con_rx) ||
	    !tg_virtio_queue(d, 1, &tg_con_tx))
		return 0;
	tg_virtio_driver_ok(d);
	if (tg_virtio_xfer(&tg_con_tx, &addr, &len, &flags, 1) < 0) {
		tg_printf("LQTG: console FAIL transmit buffer never came back\n");
		return 0;
	}
	tg_printf("LQTG: console ok\n");
	return 1;
}

bool tg_test_console(void)
{
	static struct tg_virtio d;

	if (!tg_virtio_find(0x1043, 0, &d)) {
		tg_printf("LQTG: console FAIL no virtio-console device\n");
		return false;
	}
	return tg_user_run(tg_con_user, &d) == 1;
}
