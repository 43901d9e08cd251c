/* tests/guest: the local APIC in xAPIC (MMIO) mode, ring 0 only. */
#ifndef TG_LAPIC_H
#define TG_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define TG_LAPIC_DEFAULT_BASE 0xfee00000u

#define TG_LAPIC_ID 0x020
#define TG_LAPIC_EOI 0x0b0
#define TG_LAPIC_SVR 0x0f0
#define TG_LAPIC_ICR_LO 0x300
#define TG_LAPIC_ICR_HI 0x310
#define TG_LAPIC_LVT_TIMER 0x320
#define TG_LAPIC_LVT_LINT0 0x350
#define TG_LAPIC_LVT_LINT1 0x360
#define TG_LAPIC_LVT_ERROR 0x370
#define TG_LAPIC_TIMER_INIT 0x380
#define TG_LAPIC_TIMER_CUR 0x390
#define TG_LAPIC_TIMER_DIV 0x3e0

#define TG_LVT_MASKED (1u << 16)
#define TG_LVT_PERIODIC (1u << 17)

#define TG_ICR_INIT 0x00004500u    /* INIT, level assert */
#define TG_ICR_STARTUP 0x00004600u /* start-up, vector in bits 7:0 */
#define TG_ICR_BUSY (1u << 12)     /* delivery status: send pending */

/* Enables this CPU's LAPIC (base from IA32_APIC_BASE, same on all CPUs)
 * with LINT0/LINT1/timer/error masked. False if it is in x2APIC mode. */
bool tg_lapic_enable(void);
uint32_t tg_lapic_read(uint32_t reg);
void tg_lapic_write(uint32_t reg, uint32_t v);
uint32_t tg_lapic_id(void);
void tg_lapic_eoi(void);
/* Sends an IPI and waits (bounded by time) for delivery; false on timeout. */
bool tg_lapic_ipi(uint32_t dest, uint32_t icr);

/* Masks the legacy 8259 PICs and every IOAPIC pin, so nothing but the
 * LAPIC timer can interrupt (a BIOS leaves IRQ0 on vector 8 = #DF). */
void tg_irq_mask_legacy(const uint64_t *ioapics, unsigned n);

#endif
