/* Entry points. Both end in tg_start64 with RBX = hvm_start_info.
 *
 * tg_start32: PVH (QEMU). 32-bit protected mode, paging off, EBX = start
 *   info. Maps the first 4 GiB with 2 MiB pages (just enough to reach the
 *   C code and the start info; tg_paging builds the real tables) and
 *   enters long mode.
 * tg_start64: lq-vmm. Long mode, identity map of >= 4 GiB, RSP undefined.
 */
#include "tg_layout.h"

	.section .text.entry, "ax", @progbits

	.code32
	.globl tg_start32
tg_start32:
	cli
	cld
	/* PVH leaves ESP undefined; the far return below needs a stack. */
	movl $(tg_kstacks + TG_KSTACK_SIZE), %esp
	/* EBX carries the start info through to tg_start64: keep it. */

	/* Clear PML4 and PDPT (.bss.noinit: nothing is assumed about it). */
	movl $tg_boot_pml4, %edi
	xorl %eax, %eax
	movl $(2 * 4096 / 4), %ecx
	rep stosl

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four PDs. */
	movl $tg_boot_pdpt, %eax
	orl $0x3, %eax
	movl %eax, tg_boot_pml4
	movl $tg_boot_pd, %eax
	orl $0x3, %eax
	movl $tg_boot_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	movl $0, 4(%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b

	/* 2048 PDEs: 2 MiB pages, present + writable + PS, 0..4 GiB. */
	movl $tg_boot_pd, %edi
	movl $0x83, %eax
	xorl %edx, %edx
	movl $2048, %ecx
2:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 2b

	lgdt tg_gdt_ptr

	movl %cr4, %eax
	orl $TG_CR4_PAE, %eax
	movl %eax, %cr4
	movl $tg_boot_pml4, %eax
	movl %eax, %cr3
	movl $TG_MSR_EFER, %ecx
	rdmsr
	orl $TG_EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(TG_CR0_PG | TG_CR0_PE), %eax
	movl %eax, %cr0

	/* Far return into the 64-bit code segment. */
	pushl $TG_SEL_CODE64
	pushl $tg_start64
	lret

	.code64
	.globl tg_start64
tg_start64:
	cli
	cld
	movl %ebx, %ebx /* the upper half is undefined after a mode switch */
	movl $TG_SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	leaq (tg_kstacks + TG_KSTACK_SIZE)(%rip), %rsp
	/* .bss is not cleared here: the loader zeroes it, as ELF requires
	 * (p_memsz beyond p_filesz), and clearing it again in ring 0 would
	 * cost milliseconds on PVM hosts. */
	movq %rbx, %rdi
	xorl %ebp, %ebp
	call tg_main
3:	cli
	hlt
	jmp 3b

	/* lgdt operand: in 32-bit mode only the low 4 base bytes are read. */
	.section .data.gdt_ptr, "aw", @progbits
	.balign 8
	.globl tg_gdt_ptr
tg_gdt_ptr:
	.word TG_GDT_ENTRIES * 8 - 1
	.quad tg_gdt

	/* PVH-path boot page tables: PML4, PDPT, 4 PDs. */
	.section .bss.noinit, "aw", @nobits
	.balign 4096
tg_boot_pml4:
	.skip 4096
tg_boot_pdpt:
	.skip 4096
tg_boot_pd:
	.skip 4 * 4096

	.section .note.GNU-stack, "", @progbits
