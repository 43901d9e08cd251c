/* Local APIC access (xAPIC MMIO). */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_lapic.h"
#include "tg_tsc.h"

#define TG_MSR_APIC_BASE 0x1b
#define TG_APIC_BASE_ENABLE (1u << 11)
#define TG_APIC_BASE_X2APIC (1u << 10)
#define TG_SVR_ENABLE (1u << 8)

static volatile uint64_t tg_lapic_base = TG_LAPIC_DEFAULT_BASE;

uint32_t tg_lapic_read(uint32_t reg)
{
	return tg_mmio_read32(tg_lapic_base + reg);
}

void tg_lapic_write(uint32_t reg, uint32_t v)
{
	tg_mmio_write32(tg_lapic_base + reg, v);
}

bool tg_lapic_enable(void)
{
	uint64_t msr = tg_rdmsr(TG_MSR_APIC_BASE);

	if (msr & TG_APIC_BASE_X2APIC)
		return false;
	if (!(msr & TG_APIC_BASE_ENABLE))
		tg_wrmsr(TG_MSR_APIC_BASE, msr | TG_APIC_BASE_ENABLE);
	tg_lapic_base = msr & 0xffffff000ULL;
	tg_lapic_write(TG_LAPIC_LVT_TIMER, TG_LVT_MASKED);
	tg_lapic_write(TG_LAPIC_LVT_LINT0, TG_LVT_MASKED);
	tg_lapic_write(TG_LAPIC_LVT_LINT1, TG_LVT_MASKED);
	tg_lapic_write(TG_LAPIC_LVT_ERROR, TG_LVT_MASKED);
	tg_lapic_write(TG_LAPIC_SVR, TG_SVR_ENABLE | 0xff);
	return true;
}

uint32_t tg_lapic_id(void)
{
	return tg_lapic_read(TG_LAPIC_ID) >> 24;
}

void tg_lapic_eoi(void)
{
	tg_lapic_write(TG_LAPIC_EOI, 0);
}

bool tg_lapic_ipi(uint32_t dest, uint32_t icr)
{
	uint64_t end = tg_tsc_deadline_us(100000);

	tg_lapic_write(TG_LAPIC_ICR_HI, dest << 24);
	tg_lapic_write(TG_LAPIC_ICR_LO, icr);
	while (tg_lapic_read(TG_LAPIC_ICR_LO) & TG_ICR_BUSY) {
		if (tg_rdtsc() > end)
			return false;
		tg_pause();
	}
	return true;
}

#define TG_PIC1_CMD 0x20
#define TG_PIC1_DATA 0x21
#define TG_PIC2_CMD 0xa0
#define TG_PIC2_DATA 0xa1
#define TG_IOAPIC_VER 0x01
#define TG_IOAPIC_REDIR 0x10

static void tg_ioapic_mask(uint64_t base)
{
	volatile uint32_t *sel = (volatile uint32_t *)(uintptr_t)base;
	volatile uint32_t *win = (volatile uint32_t *)(uintptr_t)(base + 0x10);
	unsigned pins;

	*sel = TG_IOAPIC_VER;
	pins = ((*win >> 16) & 0xff) + 1;
	for (unsigned i = 0; i < pins; i++) {
		*sel = TG_IOAPIC_REDIR + 2 * i;
		*win = *win | TG_LVT_MASKED;
	}
}

void tg_irq_mask_legacy(const uint64_t *ioapics, unsigned n)
{
	/* Re-initialise both PICs onto vectors 0x20-0x2f (away from the
	 * exceptions), then mask every line. */
	tg_outb(TG_PIC1_CMD, 0x11);
	tg_outb(TG_PIC2_CMD, 0x11);
	tg_outb(TG_PIC1_DATA, 0x20);
	tg_outb(TG_PIC2_DATA, 0x28);
	tg_outb(TG_PIC1_DATA, 0x04);
	tg_outb(TG_PIC2_DATA, 0x02);
	tg_outb(TG_PIC1_DATA, 0x01);
	tg_outb(TG_PIC2_DATA, 0x01);
	tg_outb(TG_PIC1_DATA, 0xff);
	tg_outb(TG_PIC2_DATA, 0xff);
	for (unsigned i = 0; i < n; i++)
		if (ioapics[i] >= 0xfe000000ULL && ioapics[i] < 0x100000000ULL)
			tg_ioapic_mask(ioapics[i]);
}
