/* firmware/acpi_tables: the layouts of the tables, per ACPI 6.4. */
#ifndef LQ_FIRMWARE_ACPI_TABLES_H
#define LQ_FIRMWARE_ACPI_TABLES_H

#include <stdint.h>

struct __attribute__((packed)) acpi_rsdp {
	char signature[8];
	uint8_t checksum;        /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision;        /* 2: has the XSDT fields */
	uint32_t rsdt_addr;
	uint32_t length;
	uint64_t xsdt_addr;
	uint8_t ext_checksum;    /* over all 36 bytes */
	uint8_t reserved[3];
};

struct __attribute__((packed)) acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
};

struct __attribute__((packed)) acpi_gas {
	uint8_t space_id;        /* 1 = system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;     /* 1 byte, 2 word, 3 dword */
	uint64_t address;
};

struct __attribute__((packed)) acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
};

#define ACPI_FADT_WBINVD (1u << 0)
#define ACPI_FADT_PROC_C1 (1u << 2)
#define ACPI_FADT_SLP_BUTTON (1u << 5)   /* no fixed sleep button */
#define ACPI_FADT_FIX_RTC (1u << 6)      /* RTC wake status not fixed */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

#define ACPI_IAPC_VGA_NOT_PRESENT (1u << 2)

struct __attribute__((packed)) acpi_facs {
	char signature[4];
	uint32_t length;
	uint32_t hw_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;
	uint8_t reserved0[3];
	uint32_t ospm_flags;
	uint8_t reserved1[24];
};

struct __attribute__((packed)) acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;          /* bit 0: dual 8259 PICs present */
};

struct __attribute__((packed)) acpi_madt_lapic {
	uint8_t type, length;    /* 0, 8 */
	uint8_t processor_uid, apic_id;
	uint32_t flags;          /* bit 0: enabled */
};

struct __attribute__((packed)) acpi_madt_ioapic {
	uint8_t type, length;    /* 1, 12 */
	uint8_t id, reserved;
	uint32_t addr;
	uint32_t gsi_base;
};

struct __attribute__((packed)) acpi_madt_iso {
	uint8_t type, length;    /* 2, 10 */
	uint8_t bus, source;
	uint32_t gsi;
	uint16_t flags;          /* polarity bits 1:0, trigger bits 3:2 */
};

struct __attribute__((packed)) acpi_madt_lapic_nmi {
	uint8_t type, length;    /* 4, 6 */
	uint8_t processor_uid;   /* 0xff: all */
	uint16_t flags;
	uint8_t lint;
};

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");
_Static_assert(sizeof(struct acpi_header) == 36, "header layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS layout");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");

#endif
