/* Timer test: the LAPIC timer in periodic mode ticks while ring 3 spins
 * for ~200 ms; a ring-0 handler counts the ticks and sends EOI. At least
 * one tick proves timer emulation and interrupt delivery into ring 3. */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_lapic.h"
#include "tg_tests.h"
#include "tg_tsc.h"

#define TG_TIMER_DIV16 0x3
/* 10 ms at KVM's (and QEMU's) 1 GHz APIC timer clock, divided by 16. */
#define TG_TIMER_COUNT 625000u
#define TG_TIMER_SPIN_US 200000u

static volatile uint64_t tg_ticks;

static void tg_timer_tick(void)
{
	tg_ticks++;
	tg_lapic_eoi();
}

/* Ring 3: spin until the deadline. */
static uint64_t tg_timer_spin(void *arg)
{
	uint64_t end = *(const uint64_t *)arg;

	while (tg_rdtsc() < end)
		tg_pause();
	return tg_ticks;
}

bool tg_test_timer(void)
{
	uint64_t end, ticks;

	tg_ticks = 0;
	tg_timer_hook = tg_timer_tick;
	tg_lapic_write(TG_LAPIC_TIMER_DIV, TG_TIMER_DIV16);
	tg_lapic_write(TG_LAPIC_LVT_TIMER, TG_VEC_TIMER | TG_LVT_PERIODIC);
	tg_lapic_write(TG_LAPIC_TIMER_INIT, TG_TIMER_COUNT);
	end = tg_tsc_deadline_us(TG_TIMER_SPIN_US);
	tg_user_run_irq(tg_timer_spin, &end);
	tg_lapic_write(TG_LAPIC_LVT_TIMER, TG_LVT_MASKED);
	tg_lapic_write(TG_LAPIC_TIMER_INIT, 0);
	ticks = tg_ticks;
	tg_printf("LQTG: ticks=%llu\n", (unsigned long long)ticks);
	if (!ticks) {
		tg_printf("LQTG: timer FAIL no LAPIC timer interrupt in %u ms\n",
			  TG_TIMER_SPIN_US / 1000);
		return false;
	}
	return true;
}
