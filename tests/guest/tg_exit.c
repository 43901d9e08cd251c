/* The ways out: ACPI S5, the debug exit port, a deliberate triple fault. */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_exit.h"
#include "tg_tsc.h"

#define TG_SLP_EN (1u << 13)
#define TG_SLP_TYP_SHIFT 10
/* Hardware-reduced ACPI's sleep control register: SLP_TYP 4:2, SLP_EN 5. */
#define TG_HWR_SLP_EN (1u << 5)
#define TG_HWR_SLP_TYP_SHIFT 2
#define TG_POWEROFF_WAIT_US 1000000

static const struct tg_acpi *tg_exit_acpi;

void tg_exit_set_acpi(const struct tg_acpi *a)
{
	tg_exit_acpi = a;
}

static void tg_debug_exit(uint32_t code)
{
	tg_outl(TG_DEBUG_EXIT_PORT, code);
}

/* Writes S5 to whichever register the FADT offers; false if none. */
static bool tg_acpi_s5(void)
{
	const struct tg_acpi *a = tg_exit_acpi;
	uint8_t v;

	if (!a || !a->have_fadt || !a->have_s5)
		return false;
	if (a->pm1a_cnt && !a->hw_reduced) {
		tg_outw(a->pm1a_cnt, (uint16_t)((a->s5_typ << TG_SLP_TYP_SHIFT) | TG_SLP_EN));
		return true;
	}
	if (!a->sleep_ctl.addr)
		return false;
	v = (uint8_t)(((a->s5_typ & 7) << TG_HWR_SLP_TYP_SHIFT) | TG_HWR_SLP_EN);
	if (a->sleep_ctl.space == 1)
		tg_outb((uint16_t)a->sleep_ctl.addr, v);
	else if (a->sleep_ctl.space == 0 && a->sleep_ctl.addr < 0x100000000ULL)
		*(volatile uint8_t *)(uintptr_t)a->sleep_ctl.addr = v;
	else
		return false;
	return true;
}

void tg_exit_poweroff(void)
{
	if (!tg_acpi_s5())
		tg_printf("LQTG: no ACPI S5 register (FADT/DSDT \\_S5 missing)\n");
	/* The VMM may stop us a little after the write (QEMU does it from
	 * its main loop), so give it time before calling it a failure. */
	tg_tsc_delay_us(TG_POWEROFF_WAIT_US);
	tg_printf("LQTG: poweroff failed\n");
	tg_debug_exit(TG_EXIT_CODE_POWEROFF_FAILED);
	tg_halt_forever();
}

void tg_exit_pass(void)
{
	tg_printf("LQTG: PASS\n");
	tg_exit_poweroff();
}

void tg_exit_fail(const char *what)
{
	tg_printf("LQTG: FAIL %s\n", what);
	tg_debug_exit(TG_EXIT_CODE_FAIL);
	tg_halt_forever();
}

void tg_exit_reset(void)
{
	const struct tg_acpi *a = tg_exit_acpi;

	if (!a || !a->reset_reg.addr)
		tg_exit_fail("exit=reset: the FADT has no reset register");
	if (a->reset_reg.space == 1)
		tg_outb((uint16_t)a->reset_reg.addr, a->reset_value);
	else if (a->reset_reg.space == 0 && a->reset_reg.addr < 0x100000000ULL)
		*(volatile uint8_t *)(uintptr_t)a->reset_reg.addr = a->reset_value;
	else
		tg_exit_fail("exit=reset: reset register in an unsupported space");
	tg_tsc_delay_us(TG_POWEROFF_WAIT_US);
	tg_exit_fail("exit=reset: still running after the reset write");
}

void tg_exit_triple_fault(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty = { 0, 0 };

	/* #UD finds no IDT entry -> #GP -> #DF -> shutdown. ud2 rather than
	 * int3: int3 in ring 0 is one of the instructions PVM cannot run. */
	__asm__ volatile("lidt %0\n\tud2" : : "m"(empty) : "memory");
	tg_halt_forever();
}
