/* ELF64 kernels: PT_LOAD segments go to their physical addresses; notes
 * choose the entry (see boot.h). Every header field is checked against
 * the file size before use: the image is untrusted input. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define LQ_NOTE_ENTRY64 1

static bool elf_range_ok(size_t file_len, uint64_t off, uint64_t len)
{
	return off <= file_len && len <= file_len - off;
}

static void elf_scan_notes(const uint8_t *p, uint64_t len, struct boot_elf_info *e)
{
	uint64_t off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, next;

		memcpy(&nh, p + off, sizeof(nh));
		name_off = off + sizeof(nh);
		desc_off = name_off + ((nh.n_namesz + 3ULL) & ~3ULL);
		next = desc_off + ((nh.n_descsz + 3ULL) & ~3ULL);
		if (next > len || next <= off)
			return;
		if (nh.n_namesz == 4 && !memcmp(p + name_off, "Xen", 4) &&
		    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_descsz >= 4) {
			uint32_t v;

			memcpy(&v, p + desc_off, 4);
			e->pvh32 = v;
		} else if (nh.n_namesz == 6 && !memcmp(p + name_off, "Linux", 6)) {
			e->linux_note = true;
		} else if (nh.n_namesz == 12 && !memcmp(p + name_off, "limiquantix", 12) &&
			   nh.n_type == LQ_NOTE_ENTRY64 && nh.n_descsz == 8) {
			memcpy(&e->lq64, p + desc_off, 8);
		}
		off = next;
	}
}

static int elf_load_segment(struct vm *vm, const uint8_t *img, size_t len, const Elf64_Phdr *ph)
{
	uint8_t *dst;

	if (ph->p_filesz > ph->p_memsz || !elf_range_ok(len, ph->p_offset, ph->p_filesz)) {
		log_error("%s: ELF segment at file offset %#llx runs past the end of the file",
			  vm->cfg->kernel, (unsigned long long)ph->p_offset);
		return -ENOEXEC;
	}
	dst = guest_mem_ptr(&vm->mem, ph->p_paddr, ph->p_memsz);
	if (!dst || ph->p_paddr < BOOT_KERNEL_ADDR) {
		log_error("%s: ELF segment [%#llx, +%#llx) is not in guest RAM above 1 MiB: give more --memory?",
			  vm->cfg->kernel, (unsigned long long)ph->p_paddr,
			  (unsigned long long)ph->p_memsz);
		return -ENOEXEC;
	}
	memcpy(dst, img + ph->p_offset, ph->p_filesz);
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	return 0;
}

int boot_elf_load(struct vm *vm, const uint8_t *img, size_t len, struct boot_elf_info *info)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	int err;

	memset(info, 0, sizeof(*info));
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !elf_range_ok(len, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr))) {
		log_error("%s: not a loadable x86-64 ELF image", vm->cfg->kernel);
		return -ENOEXEC;
	}
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE && elf_range_ok(len, ph.p_offset, ph.p_filesz))
			elf_scan_notes(img + ph.p_offset, ph.p_filesz, info);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		err = elf_load_segment(vm, img, len, &ph);
		if (err)
			return err;
		if (ph.p_paddr + ph.p_memsz > info->top)
			info->top = ph.p_paddr + ph.p_memsz;
	}
	if (!info->top) {
		log_error("%s: ELF image has no loadable segment", vm->cfg->kernel);
		return -ENOEXEC;
	}
	info->entry = eh->e_entry;
	return 0;
}

int boot_elf(struct vm *vm, const uint8_t *img, size_t len)
{
	struct boot_elf_info e;
	uint64_t initrd_addr, initrd_size;
	int err = boot_elf_load(vm, img, len, &e);

	if (err)
		return err;
	err = boot_load_initrd(vm, ~0ULL, &initrd_addr, &initrd_size);
	if (err)
		return err;
	if (initrd_size && initrd_addr < e.top) {
		log_error("initrd overlaps the kernel image: give more --memory");
		return -ENOSPC;
	}
	err = boot_write_start_info(vm, initrd_addr, initrd_size);
	if (!err)
		err = boot_write_zero_page(vm, NULL, 0, initrd_addr, initrd_size);
	if (err)
		return err;
	if (e.lq64)
		vm->entry = (struct boot_entry){ BOOT_LONG64, e.lq64, 0, BOOT_START_INFO_ADDR };
	else if (e.pvh32)
		vm->entry = (struct boot_entry){ BOOT_PVH32, e.pvh32, 0, BOOT_START_INFO_ADDR };
	else
		vm->entry = (struct boot_entry){ BOOT_LONG64, e.entry, BOOT_ZERO_PAGE_ADDR, 0 };
	vm->entry.linux_kernel = e.linux_note;
	log_debug("ELF: entry %#llx (%s)", (unsigned long long)vm->entry.rip,
		  e.lq64 ? "limiquantix 64-bit" : e.pvh32 ? "PVH 32-bit" : "e_entry 64-bit");
	return 0;
}
