/* Linux bzImage through the 64-bit boot protocol: the protected-mode
 * kernel is copied to its preferred address and entered at +0x200 in long
 * mode with RSI pointing at the zero page. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/kernel_unpack.h"
#include "vmm/vm.h"

#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP_END 0x201
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGN 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_PAYLOAD_OFFSET 0x248
#define HDR_PAYLOAD_LENGTH 0x24c
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define XLF_KERNEL_64 0x01

static uint64_t hdr_get(const uint8_t *img, unsigned off, unsigned len)
{
	uint64_t v = 0;

	memcpy(&v, img + off, len);
	return v;
}

/* Loads the decompressed vmlinux at its link-time physical address and
 * returns its 64-bit entry; 1 when the payload cannot be unpacked here. */
static int bzimage_load_unpacked(struct vm *vm, const uint8_t *img, size_t len,
				 uint64_t setup_size, uint64_t *entry, uint64_t *top)
{
	uint64_t off = hdr_get(img, HDR_PAYLOAD_OFFSET, 4), plen = hdr_get(img, HDR_PAYLOAD_LENGTH, 4);
	struct boot_elf_info info;
	uint8_t *elf = NULL;
	size_t elf_len = 0;
	int err;

	if (hdr_get(img, HDR_VERSION, 2) < 0x208 || off > len - setup_size ||
	    plen > len - setup_size - off)
		return 1;
	err = kernel_unpack(img + setup_size + off, plen, &elf, &elf_len);
	if (err) {
		log_info("%s: %s payload not unpacked on the host (%s); the guest will decompress it",
			 vm->cfg->kernel, kernel_unpack_format(img + setup_size + off, plen),
			 strerror(-err));
		return 1;
	}
	err = boot_elf_load(vm, elf, elf_len, &info);
	free(elf);
	if (err)
		return err;
	*entry = info.entry;
	*top = info.top;
	return 0;
}

int boot_linux_bzimage(struct vm *vm, const uint8_t *img, size_t len)
{
	uint64_t setup_sects, setup_size, load, init_size, pref, initrd_max;
	uint64_t initrd_addr, initrd_size, low = guest_mem_low_size(&vm->mem), entry, top;
	unsigned hdr_len;
	int err;

	if (len < 0x300 || hdr_get(img, HDR_BOOT_FLAG, 2) != 0xaa55 ||
	    memcmp(img + HDR_MAGIC, "HdrS", 4)) {
		log_error("%s: not a Linux bzImage (no boot sector / HdrS header)", vm->cfg->kernel);
		return -ENOEXEC;
	}
	if (hdr_get(img, HDR_VERSION, 2) < 0x20c ||
	    !(hdr_get(img, HDR_XLOADFLAGS, 2) & XLF_KERNEL_64)) {
		log_error("%s: kernel lacks the 64-bit boot entry (boot protocol %#x < 2.12 or not XLF_KERNEL_64)",
			  vm->cfg->kernel, (unsigned)hdr_get(img, HDR_VERSION, 2));
		return -ENOEXEC;
	}
	setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	setup_size = (setup_sects + 1) * 512;
	if (setup_size >= len) {
		log_error("%s: truncated bzImage (setup %llu bytes, file %zu)", vm->cfg->kernel,
			  (unsigned long long)setup_size, len);
		return -ENOEXEC;
	}
	init_size = hdr_get(img, HDR_INIT_SIZE, 4);
	pref = hdr_get(img, HDR_PREF_ADDRESS, 8);
	/* The preferred address avoids a relocation inside the guest, which
	 * is slow where guest kernel code runs emulated. */
	load = pref;
	if (!img[HDR_RELOCATABLE] || !pref || pref + init_size > low)
		load = BOOT_KERNEL_ADDR;
	if (load + (init_size > len - setup_size ? init_size : len - setup_size) > low) {
		log_error("%s: kernel needs %llu MiB at %#llx; give more --memory", vm->cfg->kernel,
			  (unsigned long long)(init_size >> 20), (unsigned long long)load);
		return -ENOSPC;
	}
	entry = load + 0x200;
	top = load + init_size;
	err = vm->cfg->guest_decompress ? 1 : bzimage_load_unpacked(vm, img, len, setup_size, &entry, &top);
	if (err < 0)
		return err;
	if (err)
		err = guest_mem_write(&vm->mem, load, img + setup_size, len - setup_size);
	if (err)
		return err;
	initrd_max = hdr_get(img, HDR_INITRD_ADDR_MAX, 4) + 1;
	err = boot_load_initrd(vm, initrd_max, &initrd_addr, &initrd_size);
	if (err)
		return err;
	if (initrd_size && initrd_addr < top) {
		log_error("initrd overlaps the kernel: give more --memory");
		return -ENOSPC;
	}
	hdr_len = img[HDR_JUMP_END] + 0x202 - HDR_SETUP_SECTS;
	err = boot_write_zero_page(vm, img + HDR_SETUP_SECTS, hdr_len, initrd_addr, initrd_size);
	if (err)
		return err;
	vm->entry = (struct boot_entry){ .mode = BOOT_LONG64, .rip = entry,
					 .rsi = BOOT_ZERO_PAGE_ADDR };
	log_debug("bzImage: protocol %#x, loaded at %#llx, initrd %llu bytes at %#llx",
		  (unsigned)hdr_get(img, HDR_VERSION, 2), (unsigned long long)load,
		  (unsigned long long)initrd_size, (unsigned long long)initrd_addr);
	return 0;
}
