/* tests/guest: what the loader told us (hvm_start_info), copied into the
 * image before anything can overwrite it, and the command line options. */
#ifndef TG_BOOT_H
#define TG_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#define TG_START_INFO_MAGIC 0x336ec578u
#define TG_MEMMAP_MAX 64
#define TG_MODULES_MAX 8
#define TG_CMDLINE_MAX 1024
#define TG_E820_RAM 1

struct tg_range {
	uint64_t addr, size;
};

struct tg_memmap_entry {
	uint64_t addr, size;
	uint32_t type;
};

struct tg_boot {
	bool valid;              /* magic matched */
	uint32_t version;
	uint64_t rsdp;           /* 0: scan for it */
	unsigned n_memmap;
	struct tg_memmap_entry memmap[TG_MEMMAP_MAX];
	unsigned n_modules;
	struct tg_range modules[TG_MODULES_MAX];
	char cmdline[TG_CMDLINE_MAX];
};

/* Copies the start info at physical si (from RBX). False if absent or
 * the magic is wrong; b->cmdline is "" then. */
bool tg_boot_read(uint64_t si, struct tg_boot *b);
/* Bytes of type-1 RAM. */
uint64_t tg_boot_ram_bytes(const struct tg_boot *b);
/* End of the highest type-1 RAM range (what page tables must cover). */
uint64_t tg_boot_ram_top(const struct tg_boot *b);
/* True if [addr, addr + len) touches type-1 RAM. */
bool tg_boot_is_ram(const struct tg_boot *b, uint64_t addr, uint64_t len);
/* How many bytes of [addr, addr + len) are type-1 RAM. */
uint64_t tg_boot_ram_in(const struct tg_boot *b, uint64_t addr, uint64_t len);

enum {
	TG_TEST_MEM = 1u << 0,
	TG_TEST_SMP = 1u << 1,
	TG_TEST_TIMER = 1u << 2,
	TG_TEST_ALL = TG_TEST_MEM | TG_TEST_SMP | TG_TEST_TIMER,
	/* virtio tests: only when named (they need the devices) */
	TG_TEST_BLK = 1u << 3,
	TG_TEST_BLKBAD = 1u << 4,
	TG_TEST_RNG = 1u << 5,
	TG_TEST_CONSOLE = 1u << 6,
	TG_TEST_MSIX = 1u << 7,
	TG_TEST_PCICFG = 1u << 9,
	TG_TEST_PCICFGBAD = 1u << 10,
	TG_TEST_NET = 1u << 8,
	TG_TEST_NETMQ = 1u << 11,
};

struct tg_opts {
	unsigned tests;  /* TG_TEST_* */
	bool bench;      /* hello, then power off at once */
	bool bench_blk;  /* bench=blk: virtio-blk throughput, then power off */
	bool bench_net;  /* bench=net: virtio-net frame rates, then power off */
	bool fail;       /* report FAIL on purpose */
	bool triple;     /* exit=triple: triple fault on purpose */
	bool reset;      /* exit=reset: reboot through the FADT reset register */
	bool idle;       /* after the verdict, print "LQTG: idle" and halt */
	bool pages_2m;   /* pages=2m: never use 1 GiB pages */
	bool wait_pwrbtn; /* wait=powerbutton: tick until the ACPI power button, then S5 */
};

/* Parses the space-separated options; prints and ignores unknown ones. */
void tg_opts_parse(const char *cmdline, struct tg_opts *o);

#endif
