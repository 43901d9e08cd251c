/* Finding and checking ACPI tables. */
#include "tg_acpi.h"
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_string.h"

#define TG_ACPI_HDR_LEN 36
#define TG_ACPI_MAX_TABLE (4u << 20)

uint32_t tg_acpi_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

uint64_t tg_acpi_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Tables may sit anywhere the firmware put them: only use what is mapped. */
const uint8_t *tg_acpi_map(uint64_t addr, uint64_t len)
{
	if (!addr || addr >= tg_mapped_top || len > tg_mapped_top - addr)
		return 0;
	return tg_phys(addr);
}

static uint8_t tg_acpi_sum(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The table at addr if its signature is sig (or any, if sig is 0). */
const uint8_t *tg_acpi_table(uint64_t addr, const char *sig)
{
	const uint8_t *t = tg_acpi_map(addr, TG_ACPI_HDR_LEN);
	uint32_t len;

	if (!t || (sig && memcmp(t, sig, 4)))
		return 0;
	len = tg_acpi_u32(t + 4);
	if (len < TG_ACPI_HDR_LEN || len > TG_ACPI_MAX_TABLE || !tg_acpi_map(addr, len))
		return 0;
	if (tg_acpi_sum(t, len))
		tg_printf("LQTG: acpi: bad checksum in %.*s at 0x%llx\n", 4, (const char *)t,
			  (unsigned long long)addr);
	return t;
}

static bool tg_acpi_rsdp_ok(const uint8_t *p)
{
	if (memcmp(p, "RSD PTR ", 8) || tg_acpi_sum(p, 20))
		return false;
	/* ACPI 2+: the extended checksum covers the 36-byte structure. */
	return p[15] < 2 || !tg_acpi_sum(p, 36);
}

static uint64_t tg_acpi_scan(uint64_t from, uint64_t len)
{
	const uint8_t *p = tg_acpi_map(from, len);

	for (uint64_t off = 0; p && off + 36 <= len; off += 16)
		if (tg_acpi_rsdp_ok(p + off))
			return from + off;
	return 0;
}

/* Where the ACPI spec says to look without a hint: the first KiB of the
 * EBDA, then the BIOS area 0xe0000-0xfffff. */
static uint64_t tg_acpi_find_rsdp(uint64_t hint)
{
	const uint8_t *bda = tg_acpi_map(0x40e, 2);
	uint64_t ebda, r;

	if (hint && tg_acpi_map(hint, 36) && tg_acpi_rsdp_ok(tg_acpi_map(hint, 36)))
		return hint;
	if (hint)
		tg_printf("LQTG: acpi: no valid RSDP at the hinted 0x%llx, scanning\n",
			  (unsigned long long)hint);
	ebda = bda ? (uint64_t)(bda[0] | bda[1] << 8) << 4 : 0;
	if (ebda >= 0x80000 && ebda < 0xa0000 && (r = tg_acpi_scan(ebda, 1024)))
		return r;
	return tg_acpi_scan(0xe0000, 0x20000);
}

/* Calls fn for every table the XSDT (or, before ACPI 2, the RSDT) lists. */
static void tg_acpi_walk(uint64_t rsdp, void (*fn)(const uint8_t *t, struct tg_acpi *a),
			 struct tg_acpi *a)
{
	const uint8_t *r = tg_acpi_map(rsdp, 36);
	uint64_t xsdt = r[15] >= 2 ? tg_acpi_u64(r + 24) : 0;
	const uint8_t *sdt = xsdt ? tg_acpi_table(xsdt, "XSDT") : 0;
	unsigned esz = 8;

	if (!sdt) {
		sdt = tg_acpi_table(tg_acpi_u32(r + 16), "RSDT");
		esz = 4;
	}
	if (!sdt) {
		tg_printf("LQTG: acpi: no XSDT/RSDT\n");
		return;
	}
	for (uint32_t off = TG_ACPI_HDR_LEN; off + esz <= tg_acpi_u32(sdt + 4); off += esz) {
		uint64_t addr = esz == 8 ? tg_acpi_u64(sdt + off) : tg_acpi_u32(sdt + off);
		const uint8_t *t = tg_acpi_table(addr, 0);

		if (t)
			fn(t, a);
	}
}

static void tg_acpi_one(const uint8_t *t, struct tg_acpi *a)
{
	if (!memcmp(t, "APIC", 4) && !a->have_madt)
		tg_acpi_parse_madt(t, a);
	else if (!memcmp(t, "FACP", 4) && !a->have_fadt)
		tg_acpi_parse_fadt(t, a);
}

void tg_acpi_init(uint64_t hint, struct tg_acpi *a)
{
	memset(a, 0, sizeof(*a));
	a->rsdp = tg_acpi_find_rsdp(hint);
	if (!a->rsdp) {
		tg_printf("LQTG: acpi: no RSDP\n");
		return;
	}
	tg_acpi_walk(a->rsdp, tg_acpi_one, a);
}
