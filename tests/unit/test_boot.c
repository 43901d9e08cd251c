/* Loaders against crafted (and hostile) kernel images, in plain memory:
 * no KVM needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/vm.h"

struct img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	struct { Elf64_Nhdr nh; char name[12]; uint64_t entry; } note;
	uint8_t code[16];
};

static struct vm_config cfg = { .kernel = "test-image", .cmdline = "" };

static void make_vm(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->cfg = &cfg;
	assert_int_equal(guest_mem_init(&vm->mem, 64u << 20), 0);
}

static void make_elf(struct img *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_phoff = offsetof(struct img, ph);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = 2;
	im->eh.e_entry = 0x100000;
	im->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = offsetof(struct img, code),
				  .p_paddr = 0x100000, .p_filesz = 16, .p_memsz = 0x2000 };
	im->ph[1] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = offsetof(struct img, note),
				  .p_filesz = sizeof(im->note) };
	im->note.nh = (Elf64_Nhdr){ .n_namesz = 12, .n_descsz = 8, .n_type = 1 };
	memcpy(im->note.name, "limiquantix", 12);
	im->note.entry = 0x100004;
	memset(im->code, 0x90, sizeof(im->code));
}

static void test_elf_ok(void **state)
{
	struct vm vm;
	struct img im;
	uint8_t *p;

	(void)state;
	make_vm(&vm);
	make_elf(&im);
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), 0);
	assert_int_equal(vm.entry.mode, BOOT_LONG64);
	assert_int_equal(vm.entry.rip, 0x100004);
	assert_int_equal(vm.entry.rbx, BOOT_START_INFO_ADDR);
	p = guest_mem_ptr(&vm.mem, 0x100000, 0x2000);
	assert_int_equal(p[0], 0x90);
	assert_int_equal(p[0x1fff], 0); /* bss zeroed */
	/* Without our note: the PVH note wins over e_entry. */
	im.note.nh.n_namesz = 4;
	memcpy(im.note.name, "Xen\0\0\0\0\0", 8);
	im.note.nh.n_type = 18;
	im.note.nh.n_descsz = 4;
	memcpy(im.note.name + 4, &(uint32_t){ 0x100008 }, 4); /* desc follows the 4-byte name */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), 0);
	assert_int_equal(vm.entry.mode, BOOT_PVH32);
	assert_int_equal(vm.entry.rip, 0x100008);
	guest_mem_free(&vm.mem);
}

static void test_elf_hostile(void **state)
{
	struct vm vm;
	struct img im;

	(void)state;
	make_vm(&vm);
	make_elf(&im);
	im.eh.e_phoff = 1ULL << 60;                      /* headers past the end */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), -ENOEXEC);
	make_elf(&im);
	im.eh.e_phnum = 0xffff;                         /* more headers than bytes */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), -ENOEXEC);
	make_elf(&im);
	im.ph[0].p_offset = ~0ULL - 4;                  /* data offset wraps */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), -ENOEXEC);
	make_elf(&im);
	im.ph[0].p_paddr = 0xfee00000;                  /* not RAM */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), -ENOEXEC);
	make_elf(&im);
	im.ph[0].p_paddr = 0x1000;                      /* over the boot tables */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), -ENOEXEC);
	make_elf(&im);
	im.ph[0].p_memsz = ~0ULL;                       /* absurd size */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), -ENOEXEC);
	make_elf(&im);
	im.note.nh.n_namesz = 0xfffffff0;               /* note runs off its segment */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, sizeof(im)), 0);
	assert_int_equal(vm.entry.rip, 0x100000);       /* fell back to e_entry */
	assert_int_equal(boot_elf(&vm, (uint8_t *)&im, 10), -ENOEXEC); /* truncated */
	guest_mem_free(&vm.mem);
}

static void test_bzimage_hostile(void **state)
{
	static uint8_t img[0x4000];
	struct vm vm;

	(void)state;
	make_vm(&vm);
	memset(img, 0, sizeof(img));
	assert_int_equal(boot_linux_bzimage(&vm, img, sizeof(img)), -ENOEXEC);
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0b; /* protocol 2.11: no 64-bit entry */
	img[0x207] = 0x02;
	assert_int_equal(boot_linux_bzimage(&vm, img, sizeof(img)), -ENOEXEC);
	img[0x206] = 0x0f;
	img[0x236] = 1;     /* XLF_KERNEL_64 */
	img[0x1f1] = 200;   /* setup claims more than the file */
	assert_int_equal(boot_linux_bzimage(&vm, img, sizeof(img)), -ENOEXEC);
	img[0x1f1] = 4;
	img[0x201] = 0x60;
	img[0x260] = 0x00; img[0x261] = 0x00; img[0x262] = 0x10; /* init_size 1 MiB */
	assert_int_equal(boot_linux_bzimage(&vm, img, sizeof(img)), 0);
	assert_int_equal(vm.entry.rip, BOOT_KERNEL_ADDR + 0x200);
	assert_int_equal(vm.entry.rsi, BOOT_ZERO_PAGE_ADDR);
	guest_mem_free(&vm.mem);
}

static void test_e820(void **state)
{
	struct vm vm;
	struct e820_entry e[BOOT_MAX_E820];

	(void)state;
	memset(&vm, 0, sizeof(vm));
	assert_int_equal(guest_mem_init(&vm.mem, 5ULL << 30), 0);
	assert_int_equal(boot_e820(&vm, e, BOOT_MAX_E820), 4);
	assert_int_equal(e[2].addr + e[2].size, GUEST_MEM_HOLE_START);
	assert_int_equal(e[3].addr, GUEST_MEM_HIGH_START);
	assert_int_equal(e[3].size, (5ULL << 30) - GUEST_MEM_HOLE_START);
	assert_int_equal(boot_e820(&vm, e, 2), -ENOSPC);
	guest_mem_free(&vm.mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_ok), cmocka_unit_test(test_elf_hostile),
		cmocka_unit_test(test_bzimage_hostile), cmocka_unit_test(test_e820),
	};
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
