/* wait=powerbutton: the guest side of a graceful shutdown. It enables
 * the ACPI fixed power button, routes the SCI through the IOAPIC, idles
 * with interrupts on (hlt between LAPIC timer ticks) and prints a tick
 * line every 100 ms, so a harness can also see whether the vCPU runs
 * (a paused VM prints none). When the SCI reports the power button it
 * powers off through S5, as an OS would. */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_exit.h"
#include "tg_lapic.h"
#include "tg_tests.h"

#define TG_PM1_PWRBTN (1u << 8) /* PWRBTN_STS in PM1_STS, PWRBTN_EN in PM1_EN */
#define TG_PM1_EN_OFF 2
#define TG_IOAPIC_REDIR 0x10
#define TG_REDIR_LEVEL (1u << 15)
#define TG_TIMER_DIV16 0x3
#define TG_TIMER_COUNT 625000u   /* 10 ms at a 1 GHz APIC clock / 16 */
#define TG_TICKS_PER_LINE 10u

static uint16_t tg_pb_evt;
static volatile uint64_t tg_pb_ticks;
static volatile bool tg_pb_pressed;

static inline uint16_t tg_inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void tg_pb_tick(void)
{
	tg_pb_ticks++;
	tg_lapic_eoi();
}

/* The SCI is level triggered: clear the status bits before the EOI, or
 * the line is still up and the interrupt comes straight back. */
static void tg_pb_sci(void)
{
	uint16_t sts = tg_inw(tg_pb_evt);

	if (sts & TG_PM1_PWRBTN)
		tg_pb_pressed = true;
	tg_outw(tg_pb_evt, sts);
}

/* GSI -> vector on the BSP, level triggered, active high (as lq-vmm's
 * MADT override says; the first IOAPIC serves GSIs from 0). */
static void tg_pb_route(uint64_t ioapic, unsigned gsi)
{
	volatile uint32_t *sel = (volatile uint32_t *)(uintptr_t)ioapic;
	volatile uint32_t *win = (volatile uint32_t *)(uintptr_t)(ioapic + 0x10);

	*sel = TG_IOAPIC_REDIR + 2 * gsi + 1;
	*win = tg_lapic_id() << 24;
	*sel = TG_IOAPIC_REDIR + 2 * gsi;
	*win = TG_VEC_SCI | TG_REDIR_LEVEL;
}

void tg_wait_powerbutton(const struct tg_acpi *a)
{
	uint64_t last = 0, lines = 0;

	if (!a->pm1a_evt || !a->n_ioapics)
		tg_exit_fail("wait=powerbutton: no PM1a event block or no IOAPIC");
	tg_pb_evt = a->pm1a_evt;
	tg_sci_hook = tg_pb_sci;
	tg_timer_hook = tg_pb_tick;
	tg_outw(tg_pb_evt, tg_inw(tg_pb_evt)); /* drop stale status */
	tg_pb_route(a->ioapic_addr[0], a->sci_irq);
	tg_outw((uint16_t)(tg_pb_evt + TG_PM1_EN_OFF), TG_PM1_PWRBTN);
	tg_lapic_write(TG_LAPIC_TIMER_DIV, TG_TIMER_DIV16);
	tg_lapic_write(TG_LAPIC_LVT_TIMER, TG_VEC_TIMER | TG_LVT_PERIODIC);
	tg_lapic_write(TG_LAPIC_TIMER_INIT, TG_TIMER_COUNT);
	tg_printf("LQTG: waiting for the power button (sci=%u)\n", a->sci_irq);
	for (;;) {
		/* sti's one-instruction shadow: no interrupt slips in between. */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		if (tg_pb_pressed) {
			tg_lapic_write(TG_LAPIC_LVT_TIMER, TG_LVT_MASKED);
			tg_printf("LQTG: power button\n");
			tg_exit_poweroff();
		}
		if (tg_pb_ticks - last >= TG_TICKS_PER_LINE) {
			last = tg_pb_ticks;
			tg_printf("LQTG: tick %llu\n", (unsigned long long)++lines);
		}
	}
}
