/* firmware/acpi: the ACPI tables that describe lq-vmm's board to the
 * guest: RSDP, XSDT, FADT (with FACS and DSDT), MADT. There is no
 * firmware in the guest; lq-vmm writes these into guest memory before the
 * first instruction runs, at an address the OS finds by scanning
 * (0xe0000-0xfffff) or that the boot protocol hands over. */
#ifndef LQ_FIRMWARE_ACPI_H
#define LQ_FIRMWARE_ACPI_H

#include <stdint.h>
#include <sys/types.h>

struct acpi_config {
	unsigned ncpus;          /* LAPIC ids 0..ncpus-1 */
	uint32_t lapic_addr;
	uint32_t ioapic_addr;    /* IOAPIC id is ncpus, GSI base 0 */
	uint8_t sci_irq;         /* level, active high */
	uint16_t pm1a_evt_port;  /* 4 bytes: PM1_STS, PM1_EN */
	uint16_t pm1a_cnt_port;  /* 2 bytes: PM1_CNT */
	uint16_t pm_tmr_port;    /* 4 bytes, 0 = no PM timer */
	uint16_t reset_port;     /* 1 byte, 0 = no reset register */
	uint8_t reset_value;
	uint16_t com1_port;      /* 0 = no serial port in the DSDT */
	uint8_t com1_irq;
	uint32_t pci_win_base;   /* PCI root bridge's MMIO window, 0 = no PCI */
	uint32_t pci_win_end;    /* exclusive */
};

/* The guest writes this sleep type with SLP_EN into PM1_CNT for S5. */
#define ACPI_S5_SLP_TYP 5

#define ACPI_RSDP_SIZE 36

/* Builds all tables into buf (placed at guest physical address gpa), RSDP
 * first. Returns the bytes used, -ENOSPC if size is too small, -EINVAL for
 * a config the tables cannot express (e.g. more than 255 CPUs). */
ssize_t acpi_build(void *buf, size_t size, uint64_t gpa, const struct acpi_config *cfg);

/* The byte that makes the table's bytes sum to zero. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
