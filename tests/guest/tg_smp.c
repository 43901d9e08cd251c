/* SMP: start every AP the MADT lists with INIT, SIPI, SIPI (the MP-spec
 * sequence), each through the real-mode trampoline into tg_ap_main, and
 * count the ones that report. APs end halted with interrupts off. */
#include <stddef.h>

#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_lapic.h"
#include "tg_string.h"
#include "tg_tests.h"
#include "tg_tsc.h"

#define TG_INIT_DELAY_US 10000
#define TG_SIPI_DELAY_US 200
#define TG_AP_WAIT_US 3000000

struct tg_tramp_params {
	uint16_t pad, gdt_limit;
	uint32_t gdt_base;
	uint32_t cr3;
	uint32_t next;
	uint64_t stack_base, stack_size, entry;
};

_Static_assert(offsetof(struct tg_tramp_params, gdt_limit) == TG_TP_GDTR, "trampoline ABI");
_Static_assert(offsetof(struct tg_tramp_params, cr3) == TG_TP_CR3, "trampoline ABI");
_Static_assert(offsetof(struct tg_tramp_params, next) == TG_TP_NEXT, "trampoline ABI");
_Static_assert(offsetof(struct tg_tramp_params, stack_base) == TG_TP_STACK_BASE, "trampoline ABI");
_Static_assert(offsetof(struct tg_tramp_params, stack_size) == TG_TP_STACK_SIZE, "trampoline ABI");
_Static_assert(offsetof(struct tg_tramp_params, entry) == TG_TP_ENTRY, "trampoline ABI");
_Static_assert(sizeof(struct tg_tramp_params) == TG_TP_SIZE, "trampoline ABI");

extern const uint8_t tg_tramp_start[], tg_tramp_params[], tg_tramp_end[];

static volatile unsigned tg_aps_up;

void tg_ap_main(unsigned idx)
{
	unsigned cpu = idx + 1;

	if (cpu >= TG_MAX_CPUS)
		tg_halt_forever(); /* more APs woke than we sent SIPIs to */
	tg_desc_load(cpu);
	tg_lapic_enable();
	tg_cpus[cpu].apic_id = tg_lapic_id();
	__atomic_fetch_add(&tg_aps_up, 1, __ATOMIC_RELEASE);
	tg_halt_forever();
}

static void tg_smp_install_trampoline(void)
{
	uint8_t *dst = (uint8_t *)(uintptr_t)TG_TRAMP_BASE;
	struct tg_tramp_params *p =
		(struct tg_tramp_params *)(dst + (tg_tramp_params - tg_tramp_start));

	memcpy(dst, tg_tramp_start, (size_t)(tg_tramp_end - tg_tramp_start));
	*p = (struct tg_tramp_params){
		.gdt_limit = sizeof(tg_gdt) - 1,
		.gdt_base = (uint32_t)(uintptr_t)tg_gdt,
		.cr3 = (uint32_t)tg_paging_cr3(),
		.next = 0,
		.stack_base = (uintptr_t)tg_kstacks[1],
		.stack_size = TG_KSTACK_SIZE,
		.entry = (uintptr_t)tg_ap_main,
	};
}

/* Reports the APs that never showed up. */
static void tg_smp_report_missing(const uint32_t *ids, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool seen = false;

		for (unsigned c = 1; c <= n && c < TG_MAX_CPUS; c++)
			seen |= tg_cpus[c].apic_id == ids[i];
		if (!seen)
			tg_printf("LQTG: smp: APIC id %u did not come up\n", ids[i]);
	}
}

static void tg_smp_ipi_all(const uint32_t *ids, unsigned n, uint32_t icr)
{
	for (unsigned i = 0; i < n; i++)
		if (!tg_lapic_ipi(ids[i], icr))
			tg_printf("LQTG: smp: IPI 0x%x to APIC id %u stuck\n", icr, ids[i]);
}

bool tg_test_smp(const struct tg_acpi *a)
{
	uint32_t self = tg_lapic_id(), ids[TG_MAX_CPUS];
	unsigned n = 0, expected = a->n_lapics ? a->n_lapics : 1, up;
	uint64_t end;

	if (!a->have_madt) {
		tg_printf("LQTG: cpus=1\nLQTG: smp FAIL no MADT\n");
		return false;
	}
	for (unsigned i = 0; i < a->n_lapics; i++)
		if (a->lapic_ids[i] != self && n < TG_MAX_CPUS - 1)
			ids[n++] = a->lapic_ids[i];
	tg_smp_install_trampoline();
	tg_smp_ipi_all(ids, n, TG_ICR_INIT);
	tg_tsc_delay_us(TG_INIT_DELAY_US);
	for (unsigned k = 0; k < 2; k++) {
		tg_smp_ipi_all(ids, n, TG_ICR_STARTUP | (TG_TRAMP_BASE >> 12));
		tg_tsc_delay_us(TG_SIPI_DELAY_US);
	}
	end = tg_tsc_deadline_us(TG_AP_WAIT_US);
	while (__atomic_load_n(&tg_aps_up, __ATOMIC_ACQUIRE) < n && tg_rdtsc() < end)
		tg_pause();
	up = __atomic_load_n(&tg_aps_up, __ATOMIC_ACQUIRE);
	tg_printf("LQTG: cpus=%u\n", 1 + up);
	if (1 + up != expected) {
		tg_smp_report_missing(ids, n);
		tg_printf("LQTG: smp FAIL expected=%u got=%u\n", expected, 1 + up);
		return false;
	}
	return true;
}
