/* FADT: the PM1a control port (or, on hardware-reduced ACPI such as
 * QEMU's microvm, the sleep control register), the PM timer, and the
 * DSDT, whose \_S5 object gives the S5 sleep type. */
#include "tg_acpi.h"
#include "tg_console.h"
#include "tg_string.h"

#define TG_FADT_DSDT 40
#define TG_FADT_SCI_INT 46
#define TG_FADT_PM1A_EVT 56
#define TG_FADT_PM1A_CNT 64
#define TG_FADT_PM_TMR 76
#define TG_FADT_FLAGS 112
#define TG_FADT_X_DSDT 140
#define TG_FADT_X_PM1A_EVT 148
#define TG_FADT_X_PM1A_CNT 172
#define TG_FADT_X_PM_TMR 208
#define TG_FADT_RESET_REG 116
#define TG_FADT_RESET_VALUE 128
#define TG_FADT_SLEEP_CTL 244
#define TG_FADT_RESET_REG_SUP (1u << 10)
#define TG_FADT_TMR_VAL_EXT (1u << 8)
#define TG_FADT_HW_REDUCED (1u << 20)
#define TG_GAS_IO 1

/* A field exists only if the table is long enough to hold it. */
static bool tg_fadt_has(uint32_t len, uint32_t off, uint32_t size)
{
	return off + size <= len;
}

/* An I/O port from a 32-bit block field, else from its X_ GAS twin. */
static uint16_t tg_fadt_port(const uint8_t *t, uint32_t len, uint32_t off, uint32_t xoff)
{
	struct tg_gas g;

	if (tg_fadt_has(len, off, 4) && tg_acpi_u32(t + off))
		return (uint16_t)tg_acpi_u32(t + off);
	if (!tg_fadt_has(len, xoff, sizeof(g)))
		return 0;
	memcpy(&g, t + xoff, sizeof(g));
	return g.space == TG_GAS_IO ? (uint16_t)g.addr : 0;
}

void tg_acpi_parse_fadt(const uint8_t *t, struct tg_acpi *a)
{
	uint32_t len = tg_acpi_u32(t + 4);
	uint32_t flags = tg_fadt_has(len, TG_FADT_FLAGS, 4) ? tg_acpi_u32(t + TG_FADT_FLAGS) : 0;
	uint64_t dsdt = 0;
	const uint8_t *d;

	a->have_fadt = true;
	a->hw_reduced = flags & TG_FADT_HW_REDUCED;
	a->pm_tmr_32bit = flags & TG_FADT_TMR_VAL_EXT;
	a->pm1a_cnt = tg_fadt_port(t, len, TG_FADT_PM1A_CNT, TG_FADT_X_PM1A_CNT);
	a->pm_tmr = tg_fadt_port(t, len, TG_FADT_PM_TMR, TG_FADT_X_PM_TMR);
	a->pm1a_evt = tg_fadt_port(t, len, TG_FADT_PM1A_EVT, TG_FADT_X_PM1A_EVT);
	if (tg_fadt_has(len, TG_FADT_SCI_INT, 2))
		a->sci_irq = (uint16_t)(t[TG_FADT_SCI_INT] | t[TG_FADT_SCI_INT + 1] << 8);
	if ((flags & TG_FADT_RESET_REG_SUP) && tg_fadt_has(len, TG_FADT_RESET_VALUE, 1)) {
		memcpy(&a->reset_reg, t + TG_FADT_RESET_REG, sizeof(a->reset_reg));
		a->reset_value = t[TG_FADT_RESET_VALUE];
	}
	if (tg_fadt_has(len, TG_FADT_SLEEP_CTL, sizeof(a->sleep_ctl)))
		memcpy(&a->sleep_ctl, t + TG_FADT_SLEEP_CTL, sizeof(a->sleep_ctl));
	if (tg_fadt_has(len, TG_FADT_X_DSDT, 8))
		dsdt = tg_acpi_u64(t + TG_FADT_X_DSDT);
	if (!dsdt)
		dsdt = tg_acpi_u32(t + TG_FADT_DSDT);
	d = tg_acpi_table(dsdt, "DSDT");
	if (!d)
		tg_printf("LQTG: acpi: no DSDT\n");
	else if (!(a->have_s5 = tg_acpi_parse_s5(d, &a->s5_typ)))
		tg_printf("LQTG: acpi: no \\_S5 package in the DSDT\n");
}
