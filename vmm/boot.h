/* vmm/boot: loads what --kernel/--initrd/--cmdline name into guest RAM and
 * decides the BSP's entry state.
 *
 * Formats: a Linux bzImage (64-bit boot protocol: zero page, e820,
 * command line, initrd), or an ELF: with a "limiquantix" note the guest is
 * entered in long mode at the noted address, with a Xen PVH note in 32-bit
 * protected mode (hvm_start_info in EBX), else at e_entry in long mode
 * with a zero page (Linux vmlinux).
 *
 * Fixed low-memory layout (guest-physical): */
#ifndef LQ_VMM_BOOT_H
#define LQ_VMM_BOOT_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define BOOT_GDT_ADDR 0x500
#define BOOT_START_INFO_ADDR 0x6000
#define BOOT_MODLIST_ADDR 0x6040
#define BOOT_MEMMAP_ADDR 0x6100
#define BOOT_ZERO_PAGE_ADDR 0x7000
#define BOOT_PML4_ADDR 0x9000
#define BOOT_PDPT_ADDR 0xa000
#define BOOT_PD_ADDR 0xb000        /* four PDs: identity map of 4 GiB */
#define BOOT_CMDLINE_ADDR 0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_LOW_RAM_END 0xa0000
#define BOOT_ACPI_ADDR 0xe0000     /* RSDP here, inside the scanned BIOS area */
#define BOOT_ACPI_SIZE 0x20000
#define BOOT_KERNEL_ADDR 0x100000
#define BOOT_MAX_E820 32

#define BOOT_SEL_CODE32 0x08
#define BOOT_SEL_CODE64 0x10
#define BOOT_SEL_DATA 0x18
#define BOOT_SEL_TSS 0x20

#define E820_RAM 1
#define E820_RESERVED 2

struct vm;

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_elf_info {
	uint64_t entry;  /* e_entry */
	uint64_t pvh32;  /* Xen PVH 32-bit entry note, or 0 */
	uint64_t lq64;   /* limiquantix 64-bit entry note, or 0 */
	bool linux_note; /* has a note owned by "Linux": a vmlinux */
	uint64_t top;    /* end of the highest segment */
};

/* Everything: kernel, initrd, command line, ACPI, boot tables, entry. */
int boot_load(struct vm *vm);

/* Pieces, for the loaders and tests. */
int boot_e820(const struct vm *vm, struct e820_entry *out, unsigned max);
int boot_write_tables(struct vm *vm);
/* The user's command line, plus `extra` (if not already there). */
int boot_write_cmdline(struct vm *vm, const char *extra);
/* What a Linux guest needs on this host: on PVM hosts, no XSAVE and no
 * SIMD-instruction users in the kernel (see boot.c). */
const char *boot_linux_extra_cmdline(const struct vm *vm);
int boot_load_initrd(struct vm *vm, uint64_t max_end, uint64_t *addr, uint64_t *size);
int boot_write_start_info(struct vm *vm, uint64_t initrd_addr, uint64_t initrd_size);
int boot_write_zero_page(struct vm *vm, const uint8_t *setup_hdr, unsigned hdr_len,
			 uint64_t initrd_addr, uint64_t initrd_size);
int boot_linux_bzimage(struct vm *vm, const uint8_t *img, size_t len);
int boot_elf(struct vm *vm, const uint8_t *img, size_t len);
/* Loads PT_LOAD segments at their physical addresses and reads the notes. */
int boot_elf_load(struct vm *vm, const uint8_t *img, size_t len, struct boot_elf_info *info);

#endif
