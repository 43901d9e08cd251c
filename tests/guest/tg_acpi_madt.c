/* MADT: which local APICs are enabled (the CPUs to start) and where the
 * IOAPICs are (to mask them). */
#include "tg_acpi.h"
#include "tg_console.h"

#define TG_MADT_LAPIC 0
#define TG_MADT_IOAPIC 1
#define TG_MADT_LAPIC_OVERRIDE 5
#define TG_MADT_X2APIC 9
#define TG_MADT_ENABLED 1u

static void tg_madt_add_lapic(struct tg_acpi *a, uint32_t id, uint32_t flags)
{
	if (!(flags & TG_MADT_ENABLED))
		return;
	if (id > 0xfe) {
		/* Not addressable by xAPIC IPIs, which is all we drive. */
		tg_printf("LQTG: acpi: ignoring x2APIC id %u\n", id);
		return;
	}
	for (unsigned i = 0; i < a->n_lapics; i++)
		if (a->lapic_ids[i] == id)
			return; /* listed as both LAPIC and x2APIC */
	if (a->n_lapics < TG_ACPI_MAX_LAPICS)
		a->lapic_ids[a->n_lapics++] = id;
}

void tg_acpi_parse_madt(const uint8_t *t, struct tg_acpi *a)
{
	uint32_t len = tg_acpi_u32(t + 4);

	a->have_madt = true;
	a->lapic_addr = tg_acpi_u32(t + 36);
	for (uint32_t off = 44; off + 2 <= len;) {
		const uint8_t *e = t + off;
		uint8_t type = e[0], elen = e[1];

		if (elen < 2 || off + elen > len)
			break;
		if (type == TG_MADT_LAPIC && elen >= 8)
			tg_madt_add_lapic(a, e[3], tg_acpi_u32(e + 4));
		else if (type == TG_MADT_X2APIC && elen >= 16)
			tg_madt_add_lapic(a, tg_acpi_u32(e + 4), tg_acpi_u32(e + 8));
		else if (type == TG_MADT_IOAPIC && elen >= 12 && a->n_ioapics < TG_ACPI_MAX_IOAPICS)
			a->ioapic_addr[a->n_ioapics++] = tg_acpi_u32(e + 4);
		else if (type == TG_MADT_LAPIC_OVERRIDE && elen >= 12)
			a->lapic_addr = tg_acpi_u64(e + 4);
		off += elen;
	}
}
