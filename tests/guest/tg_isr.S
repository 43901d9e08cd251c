/* Interrupt entry stubs and the ring 0 <-> ring 3 switch.
 *
 * Every stub leaves a struct tg_frame (tg_cpu.h) on the stack: the
 * general registers, the vector, an error code (0 where the CPU pushes
 * none) and the CPU's iret frame; tg_trap() dispatches on the vector. */
#include "tg_layout.h"

	.text

.macro TG_STUB name, vec, has_err
	.balign 16
	.globl tg_isr_\name
tg_isr_\name:
	.if \has_err == 0
	pushq $0
	.endif
	pushq $\vec
	jmp tg_isr_common
.endm

.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	TG_STUB \v, \v, 0
.endr
.irp v, 8,10,11,12,13,14,17,21,29,30
	TG_STUB \v, \v, 1
.endr
	TG_STUB timer, TG_VEC_TIMER, 0
	TG_STUB virtio, TG_VEC_VIRTIO, 0
	TG_STUB sci, TG_VEC_SCI, 0
	TG_STUB spurious, TG_VEC_SPURIOUS, 0

tg_isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call tg_trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp /* vector, error code */
	iretq

/* uint64_t tg_user_call(uint64_t (*fn)(void *), void *arg,
 *                       void *ustack_top, void *rsp0_slot, uint64_t rflags)
 *
 * Runs fn(arg) in ring 3 with the given RFLAGS (IF or not) and returns
 * its result.
 * The callee-saved registers are pushed and both this CPU's TSS.rsp0
 * (*rsp0_slot) and tg_user_ksp point just below them: interrupts from
 * ring 3 run on this stack, and when fn returns, ring 3 executes the ud2
 * at tg_user_exit; tg_trap() recognises that #UD and calls
 * tg_user_resume(), which returns from tg_user_call.
 *
 * Why a fault and not `int $n` or `syscall`: on the PVM hosts this runs
 * on, `int $n` from ring 3 arrives as #UD, and `syscall` enters LSTAR
 * still at CPL 3 (PVM's own supervisor mode). Exceptions from ring 3 are
 * delivered through the IDT as on real hardware. */
	.globl tg_user_call
tg_user_call:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rcx /* 7 pushes: the saved point stays 16-byte aligned */
	movq %rsp, (%rcx)
	movq %rsp, tg_user_ksp(%rip)
	pushq $TG_SEL_UDATA
	pushq %rdx
	pushq %r8
	pushq $TG_SEL_UCODE
	leaq tg_user_entry(%rip), %rax
	pushq %rax
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %ebp, %ebp
	iretq

	/* Ring 3 from here. */
tg_user_entry:
	movq %rdi, %rax
	movq %rsi, %rdi
	call *%rax
	movq %rax, %rdi /* the result, for tg_trap to pick up */
	.globl tg_user_exit
tg_user_exit:
	ud2

/* void tg_user_resume(uint64_t result): ring 0, from tg_trap. Drops the
 * trap frame and returns result from tg_user_call. */
	.globl tg_user_resume
tg_user_resume:
	movq %rdi, %rax
	movl $TG_SEL_DATA, %ecx
	movl %ecx, %ss
	movl %ecx, %ds
	movl %ecx, %es
	movq tg_user_ksp(%rip), %rsp
	popq %rcx
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .bss
	.balign 8
tg_user_ksp:
	.skip 8

	.section .rodata
	.balign 8
	.globl tg_isr_stubs
tg_isr_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad tg_isr_\v
.endr

	.section .note.GNU-stack, "", @progbits
