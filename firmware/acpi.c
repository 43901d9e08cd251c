#include "firmware/acpi.h"

#include <errno.h>
#include <string.h>

#include "firmware/acpi_tables.h"
#include "firmware/aml.h"

#define ACPI_OEM_ID "LQNTIX"
#define ACPI_OEM_TABLE_ID "LQVMM   "
#define ACPI_CREATOR_ID "LQVM"

/* Places tables one after another in the caller's buffer. */
struct acpi_cursor {
	uint8_t *buf;
	size_t size, used;
	uint64_t gpa;
};

static void *acpi_alloc(struct acpi_cursor *c, size_t len, size_t align, uint64_t *gpa)
{
	size_t at = (c->used + align - 1) & ~(align - 1);

	if (at > c->size || len > c->size - at)
		return NULL;
	c->used = at + len;
	*gpa = c->gpa + at;
	return c->buf + at;
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return (uint8_t)-sum;
}

static void acpi_header_init(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

static void acpi_header_seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static struct acpi_gas acpi_io_gas(uint16_t port, uint8_t bits)
{
	return (struct acpi_gas){
		.space_id = 1,
		.bit_width = port ? bits : 0,
		.access_size = port ? (bits == 8 ? 1 : bits == 16 ? 2 : 3) : 0,
		.address = port,
	};
}

/* DSDT: the S5 sleep type so the OS can power off, and the serial port. */
static int acpi_dsdt(struct acpi_cursor *c, const struct acpi_config *cfg, uint64_t *gpa)
{
	uint8_t aml_buf[512];
	struct aml a;
	struct acpi_header *h;
	ssize_t n;

	aml_init(&a, aml_buf, sizeof(aml_buf));
	aml_name(&a, "_S5_");
	aml_package_open(&a, 4);
	aml_integer(&a, ACPI_S5_SLP_TYP); /* SLP_TYPa */
	aml_integer(&a, ACPI_S5_SLP_TYP); /* SLP_TYPb, unused without PM1b */
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);
	aml_scope_open(&a, "\\_SB");
	if (cfg->pci_win_base) {
		/* Bus 0 through configuration mechanism #1, BARs in the window. */
		aml_device_open(&a, "PCI0");
		aml_name(&a, "_HID");
		aml_eisaid(&a, "PNP0A03");
		aml_name(&a, "_UID");
		aml_integer(&a, 0);
		aml_name(&a, "_SEG");
		aml_integer(&a, 0);
		aml_name(&a, "_BBN");
		aml_integer(&a, 0);
		aml_name(&a, "_CRS");
		aml_resources_open(&a);
		aml_res_bus_range(&a, 0, 0);
		aml_res_io(&a, 0xcf8, 8);
		aml_res_mem32_range(&a, cfg->pci_win_base, cfg->pci_win_end - 1);
		aml_close(&a);
		aml_close(&a);
	}
	if (cfg->com1_port) {
		aml_device_open(&a, "COM1");
		aml_name(&a, "_HID");
		aml_eisaid(&a, "PNP0501");
		aml_name(&a, "_UID");
		aml_integer(&a, 1);
		aml_name(&a, "_CRS");
		aml_resources_open(&a);
		aml_res_io(&a, cfg->com1_port, 8);
		aml_res_irq(&a, cfg->com1_irq);
		aml_close(&a);
		aml_close(&a);
	}
	aml_close(&a);
	n = aml_finish(&a);
	if (n < 0)
		return (int)n;
	h = acpi_alloc(c, sizeof(*h) + (size_t)n, 16, gpa);
	if (!h)
		return -ENOSPC;
	acpi_header_init(h, "DSDT", (uint32_t)(sizeof(*h) + (size_t)n), 2);
	memcpy(h + 1, aml_buf, (size_t)n);
	acpi_header_seal(h);
	return 0;
}

