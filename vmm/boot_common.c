/* Boot structures shared by every loader: e820 map, GDT and identity page
 * tables, command line, initrd placement, PVH start info, zero page. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

int boot_e820(const struct vm *vm, struct e820_entry *out, unsigned max)
{
	uint64_t low = guest_mem_low_size(&vm->mem);
	uint64_t high = guest_mem_high_size(&vm->mem);
	unsigned n = 0;

	if (max < 4)
		return -ENOSPC;
	out[n++] = (struct e820_entry){ 0, BOOT_LOW_RAM_END, E820_RAM };
	out[n++] = (struct e820_entry){ BOOT_ACPI_ADDR, BOOT_ACPI_SIZE, E820_RESERVED };
	out[n++] = (struct e820_entry){ BOOT_KERNEL_ADDR, low - BOOT_KERNEL_ADDR, E820_RAM };
	if (high)
		out[n++] = (struct e820_entry){ GUEST_MEM_HIGH_START, high, E820_RAM };
	return (int)n;
}

static uint64_t boot_gdt_entry(uint32_t flags, uint32_t base, uint32_t limit)
{
	/* flags holds access byte (bits 0-7) and G/DB/L nibble (bits 12-15). */
	return ((uint64_t)(base & 0xff000000) << 32) | ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) | ((uint64_t)(base & 0x00ffffff) << 16) |
	       (uint64_t)(limit & 0x0000ffff);
}

int boot_write_tables(struct vm *vm)
{
	uint64_t gdt[5] = {
		0,
		boot_gdt_entry(0xc09b, 0, 0xfffff), /* 0x08: 32-bit code (PVH entry) */
		boot_gdt_entry(0xa09b, 0, 0xfffff), /* 0x10: 64-bit code */
		boot_gdt_entry(0xc093, 0, 0xfffff), /* 0x18: data */
		boot_gdt_entry(0x008b, 0, 0x67),    /* 0x20: TSS, so TR is usable */
	};
	uint64_t *pml4 = guest_mem_ptr(&vm->mem, BOOT_PML4_ADDR, 4096);
	uint64_t *pdpt = guest_mem_ptr(&vm->mem, BOOT_PDPT_ADDR, 4096);
	uint64_t *pd = guest_mem_ptr(&vm->mem, BOOT_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd || guest_mem_write(&vm->mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)))
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | 0x3; /* present, writable */
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 4096ULL) | 0x3;
	/* 2 MiB pages: 4 x 512 entries cover the first 4 GiB one to one. */
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	return 0;
}

int boot_write_cmdline(struct vm *vm, const char *extra)
{
	const char *base = vm->cfg->cmdline;
	size_t blen = strlen(base), elen = extra ? strlen(extra) : 0;
	char *dst;

	if (extra && strstr(base, extra))
		elen = 0; /* the user already asked for it */
	if (blen + elen + 2 > BOOT_CMDLINE_MAX) {
		log_error("--cmdline is %zu bytes; at most %d fit", blen, BOOT_CMDLINE_MAX - 2 - (int)elen);
		return -E2BIG;
	}
	dst = guest_mem_ptr(&vm->mem, BOOT_CMDLINE_ADDR, blen + elen + 2);
	if (!dst)
		return -EFAULT;
	memcpy(dst, base, blen);
	if (elen) {
		dst[blen] = ' ';
		memcpy(dst + blen + 1, extra, elen);
		blen += elen + 1;
		log_info("added '%s' to the guest command line", extra);
	}
	dst[blen] = 0;
	return 0;
}

/* Puts the initrd as high as possible below max_end, page aligned, where
 * the kernel's own decompression will not reach it. */
