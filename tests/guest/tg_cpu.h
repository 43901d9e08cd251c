/* tests/guest: per-CPU state, descriptor tables, traps and the switch to
 * ring 3. CPU index 0 is the BSP; APs are 1.. in order of arrival. */
#ifndef TG_CPU_H
#define TG_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_boot.h"
#include "tg_layout.h"

/* What tg_isr.S leaves on the stack for tg_trap(). */
struct tg_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, err;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

struct tg_tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2;
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct tg_cpu {
	struct tg_tss tss;
	uint32_t apic_id;
};

extern struct tg_cpu tg_cpus[TG_MAX_CPUS];
extern uint8_t tg_kstacks[TG_MAX_CPUS][TG_KSTACK_SIZE];
extern uint64_t tg_gdt[TG_GDT_ENTRIES];

/* Builds the IDT (once, on the BSP). */
void tg_idt_init(void);
/* Loads our GDT, segments, IDT and this CPU's TSS. */
void tg_desc_load(unsigned cpu);

/* Called by every stub in tg_isr.S. */
void tg_trap(struct tg_frame *f);
/* Set by the timer test; called from tg_trap for TG_VEC_TIMER. */
extern void (*volatile tg_timer_hook)(void);
/* Set by wait=powerbutton; called from tg_trap for TG_VEC_SCI. */
extern void (*volatile tg_sci_hook)(void);

/* Builds identity-mapped page tables for [0, 4 GiB) and all RAM and
 * loads them. Returns the end of what is mapped; *used_1g tells whether
 * 1 GiB pages were used. */
uint64_t tg_paging_init(const struct tg_boot *b, bool allow_1g, bool *used_1g);
/* CR3 of those tables (for the AP trampoline). */
uint64_t tg_paging_cr3(void);
/* End of what may be dereferenced now. */
extern uint64_t tg_mapped_top;

/* Runs fn(arg) in ring 3 on the BSP's user stack and returns its result;
 * then sends what it printed. Interrupts stay off, or (_irq) are on.
 * BSP only (one saved kernel stack pointer, one user stack). */
uint64_t tg_user_run(uint64_t (*fn)(void *), void *arg);
uint64_t tg_user_run_irq(uint64_t (*fn)(void *), void *arg);
/* If f is ring 3 saying "done" (see tg_isr.S), resumes tg_user_run's
 * caller and does not return; false otherwise. */
bool tg_user_trap(const struct tg_frame *f);

#endif
