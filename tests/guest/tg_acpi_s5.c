/* The S5 sleep type from the DSDT's AML, without an AML interpreter:
 * find "_S5_" followed by a PackageOp and read its first element.
 * Good for the plain Name (_S5, Package () { ... }) every VMM emits. */
#include "tg_acpi.h"
#include "tg_string.h"

#define TG_AML_ZERO 0x00
#define TG_AML_ONE 0x01
#define TG_AML_BYTE 0x0a
#define TG_AML_WORD 0x0b
#define TG_AML_PACKAGE 0x12

/* Reads the package at p (just past PackageOp); false if malformed. */
static bool tg_aml_first_element(const uint8_t *p, const uint8_t *end, uint8_t *v)
{
	unsigned pkglen_bytes;

	if (p >= end)
		return false;
	pkglen_bytes = 1 + (p[0] >> 6); /* PkgLength: lead byte bits 7:6 */
	p += pkglen_bytes + 1;          /* ... then NumElements */
	if (p + 2 > end)
		return false;
	switch (p[0]) {
	case TG_AML_ZERO:
		*v = 0;
		return true;
	case TG_AML_ONE:
		*v = 1;
		return true;
	case TG_AML_BYTE:
	case TG_AML_WORD:
		*v = p[1];
		return true;
	default:
		return false;
	}
}

bool tg_acpi_parse_s5(const uint8_t *dsdt, uint8_t *typ)
{
	uint32_t len = tg_acpi_u32(dsdt + 4);
	const uint8_t *end = dsdt + len;

	for (const uint8_t *p = dsdt + 36; p + 5 <= end; p++)
		if (p[0] == '_' && !memcmp(p, "_S5_", 4) && p[4] == TG_AML_PACKAGE &&
		    tg_aml_first_element(p + 5, end, typ))
			return true;
	return false;
}
