/* Memory test: one 8-byte word in every 2 MiB of RAM above the image,
 * written and then read back from ring 3. The pattern depends on the
 * address, so two guest addresses aliasing one host page show up. */
#include "tg_console.h"
#include "tg_cpu.h"
#include "tg_tests.h"

#define TG_2MIB (1ULL << 21)
#define TG_PATTERN 0x5a5aa5a5c3c33c3cULL

extern char __image_end[];

struct tg_memtest {
	const struct tg_boot *boot;
	unsigned n_ranges;
	struct tg_range ranges[TG_MEMMAP_MAX]; /* 2 MiB aligned [addr, addr+size) */
	unsigned n_skip;
	struct tg_range skip[TG_MODULES_MAX];  /* loader modules: leave alone */
	uint64_t pages, bad, first_bad;
};

static bool tg_mt_skipped(const struct tg_memtest *t, uint64_t a)
{
	for (unsigned i = 0; i < t->n_skip; i++)
		if (a - t->skip[i].addr < t->skip[i].size)
			return true;
	return false;
}

static uint64_t tg_mt_pattern(uint64_t a)
{
	return ~a ^ TG_PATTERN;
}

/* The list of places to write, from the memmap. */
static void tg_mt_plan(const struct tg_boot *b, struct tg_memtest *t)
{
	uint64_t floor = ((uintptr_t)__image_end + TG_2MIB - 1) & ~(TG_2MIB - 1);

	for (unsigned i = 0; i < b->n_memmap; i++) {
		const struct tg_memmap_entry *e = &b->memmap[i];
		uint64_t lo = e->addr > floor ? e->addr : floor;
		uint64_t hi = e->addr + e->size < tg_mapped_top ? e->addr + e->size : tg_mapped_top;

		lo = (lo + TG_2MIB - 1) & ~(TG_2MIB - 1);
		if (e->type != TG_E820_RAM || lo + 8 > hi)
			continue;
		/* Words at lo, lo + 2 MiB, ... while a whole word fits. */
		t->ranges[t->n_ranges++] = (struct tg_range){ lo, hi - 8 - lo + 1 };
	}
	for (unsigned i = 0; i < b->n_modules; i++)
		t->skip[t->n_skip++] = b->modules[i];
}

/* Ring 3. */
static uint64_t tg_mt_user(void *arg)
{
	struct tg_memtest *t = arg;

	tg_mt_plan(t->boot, t);
	for (unsigned i = 0; i < t->n_ranges; i++)
		for (uint64_t a = t->ranges[i].addr; a - t->ranges[i].addr < t->ranges[i].size;
		     a += TG_2MIB)
			if (!tg_mt_skipped(t, a)) {
				*(volatile uint64_t *)(uintptr_t)a = tg_mt_pattern(a);
				t->pages++;
			}
	for (unsigned i = 0; i < t->n_ranges; i++)
		for (uint64_t a = t->ranges[i].addr; a - t->ranges[i].addr < t->ranges[i].size;
		     a += TG_2MIB)
			if (!tg_mt_skipped(t, a) &&
			    *(volatile uint64_t *)(uintptr_t)a != tg_mt_pattern(a) && !t->bad++)
				t->first_bad = a;
	return 0;
}

bool tg_test_mem(const struct tg_boot *b)
{
	static struct tg_memtest t;

	t = (struct tg_memtest){ .boot = b };
	tg_user_run(tg_mt_user, &t);
	if (!t.pages || t.bad) {
		tg_printf("LQTG: memtest FAIL pages=%llu bad=%llu first=0x%llx\n",
			  (unsigned long long)t.pages, (unsigned long long)t.bad,
			  (unsigned long long)t.first_bad);
		return false;
	}
	tg_printf("LQTG: memtest ok pages=%llu\n", (unsigned long long)t.pages);
	return true;
}