int boot_load_initrd(struct vm *vm, uint64_t max_end, uint64_t *addr, uint64_t *size)
{
	const char *path = vm->cfg->initrd;
	uint64_t low = guest_mem_low_size(&vm->mem);
	struct stat st;
	uint64_t at, done = 0;
	uint8_t *dst;
	int fd, err = 0;

	*addr = *size = 0;
	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = -errno;
		log_error("initrd %s: %s", path, strerror(errno));
		goto out;
	}
	if (max_end > low)
		max_end = low;
	if ((uint64_t)st.st_size + (16u << 20) > max_end) {
		log_error("initrd %s (%lld bytes) does not fit in guest RAM below %#llx: give more --memory",
			  path, (long long)st.st_size, (unsigned long long)max_end);
		err = -ENOSPC;
		goto out;
	}
	at = (max_end - (uint64_t)st.st_size) & ~0xfffULL;
	dst = guest_mem_ptr(&vm->mem, at, (uint64_t)st.st_size);
	while (dst && done < (uint64_t)st.st_size) {
		ssize_t n = read(fd, dst + done, (size_t)st.st_size - done);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			log_error("initrd %s: read failed: %s", path, n < 0 ? strerror(errno) : "short file");
			goto out;
		}
		done += (uint64_t)n;
	}
	*addr = at;
	*size = (uint64_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

/* PVH's hvm_start_info (version 1), also what the test guest reads. */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry { uint64_t paddr, size, cmdline_paddr, reserved; };
struct hvm_memmap_entry { uint64_t addr, size; uint32_t type, reserved; };

int boot_write_start_info(struct vm *vm, uint64_t initrd_addr, uint64_t initrd_size)
{
	struct e820_entry e820[BOOT_MAX_E820];
	struct hvm_memmap_entry map[BOOT_MAX_E820];
	struct hvm_modlist_entry mod = { initrd_addr, initrd_size, 0, 0 };
	struct hvm_start_info si = {
		.magic = 0x336ec578, .version = 1,
		.nr_modules = initrd_size ? 1 : 0,
		.modlist_paddr = initrd_size ? BOOT_MODLIST_ADDR : 0,
		.cmdline_paddr = BOOT_CMDLINE_ADDR, .rsdp_paddr = BOOT_ACPI_ADDR,
		.memmap_paddr = BOOT_MEMMAP_ADDR,
	};
	int n = boot_e820(vm, e820, BOOT_MAX_E820);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		map[i] = (struct hvm_memmap_entry){ e820[i].addr, e820[i].size, e820[i].type, 0 };
	si.memmap_entries = (uint32_t)n;
	if (guest_mem_write(&vm->mem, BOOT_MEMMAP_ADDR, map, (size_t)n * sizeof(map[0])) ||
	    guest_mem_write(&vm->mem, BOOT_MODLIST_ADDR, &mod, sizeof(mod)) ||
	    guest_mem_write(&vm->mem, BOOT_START_INFO_ADDR, &si, sizeof(si)))
		return -EFAULT;
	return 0;
}

/* Zero-page offsets from the Linux x86 boot protocol. */
#define ZP_ACPI_RSDP 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_HDR 0x1f1
#define ZP_VID_MODE 0x1fa
#define ZP_TYPE_OF_LOADER 0x210
#define ZP_LOADFLAGS 0x211
#define ZP_RAMDISK_IMAGE 0x218
#define ZP_RAMDISK_SIZE 0x21c
#define ZP_HEAP_END 0x224
#define ZP_CMD_LINE 0x228
#define ZP_E820_TABLE 0x2d0
#define LOADFLAG_CAN_USE_HEAP 0x80

static void zp_put(uint8_t *zp, unsigned off, uint64_t v, unsigned len)
{
	memcpy(zp + off, &v, len); /* x86 is little endian */
}

int boot_write_zero_page(struct vm *vm, const uint8_t *setup_hdr, unsigned hdr_len,
			 uint64_t initrd_addr, uint64_t initrd_size)
{
	uint8_t *zp = guest_mem_ptr(&vm->mem, BOOT_ZERO_PAGE_ADDR, 4096);
	struct e820_entry e820[BOOT_MAX_E820];
	int n = boot_e820(vm, e820, BOOT_MAX_E820);

	if (!zp || n < 0 || hdr_len > 0x290 - ZP_HDR)
		return -EINVAL;
	memset(zp, 0, 4096);
	if (setup_hdr)
		memcpy(zp + ZP_HDR, setup_hdr, hdr_len);
	zp_put(zp, ZP_VID_MODE, 0xffff, 2);
	zp_put(zp, ZP_TYPE_OF_LOADER, 0xff, 1);
	zp[ZP_LOADFLAGS] |= LOADFLAG_CAN_USE_HEAP;
	zp_put(zp, ZP_HEAP_END, 0xfe00 - 0x200, 2);
	zp_put(zp, ZP_CMD_LINE, BOOT_CMDLINE_ADDR, 4);
	zp_put(zp, ZP_EXT_CMD_LINE, 0, 4);
	zp_put(zp, ZP_RAMDISK_IMAGE, initrd_addr & 0xffffffff, 4);
	zp_put(zp, ZP_RAMDISK_SIZE, initrd_size & 0xffffffff, 4);
	zp_put(zp, ZP_EXT_RAMDISK_IMAGE, initrd_addr >> 32, 4);
	zp_put(zp, ZP_EXT_RAMDISK_SIZE, initrd_size >> 32, 4);
	zp_put(zp, ZP_ACPI_RSDP, BOOT_ACPI_ADDR, 8);
	zp[ZP_E820_ENTRIES] = (uint8_t)n;
	memcpy(zp + ZP_E820_TABLE, e820, (size_t)n * sizeof(e820[0]));
	return 0;
}
