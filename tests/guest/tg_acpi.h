/* tests/guest: the ACPI facts the guest needs. RSDP -> XSDT (or RSDT) ->
 * MADT (CPUs, IOAPICs) and FADT (power-off registers, PM timer) -> DSDT
 * (the \_S5 sleep type). Every table is bounds- and checksum-checked;
 * a bad checksum is reported but the table is still used, so a VMM's
 * broken table shows in the log and the test can go on. */
#ifndef TG_ACPI_H
#define TG_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_layout.h"

#define TG_ACPI_MAX_LAPICS (2 * TG_MAX_CPUS)
#define TG_ACPI_MAX_IOAPICS 8

/* ACPI Generic Address Structure. */
struct tg_gas {
	uint8_t space; /* 0 memory, 1 I/O */
	uint8_t bit_width, bit_offset, access_size;
	uint64_t addr;
} __attribute__((packed));

struct tg_acpi {
	uint64_t rsdp;            /* 0: none found */
	bool have_madt, have_fadt;
	uint64_t lapic_addr;
	unsigned n_lapics;        /* enabled LAPICs, the BSP included */
	uint32_t lapic_ids[TG_ACPI_MAX_LAPICS];
	unsigned n_ioapics;
	uint64_t ioapic_addr[TG_ACPI_MAX_IOAPICS];
	uint16_t pm1a_cnt;        /* I/O port, 0 if none */
	uint16_t pm1a_evt;        /* I/O port of PM1a_STS/PM1a_EN, 0 if none */
	uint16_t sci_irq;         /* FADT SCI_INT */
	uint16_t pm_tmr;          /* I/O port, 0 if none */
	bool pm_tmr_32bit;
	bool hw_reduced;
	struct tg_gas sleep_ctl;  /* hardware-reduced ACPI's sleep register */
	struct tg_gas reset_reg;  /* FADT RESET_REG, address 0 if none */
	uint8_t reset_value;
	bool have_s5;
	uint8_t s5_typ;           /* SLP_TYP for S5 */
};

/* hint: hvm_start_info.rsdp_paddr, 0 to scan the BIOS areas. */
void tg_acpi_init(uint64_t hint, struct tg_acpi *a);

/* Low-level pieces (tg_acpi_tables.c), shared with the DSDT parser. */
const uint8_t *tg_acpi_map(uint64_t addr, uint64_t len);
const uint8_t *tg_acpi_table(uint64_t addr, const char *sig);
uint32_t tg_acpi_u32(const uint8_t *p);
uint64_t tg_acpi_u64(const uint8_t *p);
void tg_acpi_parse_madt(const uint8_t *madt, struct tg_acpi *a);
void tg_acpi_parse_fadt(const uint8_t *fadt, struct tg_acpi *a);
/* Finds \_S5's SLP_TYPa in a DSDT. */
bool tg_acpi_parse_s5(const uint8_t *dsdt, uint8_t *typ);

#endif
