/* AP start-up trampoline. tg_smp copies [tg_tramp_start, tg_tramp_end)
 * to TG_TRAMP_BASE and fills the parameter block at its end; each AP
 * starts here after SIPI in real mode (CS = TG_TRAMP_BASE >> 4, IP = 0),
 * goes to protected mode, then long mode on the BSP's page tables, takes
 * the next free stack and calls tg_ap_main(index).
 *
 * It never runs where it is linked, so every address is computed relative
 * to tg_tramp_start and rebased onto TG_TRAMP_BASE. */
#include "tg_layout.h"

#define T(label) (TG_TRAMP_BASE + ((label) - tg_tramp_start))
#define TP(off) (T(tg_tramp_params) + (off))

	.section .rodata.tramp, "a", @progbits
	.balign 16
	.globl tg_tramp_start
tg_tramp_start:
	.code16
	cli
	cld
	/* DS = 0: the block sits below 64 KiB, so its absolute address
	 * fits a 16-bit offset. */
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl TP(TG_TP_GDTR)
	movl %cr0, %eax
	orl $TG_CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $TG_SEL_CODE32, $T(tg_tramp32)

	.code32
tg_tramp32:
	movl $TG_SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %cr4, %eax
	orl $TG_CR4_PAE, %eax
	movl %eax, %cr4
	movl TP(TG_TP_CR3), %eax
	movl %eax, %cr3
	movl $TG_MSR_EFER, %ecx
	rdmsr
	orl $TG_EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $TG_CR0_PG, %eax
	movl %eax, %cr0
	ljmpl $TG_SEL_CODE64, $T(tg_tramp64)

	.code64
tg_tramp64:
	/* index = next++; RSP = stack_base + (index + 1) * stack_size */
	movl $1, %eax
	lock xaddl %eax, TP(TG_TP_NEXT)
	movl %eax, %edi
	leaq 1(%rdi), %rax
	imulq TP(TG_TP_STACK_SIZE), %rax
	addq TP(TG_TP_STACK_BASE), %rax
	movq %rax, %rsp
	xorl %ebp, %ebp
	movq TP(TG_TP_ENTRY), %rax
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
	.globl tg_tramp_params
tg_tramp_params:
	.skip TG_TP_SIZE
	.globl tg_tramp_end
tg_tramp_end:

	.section .note.GNU-stack, "", @progbits
