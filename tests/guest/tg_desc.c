/* GDT, per-CPU TSS and the IDT. One GDT for all CPUs (each has its own TSS
 * descriptor, since ltr marks a descriptor busy); one IDT for all. */
#include "tg_arch.h"
#include "tg_cpu.h"
#include "tg_string.h"

/* Flat segments; access bytes have "accessed" set so the CPU never needs
 * to write the GDT. 0x08 is for the 32-bit stubs only. */
uint64_t tg_gdt[TG_GDT_ENTRIES] __attribute__((aligned(16))) = {
	0,
	0x00cf9b000000ffffULL, /* 0x08 code, 32-bit, DPL 0 */
	0x00af9b000000ffffULL, /* 0x10 code, 64-bit, DPL 0 */
	0x00cf93000000ffffULL, /* 0x18 data, DPL 0 */
	0x00cff3000000ffffULL, /* 0x20 data, DPL 3 */
	0x00affb000000ffffULL, /* 0x28 code, 64-bit, DPL 3 */
};

struct tg_cpu tg_cpus[TG_MAX_CPUS];
uint8_t tg_kstacks[TG_MAX_CPUS][TG_KSTACK_SIZE]
	__attribute__((section(".bss.noinit"), aligned(4096)));
static uint8_t tg_ist_stacks[TG_MAX_CPUS][TG_IST_SIZE]
	__attribute__((section(".bss.noinit"), aligned(4096)));

struct tg_idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
};

static struct tg_idt_gate tg_idt[256] __attribute__((aligned(16)));

struct tg_dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t tg_isr_stubs[32];
extern char tg_isr_timer[], tg_isr_spurious[], tg_isr_virtio[], tg_isr_sci[];

#define TG_GATE_INTR 0x8e /* present, DPL 0, 64-bit interrupt gate */

static void tg_idt_set(unsigned vec, uint64_t handler, uint8_t type, uint8_t ist)
{
	tg_idt[vec] = (struct tg_idt_gate){
		.off_lo = (uint16_t)handler, .sel = TG_SEL_CODE64, .ist = ist, .type = type,
		.off_mid = (uint16_t)(handler >> 16), .off_hi = (uint32_t)(handler >> 32),
	};
}

void tg_idt_init(void)
{
	memset(tg_idt, 0, sizeof(tg_idt));
	for (unsigned v = 0; v < 32; v++)
		tg_idt_set(v, tg_isr_stubs[v], TG_GATE_INTR, 0);
	/* A double fault or NMI may come from a broken stack: give them IST1. */
	tg_idt_set(TG_VEC_DF, tg_isr_stubs[TG_VEC_DF], TG_GATE_INTR, 1);
	tg_idt_set(TG_VEC_NMI, tg_isr_stubs[TG_VEC_NMI], TG_GATE_INTR, 1);
	tg_idt_set(TG_VEC_TIMER, (uintptr_t)tg_isr_timer, TG_GATE_INTR, 0);
	tg_idt_set(TG_VEC_VIRTIO, (uintptr_t)tg_isr_virtio, TG_GATE_INTR, 0);
	tg_idt_set(TG_VEC_SCI, (uintptr_t)tg_isr_sci, TG_GATE_INTR, 0);
	tg_idt_set(TG_VEC_SPURIOUS, (uintptr_t)tg_isr_spurious, TG_GATE_INTR, 0);
}

/* 16-byte system descriptor for a 64-bit available TSS (type 9). */
static void tg_gdt_set_tss(unsigned cpu)
{
	uint64_t base = (uintptr_t)&tg_cpus[cpu].tss;
	uint64_t limit = sizeof(struct tg_tss) - 1;
	unsigned slot = (TG_SEL_TSS0 >> 3) + 2 * cpu;

	tg_gdt[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		       ((limit & 0xf0000) << 32) | ((base & 0xff000000) << 32);
	tg_gdt[slot + 1] = base >> 32;
}

static void tg_load_segments(void)
{
	/* Reload CS with a far return; then the data segments. */
	__asm__ volatile("pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %[ds], %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs"
			 :
			 : [cs] "i"(TG_SEL_CODE64), [ds] "i"(TG_SEL_DATA)
			 : "rax", "memory");
}

void tg_desc_load(unsigned cpu)
{
	struct tg_tss *tss = &tg_cpus[cpu].tss;
	struct tg_dtr gdtr = { sizeof(tg_gdt) - 1, (uintptr_t)tg_gdt };
	struct tg_dtr idtr = { sizeof(tg_idt) - 1, (uintptr_t)tg_idt };
	uint16_t tr = (uint16_t)(TG_SEL_TSS0 + 16 * cpu);

	memset(tss, 0, sizeof(*tss));
	tss->rsp0 = (uintptr_t)tg_kstacks[cpu] + TG_KSTACK_SIZE;
	tss->ist[0] = (uintptr_t)tg_ist_stacks[cpu] + TG_IST_SIZE;
	tss->iomap_base = sizeof(*tss); /* no I/O bitmap: ring 3 gets no ports */
	tg_gdt_set_tss(cpu);
	__asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
	tg_load_segments();
	__asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
	__asm__ volatile("ltr %0" : : "r"(tr) : "memory");
}
