/* ACPI tables: structure, checksums, the AML the guest relies on, and
 * (when acpica's iasl is installed) a disassembly by the reference
 * implementation, which rejects malformed tables and AML. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <cmocka.h>

#include "firmware/acpi.h"
#include "firmware/acpi_tables.h"
#include "firmware/aml.h"

#define GPA 0xe0000u
#define BUF 0x20000u

static const struct acpi_config cfg4 = {
	.ncpus = 4, .lapic_addr = 0xfee00000, .ioapic_addr = 0xfec00000, .sci_irq = 9,
	.pm1a_evt_port = 0x600, .pm1a_cnt_port = 0x604, .pm_tmr_port = 0x608,
	.reset_port = 0xcf9, .reset_value = 6, .com1_port = 0x3f8, .com1_irq = 4,
	.pci_win_base = 0xc0000000, .pci_win_end = 0xfec00000,
};

static uint8_t *tbl(uint8_t *buf, uint64_t gpa)
{
	assert_true(gpa >= GPA && gpa < GPA + BUF);
	return buf + (gpa - GPA);
}

static const struct acpi_header *checked(uint8_t *buf, uint64_t gpa, const char *sig)
{
	const struct acpi_header *h = (const void *)tbl(buf, gpa);

	assert_memory_equal(h->signature, sig, 4);
	assert_true(h->length >= sizeof(*h) && gpa + h->length <= GPA + BUF);
	assert_int_equal(acpi_checksum(h, h->length), 0);
	return h;
}

static void test_tables(void **state)
{
	uint8_t *buf = malloc(BUF);
	const struct acpi_rsdp *rsdp = (const void *)buf;
	const struct acpi_header *xsdt, *dsdt;
	const struct acpi_fadt *fadt = NULL;
	const struct acpi_madt *madt = NULL;
	ssize_t n;

	(void)state;
	n = acpi_build(buf, BUF, GPA, &cfg4);
	assert_true(n > 0 && n < (ssize_t)BUF);
	assert_memory_equal(rsdp->signature, "RSD PTR ", 8);
	assert_int_equal(rsdp->revision, 2);
	assert_int_equal(acpi_checksum(rsdp, 20), 0);
	assert_int_equal(acpi_checksum(rsdp, 36), 0);

	xsdt = checked(buf, rsdp->xsdt_addr, "XSDT");
	assert_int_equal(xsdt->length, 36 + 16);
	for (unsigned i = 0; i < 2; i++) {
		uint64_t e;
		memcpy(&e, (const uint8_t *)(xsdt + 1) + 8 * i, 8);
		const struct acpi_header *h = (const void *)tbl(buf, e);
		if (!memcmp(h->signature, "FACP", 4))
			fadt = (const void *)checked(buf, e, "FACP");
		else
			madt = (const void *)checked(buf, e, "APIC");
	}
	assert_non_null(fadt);
	assert_non_null(madt);

	assert_int_equal(fadt->h.length, 276);
	assert_int_equal(fadt->sci_int, 9);
	assert_int_equal(fadt->x_pm1a_cnt_blk.address, 0x604);
	assert_int_equal(fadt->x_pm1a_cnt_blk.bit_width, 16);
	assert_int_equal(fadt->x_pm1a_evt_blk.address, 0x600);
	assert_int_equal(fadt->x_pm_tmr_blk.address, 0x608);
	assert_int_equal(fadt->pm_tmr_len, 4);
	assert_int_equal(fadt->reset_reg.address, 0xcf9);
	assert_int_equal(fadt->reset_value, 6);
	assert_true(fadt->flags & ACPI_FADT_RESET_REG_SUP);
	assert_int_equal(fadt->x_dsdt, fadt->dsdt);
	assert_int_equal(fadt->x_firmware_ctrl % 64, 0);
	assert_memory_equal(tbl(buf, fadt->x_firmware_ctrl), "FACS", 4);

	/* MADT: 4 enabled LAPICs 0..3, IOAPIC id 4, SCI override, NMI. */
	assert_int_equal(madt->lapic_addr, 0xfee00000);
	const uint8_t *p = (const uint8_t *)(madt + 1), *end = (const uint8_t *)madt + madt->h.length;
	unsigned lapics = 0, ioapics = 0, isos = 0, nmis = 0;
	while (p < end) {
		assert_true(p[1] >= 2 && p + p[1] <= end);
		switch (p[0]) {
		case 0: assert_int_equal(p[3], lapics); assert_int_equal(p[4] & 1, 1); lapics++; break;
		case 1: assert_int_equal(p[2], 4); ioapics++; break;
		case 2: assert_int_equal(p[3], 9); assert_int_equal(p[8], 0xd); isos++; break;
		case 4: assert_int_equal(p[5], 1); nmis++; break;
		default: fail_msg("unexpected MADT entry %u", p[0]);
		}
		p += p[1];
	}
	assert_int_equal(lapics, 4);
	assert_int_equal(ioapics, 1);
	assert_int_equal(isos, 1);
	assert_int_equal(nmis, 1);

	/* DSDT: Name (_S5_, Package (0x04) { 0x05, 0x05, Zero, Zero }) */
	dsdt = checked(buf, fadt->x_dsdt, "DSDT");
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	assert_memory_equal(dsdt + 1, s5, sizeof(s5));
	assert_non_null(memmem(dsdt, dsdt->length, "COM1", 4));
	free(buf);
}

