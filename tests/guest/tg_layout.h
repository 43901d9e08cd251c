/* tests/guest: constants shared by the assembly stubs and the C code.
 * Everything here is an ABI between those two halves, so it lives in one
 * place and both sides include it (the .S files through cpp). */
#ifndef TG_LAYOUT_H
#define TG_LAYOUT_H

/* Where the image is linked and loaded (guest-physical == virtual). */
#define TG_LOAD_ADDR 0x100000

/* GDT layout. 0x08/0x10/0x18 match what lq-vmm hands us at the 64-bit
 * entry, so the switch to our own GDT never changes a live selector. */
#define TG_SEL_CODE32 0x08
#define TG_SEL_CODE64 0x10
#define TG_SEL_DATA 0x18
#define TG_SEL_UDATA 0x23 /* index 4, RPL 3 */
#define TG_SEL_UCODE 0x2b /* index 5, RPL 3 */
#define TG_SEL_TSS0 0x30  /* then one 16-byte TSS descriptor per CPU */
#define TG_GDT_FIXED 6

#define TG_MAX_CPUS 64
#define TG_GDT_ENTRIES (TG_GDT_FIXED + 2 * TG_MAX_CPUS)

#define TG_KSTACK_SIZE 16384 /* per CPU ring-0 stack */
#define TG_IST_SIZE 4096     /* per CPU #DF/#NMI stack */
#define TG_USTACK_SIZE 16384 /* the BSP's ring-3 stack */

/* Interrupt vectors. */
#define TG_VEC_DF 8
#define TG_VEC_NMI 2
#define TG_VEC_TIMER 0x40
#define TG_VEC_VIRTIO 0x50 /* MSI-X from virtio devices */
#define TG_VEC_SCI 0x60    /* the ACPI SCI through the IOAPIC (wait=powerbutton) */
#define TG_VEC_SPURIOUS 0xff

/* The AP trampoline is copied here: page aligned below 1 MiB, so the SIPI
 * vector is TG_TRAMP_BASE >> 12. lq-vmm keeps 0x8000-0x8fff free. */
#define TG_TRAMP_BASE 0x8000

/* Parameter block at the end of the trampoline, filled by the BSP.
 * Offsets are checked against struct tg_tramp_params in tg_smp.c. */
#define TG_TP_GDTR 2        /* u16 limit, u32 base: lgdtl operand */
#define TG_TP_CR3 8         /* u32 */
#define TG_TP_NEXT 12       /* u32, atomically incremented per AP */
#define TG_TP_STACK_BASE 16 /* u64 */
#define TG_TP_STACK_SIZE 24 /* u64 */
#define TG_TP_ENTRY 32      /* u64: void tg_ap_main(unsigned idx) */
#define TG_TP_SIZE 40

/* Control register and MSR bits the stubs use. */
#define TG_CR0_PE 0x1
#define TG_CR0_PG 0x80000000
#define TG_CR4_PAE 0x20
#define TG_MSR_EFER 0xc0000080
#define TG_EFER_LME 0x100

#endif
