/* The guest's own identity map: [0, 4 GiB) always (MMIO and ACPI tables
 * live below 4 GiB) plus all RAM the memmap reports above; 1 GiB pages
 * where a whole GiB is alike and the CPU has them, 2 MiB pages otherwise.
 * Everything is user accessible, since ring 3 does the memory test, the
 * ACPI parsing and this very fill; what is not RAM is mapped uncached.
 *
 * Built in two steps because ring 0 is so slow on PVM hosts (about a
 * microsecond per instruction): ring 0 maps just the image, user
 * accessible, with a few stores into a bootstrap set of tables; ring 3
 * then writes the thousands of entries of the final set at native speed,
 * and ring 0 switches CR3 to it. The final set is not live while ring 3
 * writes it: a shadow MMU (PVM's) write-protects live page tables, and
 * every store to them would trap. */
#include "tg_arch.h"
#include "tg_console.h"
#include "tg_cpu.h"

#define TG_PTE_P 0x001ULL
#define TG_PTE_RW 0x002ULL
#define TG_PTE_US 0x004ULL
#define TG_PTE_PWT 0x008ULL
#define TG_PTE_PCD 0x010ULL
#define TG_PTE_PS 0x080ULL
#define TG_PTE_RAM (TG_PTE_P | TG_PTE_RW | TG_PTE_US | TG_PTE_PS)
#define TG_PTE_MMIO (TG_PTE_RAM | TG_PTE_PCD | TG_PTE_PWT)
#define TG_PTE_TABLE (TG_PTE_P | TG_PTE_RW | TG_PTE_US)

#define TG_GIB (1ULL << 30)
#define TG_2MIB (1ULL << 21)
#define TG_MAX_PDS 64 /* 64 GiB of 2 MiB mappings */
#define TG_MAX_GIB 512 /* one PDPT */
#define TG_CPUID_EXT_1GB (1u << 26)

extern char __image_end[];

/* Bootstrap set, in .bss, which the loader zeroes (as ELF requires):
 * ring 0 only adds the entries for the image. */
static uint64_t tg_boot_pml4[512] __attribute__((aligned(4096)));
static uint64_t tg_boot_pdpt[512] __attribute__((aligned(4096)));
static uint64_t tg_boot_pd[512] __attribute__((aligned(4096)));
/* Final set, written in full by the ring-3 fill. */
#define TG_NOINIT __attribute__((section(".bss.noinit"), aligned(4096)))
static uint64_t tg_pml4[512] TG_NOINIT;
static uint64_t tg_pdpt[512] TG_NOINIT;
static uint64_t tg_pds[TG_MAX_PDS][512] TG_NOINIT;

/* What the loader's map covers on either entry path. */
uint64_t tg_mapped_top = 4 * TG_GIB;

struct tg_paging_fill {
	const struct tg_boot *b;
	bool big;
	unsigned gibs;     /* in: GiB to cover; out: GiB covered */
};

/* Ring 0: on PVM hosts CPUID in ring 3 is not intercepted and reports
 * the host CPU (1 GiB pages included), while the vCPU's MMU follows what
 * KVM was told, which ring 0's intercepted CPUID reports. */
static bool tg_cpu_has_1g(void)
{
	uint32_t r[4];

	tg_cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000001)
		return false;
	tg_cpuid(0x80000001, 0, r);
	return r[3] & TG_CPUID_EXT_1GB;
}

static void tg_fill_pd(uint64_t *pd, uint64_t base, const struct tg_boot *b)
{
	for (unsigned i = 0; i < 512; i++) {
		uint64_t a = base + i * TG_2MIB;

		if (tg_boot_is_ram(b, a, TG_2MIB))
			pd[i] = a | TG_PTE_RAM;
		else
			pd[i] = a < 4 * TG_GIB ? a | TG_PTE_MMIO : 0;
	}
}

/* Ring 3: the whole final set. */
static uint64_t tg_paging_fill_user(void *arg)
{
	struct tg_paging_fill *f = arg;
	unsigned npd = 0;

	for (unsigned g = 0; g < 512; g++) {
		uint64_t base = g * TG_GIB, ram = g < f->gibs ? tg_boot_ram_in(f->b, base, TG_GIB) : 0;

		if (g >= f->gibs || (ram == 0 && base >= 4 * TG_GIB)) {
			tg_pdpt[g] = 0;
		} else if (f->big && ram == TG_GIB) {
			tg_pdpt[g] = base | TG_PTE_RAM;
		} else if (f->big && ram == 0) {
			tg_pdpt[g] = base | TG_PTE_MMIO;
		} else if (npd < TG_MAX_PDS) {
			tg_fill_pd(tg_pds[npd], base, f->b);
			tg_pdpt[g] = (uintptr_t)tg_pds[npd++] | TG_PTE_TABLE;
		} else {
			tg_printf("LQTG: paging: out of page directories, RAM above %u GiB unmapped\n", g);
			f->gibs = g;
			tg_pdpt[g] = 0;
		}
	}
	for (unsigned i = 0; i < 512; i++)
		tg_pml4[i] = 0;
	tg_pml4[0] = (uintptr_t)tg_pdpt | TG_PTE_TABLE;
	return 0;
}

uint64_t tg_paging_init(const struct tg_boot *b, bool allow_1g, bool *used_1g)
{
	static struct tg_paging_fill f;
	uint64_t top = tg_boot_ram_top(b), img_top = (uintptr_t)__image_end;

	/* Step 1, ring 0: the image, so ring 3 can run and reach the tables. */
	tg_boot_pml4[0] = (uintptr_t)tg_boot_pdpt | TG_PTE_TABLE;
	tg_boot_pdpt[0] = (uintptr_t)tg_boot_pd | TG_PTE_TABLE;
	for (uint64_t a = 0; a < img_top; a += TG_2MIB)
		tg_boot_pd[a / TG_2MIB] = a | TG_PTE_RAM;
	tg_write_cr3((uintptr_t)tg_boot_pml4);
	tg_mapped_top = (img_top + TG_2MIB - 1) & ~(TG_2MIB - 1);

	/* Step 2, ring 3: everything else. */
	if (top < 4 * TG_GIB)
		top = 4 * TG_GIB;
	f = (struct tg_paging_fill){ .b = b, .big = allow_1g && tg_cpu_has_1g(),
				     .gibs = (unsigned)((top + TG_GIB - 1) / TG_GIB) };
	if (f.gibs > TG_MAX_GIB)
		f.gibs = TG_MAX_GIB;
	tg_user_run(tg_paging_fill_user, &f);

	/* Step 3: switch to the final set. */
	tg_write_cr3((uintptr_t)tg_pml4);
	tg_mapped_top = (uint64_t)f.gibs * TG_GIB;
	*used_1g = f.big;
	return tg_mapped_top;
}

uint64_t tg_paging_cr3(void)
{
	return (uintptr_t)tg_pml4;
}