static int acpi_fadt(struct acpi_cursor *c, const struct acpi_config *cfg, uint64_t dsdt,
		     uint64_t *gpa)
{
	struct acpi_facs *facs;
	struct acpi_fadt *f;
	uint64_t facs_gpa;

	facs = acpi_alloc(c, sizeof(*facs), 64, &facs_gpa); /* FACS must be 64-byte aligned */
	f = acpi_alloc(c, sizeof(*f), 16, gpa);
	if (!facs || !f)
		return -ENOSPC;
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	acpi_header_init(&f->h, "FACP", sizeof(*f), 6);
	f->minor_version = 4;
	f->firmware_ctrl = (uint32_t)facs_gpa;
	f->x_firmware_ctrl = facs_gpa;
	f->dsdt = (uint32_t)dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = cfg->sci_irq;
	/* smi_cmd 0: the board is always in ACPI mode (SCI_EN reads 1). */
	f->pm1a_evt_blk = cfg->pm1a_evt_port;
	f->pm1a_cnt_blk = cfg->pm1a_cnt_port;
	f->pm_tmr_blk = cfg->pm_tmr_port;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = cfg->pm_tmr_port ? 4 : 0;
	f->x_pm1a_evt_blk = acpi_io_gas(cfg->pm1a_evt_port, 32);
	f->x_pm1a_cnt_blk = acpi_io_gas(cfg->pm1a_cnt_port, 16);
	f->x_pm_tmr_blk = acpi_io_gas(cfg->pm_tmr_port, 32);
	f->p_lvl2_lat = 101;  /* > 100: no C2 */
	f->p_lvl3_lat = 1001; /* > 1000: no C3 */
	f->century = 0x32;    /* CMOS register the RTC keeps the century in */
	/* No 8042 flag: the guest need not probe a keyboard controller that
	 * is only there to reset the machine. */
	f->iapc_boot_arch = ACPI_IAPC_VGA_NOT_PRESENT;
	f->flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON | ACPI_FADT_FIX_RTC;
	if (cfg->reset_port) {
		f->flags |= ACPI_FADT_RESET_REG_SUP;
		f->reset_reg = acpi_io_gas(cfg->reset_port, 8);
		f->reset_value = cfg->reset_value;
	}
	memcpy(&f->hypervisor_vendor_id, "LQNTIXVM", 8);
	acpi_header_seal(&f->h);
	return 0;
}

static int acpi_madt(struct acpi_cursor *c, const struct acpi_config *cfg, uint64_t *gpa)
{
	size_t len = sizeof(struct acpi_madt) + cfg->ncpus * sizeof(struct acpi_madt_lapic) +
		     sizeof(struct acpi_madt_ioapic) + sizeof(struct acpi_madt_iso) +
		     sizeof(struct acpi_madt_lapic_nmi);
	struct acpi_madt *m = acpi_alloc(c, len, 16, gpa);
	uint8_t *p;

	if (!m)
		return -ENOSPC;
	acpi_header_init(&m->h, "APIC", (uint32_t)len, 5);
	m->lapic_addr = cfg->lapic_addr;
	m->flags = 1; /* the in-kernel irqchip has the dual 8259 */
	p = (uint8_t *)(m + 1);
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		struct acpi_madt_lapic l = { 0, sizeof(l), (uint8_t)i, (uint8_t)i, 1 };
		memcpy(p, &l, sizeof(l));
		p += sizeof(l);
	}
	struct acpi_madt_ioapic io = { 1, sizeof(io), (uint8_t)cfg->ncpus, 0, cfg->ioapic_addr, 0 };
	memcpy(p, &io, sizeof(io));
	p += sizeof(io);
	/* The SCI is level triggered, active high (ISA default is edge). */
	struct acpi_madt_iso iso = { 2, sizeof(iso), 0, cfg->sci_irq, cfg->sci_irq, 0x1 | 0xc };
	memcpy(p, &iso, sizeof(iso));
	p += sizeof(iso);
	/* LINT1 of every LAPIC is the NMI input, edge, active high. */
	struct acpi_madt_lapic_nmi nmi = { 4, sizeof(nmi), 0xff, 0x1 | 0x4, 1 };
	memcpy(p, &nmi, sizeof(nmi));
	acpi_header_seal(&m->h);
	return 0;
}

ssize_t acpi_build(void *buf, size_t size, uint64_t gpa, const struct acpi_config *cfg)
{
	struct acpi_cursor c = { buf, size, 0, gpa };
	uint64_t rsdp_gpa, xsdt_gpa, dsdt_gpa = 0, fadt_gpa = 0, madt_gpa = 0;
	struct acpi_header *xsdt;
	struct acpi_rsdp *rsdp;
	uint64_t entries[2];
	int err;

	if (cfg->ncpus == 0 || cfg->ncpus > 254) /* ids 0..n-1 plus the IOAPIC's n */
		return -EINVAL;
	memset(buf, 0, size);
	rsdp = acpi_alloc(&c, sizeof(*rsdp), 16, &rsdp_gpa);
	xsdt = acpi_alloc(&c, sizeof(*xsdt) + sizeof(entries), 16, &xsdt_gpa);
	if (!rsdp || !xsdt)
		return -ENOSPC;
	err = acpi_dsdt(&c, cfg, &dsdt_gpa);
	if (!err)
		err = acpi_fadt(&c, cfg, dsdt_gpa, &fadt_gpa);
	if (!err)
		err = acpi_madt(&c, cfg, &madt_gpa);
	if (err)
		return err;

	entries[0] = fadt_gpa;
	entries[1] = madt_gpa;
	acpi_header_init(xsdt, "XSDT", sizeof(*xsdt) + sizeof(entries), 1);
	memcpy(xsdt + 1, entries, sizeof(entries));
	acpi_header_seal(xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, ACPI_OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_addr = xsdt_gpa;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->ext_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	return (ssize_t)c.used;
}