static void test_bad_config_and_small_buffers(void **state)
{
	uint8_t *buf = malloc(BUF + 64);
	struct acpi_config c = cfg4;
	ssize_t need;

	(void)state;
	c.ncpus = 0;
	assert_int_equal(acpi_build(buf, BUF, GPA, &c), -EINVAL);
	c.ncpus = 255;
	assert_int_equal(acpi_build(buf, BUF, GPA, &c), -EINVAL);
	c.ncpus = 254;
	assert_true(acpi_build(buf, BUF, GPA, &c) > 0);

	need = acpi_build(buf, BUF, GPA, &cfg4);
	for (size_t size = 0; size < (size_t)need; size += 7) {
		memset(buf, 0xa5, BUF + 64);
		assert_int_equal(acpi_build(buf, size, GPA, &cfg4), -ENOSPC);
		for (size_t i = size; i < BUF + 64; i++)
			assert_int_equal(buf[i], 0xa5); /* nothing past the end */
	}
	assert_int_equal(acpi_build(buf, (size_t)need, GPA, &cfg4), need);
	free(buf);
}

static void test_aml_pkglen(void **state)
{
	uint8_t b[4096];
	struct aml a;
	ssize_t n;

	(void)state;
	/* 40 words: 120 bytes of body, so a two-byte PkgLength. */
	aml_init(&a, b, sizeof(b));
	aml_name(&a, "TEST");
	aml_package_open(&a, 40);
	for (unsigned i = 0; i < 40; i++)
		aml_integer(&a, 0x1000 + i);
	aml_close(&a);
	n = aml_finish(&a);
	assert_int_equal(n, 5 + 1 + 2 + 1 + 120);
	unsigned total = (b[6] & 0xf) | (unsigned)b[7] << 4;
	assert_int_equal(b[6] >> 6, 1);
	assert_int_equal(total, 2 + 1 + 120);

	/* Unbalanced opens and overflow are errors, not bad AML. */
	aml_init(&a, b, sizeof(b));
	aml_package_open(&a, 1);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, 8);
	aml_name(&a, "_S5_");
	aml_package_open(&a, 4);
	aml_integer(&a, 0x12345678);
	aml_close(&a);
	assert_int_equal(aml_finish(&a), -ENOSPC);
	aml_init(&a, b, sizeof(b));
	aml_eisaid(&a, "PNP0501");
	assert_int_equal(aml_finish(&a), 5);
	assert_int_equal(b[1] | b[2] << 8 | b[3] << 16 | (uint32_t)b[4] << 24, 0x0105d041);
}

/* Writes one table to dir/name.dat and asks iasl to disassemble it. */
static void iasl_check(const char *dir, const char *name, const struct acpi_header *h,
		       const char *expect)
{
	char path[512], cmd[1200], out[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(h, 1, h->length, f), h->length);
	fclose(f);
	snprintf(out, sizeof(out), "%s/%s.log", dir, name);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat > %s 2>&1", dir, name, out);
	assert_int_equal(system(cmd), 0);
	/* iasl reports bad checksums and AML errors in its output. */
	snprintf(cmd, sizeof(cmd), "grep -qiE 'error|invalid|incorrect checksum' %s", out);
	if (system(cmd) == 0) {
		snprintf(cmd, sizeof(cmd), "cat %s >&2", out);
		if (system(cmd)) {}
		fail_msg("iasl found problems in %s", name);
	}
	snprintf(cmd, sizeof(cmd), "grep -q '%s' %s/%s.dsl", expect, dir, name);
	assert_int_equal(system(cmd), 0);
}

static void test_iasl(void **state)
{
	char dir[] = "/tmp/lq-acpi-XXXXXX", cmd[600];
	uint8_t *buf = malloc(BUF);
	const struct acpi_rsdp *rsdp = (const void *)buf;
	const struct acpi_header *xsdt;
	const struct acpi_fadt *fadt;
	uint64_t e[2];

	(void)state;
	if (system("command -v iasl >/dev/null 2>&1") != 0)
		skip(); /* tools/setup installs acpica-tools */
	assert_true(acpi_build(buf, BUF, GPA, &cfg4) > 0);
	assert_non_null(mkdtemp(dir));
	xsdt = (const void *)tbl(buf, rsdp->xsdt_addr);
	memcpy(e, xsdt + 1, sizeof(e));
	fadt = (const void *)tbl(buf, e[0]);
	iasl_check(dir, "facp", &fadt->h, "PM1A Control Block Address : 00000604");
	iasl_check(dir, "apic", (const void *)tbl(buf, e[1]), "Local Apic Address : FEE00000");
	iasl_check(dir, "dsdt", (const void *)tbl(buf, fadt->x_dsdt), "PNP0501");
	iasl_check(dir, "dsdt", (const void *)tbl(buf, fadt->x_dsdt), "_S5_");
	iasl_check(dir, "dsdt", (const void *)tbl(buf, fadt->x_dsdt), "PNP0A03");
	iasl_check(dir, "dsdt", (const void *)tbl(buf, fadt->x_dsdt), "0xFEBFFFFF");
	iasl_check(dir, "dsdt", (const void *)tbl(buf, fadt->x_dsdt), "WordBusNumber");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_bad_config_and_small_buffers),
		cmocka_unit_test(test_aml_pkglen),
		cmocka_unit_test(test_iasl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
