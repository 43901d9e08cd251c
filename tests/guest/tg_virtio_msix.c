/* tests=msix: a virtio-blk queue with an MSI-X vector interrupts the
 * BSP for completions, and stops when the driver sets NO_INTERRUPT. */
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_virtio.h"

static struct tg_vq tg_msix_q __attribute__((aligned(4096), section(".bss.noinit")));
static uint8_t tg_msix_buf[512] __attribute__((aligned(512)));
static struct { uint32_t type, reserved; uint64_t sector; } tg_msix_hdr;
static uint8_t tg_msix_status;

/* n reads; with wait_irq each one waits for its interrupt before the
 * next, since two completions that come close together may share one
 * (the second message finds the vector still pending). */
static bool tg_msix_reads(unsigned n, bool wait_irq)
{
	uint64_t addr[3] = { (uintptr_t)&tg_msix_hdr, (uintptr_t)tg_msix_buf, (uintptr_t)&tg_msix_status };
	uint32_t len[3] = { sizeof(tg_msix_hdr), sizeof(tg_msix_buf), 1 };
	uint16_t flags[3] = { 0, 2, 2 };

	for (unsigned i = 0; i < n; i++) {
		tg_msix_hdr.type = 0;
		tg_msix_hdr.sector = i % 8;
		uint64_t before = tg_virtio_irqs;

		if (tg_virtio_xfer(&tg_msix_q, addr, len, flags, 3) < 0 || tg_msix_status) {
			tg_printf("LQTG: msix FAIL read %u: status %u\n", i, tg_msix_status);
			return false;
		}
		for (volatile unsigned spin = 0; wait_irq && tg_virtio_irqs == before && spin < 10000000;
		     spin++)
			;
	}
	return true;
}

static uint64_t tg_msix_user(void *arg)
{
	struct tg_virtio *d = arg;
	uint64_t on, off;

	if (tg_virtio_init(d, 0) == ~0ULL || !tg_virtio_queue(d, 0, &tg_msix_q)) {
		tg_printf("LQTG: msix FAIL device set-up\n");
		return 0;
	}
	tg_virtio_driver_ok(d);
	if (!tg_msix_reads(20, true))
		return 0;
	/* Interrupts are delivered by now or never: give them a moment. */
	for (volatile unsigned spin = 0; spin < 1000000; spin++)
		;
	on = tg_virtio_irqs;
	tg_msix_q.avail.flags = 1; /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	if (!tg_msix_reads(20, false))
		return 0;
	for (volatile unsigned spin = 0; spin < 1000000; spin++)
		;
	off = tg_virtio_irqs - on;
	if (on == 0 || off > 1) {
		tg_printf("LQTG: msix FAIL irqs=%llu with interrupts on, %llu with them off\n",
			  (unsigned long long)on, (unsigned long long)off);
		return 0;
	}
	tg_printf("LQTG: msix ok irqs=%llu suppressed=%llu\n", (unsigned long long)on,
		  (unsigned long long)off);
	return 1;
}

bool tg_test_msix(void)
{
	static struct tg_virtio d;

	if (!tg_virtio_find(0x1042, 0, &d) || !tg_virtio_msix_enable(&d)) {
		tg_printf("LQTG: msix FAIL no virtio-blk device with MSI-X\n");
		return false;
	}
	tg_virtio_irqs = 0;
	return tg_user_run_irq(tg_msix_user, &d) == 1;
}
