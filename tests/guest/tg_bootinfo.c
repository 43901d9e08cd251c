/* hvm_start_info: the one structure both loaders (QEMU's PVH path and
 * lq-vmm) hand over in RBX. Everything is copied out at once: the memory
 * test later writes over RAM the loader used for these. */
#include "tg_boot.h"
#include "tg_string.h"

struct tg_hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct tg_hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct tg_hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

/* The loader's identity map covers 4 GiB; nothing it points to may lie
 * above that (all of it is in low memory in practice). */
#define TG_BOOT_REACH (4ULL << 30)

static bool tg_boot_reachable(uint64_t addr, uint64_t len)
{
	return addr && addr < TG_BOOT_REACH && len <= TG_BOOT_REACH - addr;
}

static void tg_boot_copy_cmdline(uint64_t pa, char *dst)
{
	const char *src = (const char *)(uintptr_t)pa;
	unsigned n = 0;

	if (tg_boot_reachable(pa, TG_CMDLINE_MAX))
		while (n < TG_CMDLINE_MAX - 1 && src[n])
			n++;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static void tg_boot_copy_memmap(const struct tg_hvm_start_info *si, struct tg_boot *b)
{
	const struct tg_hvm_memmap_entry *m;
	unsigned n = si->memmap_entries;

	if (si->version < 1 || !tg_boot_reachable(si->memmap_paddr, (uint64_t)n * sizeof(*m)))
		return;
	m = (const struct tg_hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
	if (n > TG_MEMMAP_MAX)
		n = TG_MEMMAP_MAX;
	for (unsigned i = 0; i < n; i++)
		b->memmap[i] = (struct tg_memmap_entry){ m[i].addr, m[i].size, m[i].type };
	b->n_memmap = n;
}

static void tg_boot_copy_modules(const struct tg_hvm_start_info *si, struct tg_boot *b)
{
	const struct tg_hvm_modlist_entry *m;
	unsigned n = si->nr_modules;

	if (!tg_boot_reachable(si->modlist_paddr, (uint64_t)n * sizeof(*m)))
		return;
	m = (const struct tg_hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
	if (n > TG_MODULES_MAX)
		n = TG_MODULES_MAX;
	for (unsigned i = 0; i < n; i++)
		b->modules[i] = (struct tg_range){ m[i].paddr, m[i].size };
	b->n_modules = n;
}

bool tg_boot_read(uint64_t pa, struct tg_boot *b)
{
	const struct tg_hvm_start_info *si = (const struct tg_hvm_start_info *)(uintptr_t)pa;

	memset(b, 0, sizeof(*b));
	if (!tg_boot_reachable(pa, sizeof(*si)) || si->magic != TG_START_INFO_MAGIC)
		return false;
	b->valid = true;
	b->version = si->version;
	b->rsdp = si->rsdp_paddr; /* in every version; memmap came with 1 */
	tg_boot_copy_cmdline(si->cmdline_paddr, b->cmdline);
	tg_boot_copy_memmap(si, b);
	tg_boot_copy_modules(si, b);
	return true;
}

uint64_t tg_boot_ram_in(const struct tg_boot *b, uint64_t addr, uint64_t len)
{
	uint64_t sum = 0, end = addr + len;

	for (unsigned i = 0; i < b->n_memmap; i++) {
		const struct tg_memmap_entry *e = &b->memmap[i];
		uint64_t lo = e->addr > addr ? e->addr : addr;
		uint64_t hi = e->addr + e->size < end ? e->addr + e->size : end;

		if (e->type == TG_E820_RAM && lo < hi)
			sum += hi - lo;
	}
	return sum;
}

bool tg_boot_is_ram(const struct tg_boot *b, uint64_t addr, uint64_t len)
{
	return tg_boot_ram_in(b, addr, len) != 0;
}

uint64_t tg_boot_ram_bytes(const struct tg_boot *b)
{
	return tg_boot_ram_in(b, 0, ~0ULL);
}

uint64_t tg_boot_ram_top(const struct tg_boot *b)
{
	uint64_t top = 0;

	for (unsigned i = 0; i < b->n_memmap; i++) {
		const struct tg_memmap_entry *e = &b->memmap[i];

		if (e->type == TG_E820_RAM && e->size && e->addr + e->size > top)
			top = e->addr + e->size;
	}
	return top;
}
