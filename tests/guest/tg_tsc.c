/* TSC calibration: count TSC cycles across a 10 ms interval of a fixed-
 * frequency timer: the PIT (every PC-like VMM has one, lq-vmm through
 * KVM's in-kernel PIT), else the ACPI PM timer. */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_tsc.h"

#define TG_PIT_HZ 1193182u
#define TG_PM_TMR_HZ 3579545u
#define TG_CAL_MS 10u
#define TG_TSC_GUESS_KHZ 4000000u
/* No reference timer runs slower than this many TSC cycles per 10 ms. */
#define TG_CAL_GIVE_UP (TG_TSC_GUESS_KHZ * 100ULL)

uint64_t tg_tsc_khz = TG_TSC_GUESS_KHZ;

uint64_t tg_tsc_deadline_us(uint64_t us)
{
	return tg_rdtsc() + us * tg_tsc_khz / 1000;
}

void tg_tsc_delay_us(uint64_t us)
{
	uint64_t end = tg_tsc_deadline_us(us);

	while (tg_rdtsc() < end)
		tg_pause();
}

/* Latches and reads PIT channel 0's count; *tsc is the TSC midway
 * through the read, which takes several VM exits. */
static uint16_t tg_pit_read0(uint64_t *tsc)
{
	uint64_t t0 = tg_rdtsc();
	uint8_t lo, hi;

	tg_outb(0x43, 0x00); /* counter latch, channel 0 */
	lo = tg_inb(0x40);
	hi = tg_inb(0x40);
	*tsc = t0 + (tg_rdtsc() - t0) / 2;
	return (uint16_t)(lo | hi << 8);
}

/* TSC kHz from PIT channel 0 counting down from 65536 in mode 2, over
 * at least 10 ms; 0 if there is no PIT. Channel 0 rather than the classic
 * channel 2: channel 2's gate is port 0x61, which QEMU's microvm lacks.
 * IRQ 0 is masked (tg_irq_mask_legacy); the channel is left one-shot. */
static uint64_t tg_cal_pit(void)
{
	uint32_t want = TG_PIT_HZ / (1000 / TG_CAL_MS), got = 0;
	uint16_t prev, cur;
	uint64_t t0, t;

	tg_outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 */
	tg_outb(0x40, 0);
	tg_outb(0x40, 0);
	prev = tg_pit_read0(&t0);
	if (prev == 0xffff && tg_pit_read0(&t0) == 0xffff)
		return 0; /* nothing answers at port 0x40 */
	do {
		cur = tg_pit_read0(&t);
		got += (uint16_t)(prev - cur);
		prev = cur;
		if (t - t0 > TG_CAL_GIVE_UP)
			return 0;
	} while (got < want);
	tg_outb(0x43, 0x30); /* channel 0, mode 0: one more count, then quiet */
	tg_outb(0x40, 1);
	tg_outb(0x40, 0);
	return (t - t0) * TG_PIT_HZ / got / 1000;
}

/* The same against the ACPI PM timer (3.58 MHz, 24 or 32 bits). */
static uint64_t tg_cal_pm_timer(const struct tg_acpi *a)
{
	uint32_t mask = a->pm_tmr_32bit ? 0xffffffffu : 0xffffffu;
	uint32_t want = TG_PM_TMR_HZ / (1000 / TG_CAL_MS), got = 0, prev, cur;
	uint64_t t0, t, m;

	if (!a->pm_tmr)
		return 0;
	m = tg_rdtsc();
	prev = tg_inl(a->pm_tmr);
	t0 = m + (tg_rdtsc() - m) / 2;
	do {
		m = tg_rdtsc();
		cur = tg_inl(a->pm_tmr);
		t = m + (tg_rdtsc() - m) / 2;
		got += (cur - prev) & mask;
		prev = cur;
		if (t - t0 > TG_CAL_GIVE_UP)
			return 0;
	} while (got < want);
	return (t - t0) * TG_PM_TMR_HZ / got / 1000;
}

void tg_tsc_calibrate(const struct tg_acpi *a)
{
	const char *src = "pit";
	uint64_t khz = tg_cal_pit();

	if (!khz) {
		src = "acpi-pm-timer";
		khz = tg_cal_pm_timer(a);
	}
	if (khz < 100000) { /* below 100 MHz: not believable */
		tg_printf("LQTG: tsc calibration failed, assuming %u MHz\n",
			  TG_TSC_GUESS_KHZ / 1000);
		return;
	}
	tg_tsc_khz = khz;
	tg_printf("LQTG: tsc=%llu MHz (%s)\n", (unsigned long long)(khz / 1000), src);
}
