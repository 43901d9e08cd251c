/* x86 vCPU state at power-on: CPUID, MSRs, FPU, LAPIC, and the BSP's boot
 * registers (long mode for the 64-bit entries, 32-bit flat for PVH). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/log.h"
#include "vmm/boot.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define CPUID_MAX_ENTRIES 256
#define CPUID_1_ECX_PCLMUL (1u << 1)
#define CPUID_1_ECX_SSSE3 (1u << 9)
#define CPUID_1_ECX_CX16 (1u << 13)
#define CPUID_1_ECX_SSE41 (1u << 19)
#define CPUID_1_ECX_SSE42 (1u << 20)
#define CPUID_1_ECX_AES (1u << 25)
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_ECX_AVX (1u << 28)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_7_EBX_AVX_MASK 0xdc230020u /* AVX2, AVX-512 F/DQ/IFMA/CD/BW/VL */
#define CPUID_7_EBX_SHA (1u << 29)
/* Features whose kernel users are SIMD routines (blake2s, crc32c, AES,
 * SHA, raid6) that KVM's instruction emulator cannot execute: with them
 * hidden, a Linux guest picks its generic C code in ring 0. */
#define CPUID_1_ECX_PVM_HIDE (CPUID_1_ECX_PCLMUL | CPUID_1_ECX_SSSE3 | CPUID_1_ECX_CX16 | \
			      CPUID_1_ECX_SSE41 | CPUID_1_ECX_SSE42 | CPUID_1_ECX_AES | \
			      CPUID_1_ECX_XSAVE | CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_AVX)

static void cpuid_filter(struct vm *vm, struct kvm_cpuid_entry2 *e)
{
	switch (e->function) {
	case 1:
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		e->ebx = (e->ebx & 0x0000ffff) | ((vm->nr_vcpus & 0xff) << 16);
		if (vm->nr_vcpus > 1)
			e->edx |= CPUID_1_EDX_HTT;
		/* KVM's instruction emulator, which runs guest ring 0 on PVM
		 * hosts, cannot execute XSAVE/XRSTOR, CMPXCHG16B or SIMD code.
		 * (PVM keeps XSAVE visible whatever we say: see boot.c.) */
		if (vm->pvm)
			e->ecx &= ~CPUID_1_ECX_PVM_HIDE;
		break;
	case 7:
		if (vm->pvm && e->index == 0)
			e->ebx &= ~(CPUID_7_EBX_AVX_MASK | CPUID_7_EBX_SHA);
		break;
	case 0xd:
		if (vm->pvm)
			e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	default:
		break;
	}
}

int x86_cpuid_build(struct vm *vm)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));

	if (!c)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int err = -errno;

		log_error("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
		free(c);
		return err;
	}
	for (unsigned i = 0; i < c->nent; i++)
		cpuid_filter(vm, &c->entries[i]);
	vm->cpuid = c;
	return 0;
}

static int x86_set_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *tmpl = v->vm->cpuid;
	size_t sz = sizeof(*tmpl) + tmpl->nent * sizeof(tmpl->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int err = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, tmpl, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (v->id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = v->id;
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		err = -errno;
		log_error("vcpu %u: KVM_SET_CPUID2 failed: %s", v->id, strerror(errno));
	}
	free(c);
	return err;
}

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

static int x86_set_msrs(struct vcpu *v)
{
	static const struct { uint32_t index; uint64_t data; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_LSTAR, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },             /* fast strings */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 },   /* MTRRs on, write-back */
	};
	const unsigned n = sizeof(init) / sizeof(init[0]);
	struct { struct kvm_msrs hdr; struct kvm_msr_entry e[sizeof(init) / sizeof(init[0])]; } m;
	int ret;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = n;
	for (unsigned i = 0; i < n; i++) {
		m.e[i].index = init[i].index;
		m.e[i].data = init[i].data;
	}
	ret = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (ret < 0)
		return -errno;
	if ((unsigned)ret != n)
		log_debug("vcpu %u: KVM took %d of %u boot MSRs (stopped at %#x)", v->id, ret, n,
			  init[ret].index);
	return 0;
}

static int x86_set_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return ioctl(v->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_DM_NMI 0x400
#define APIC_DM_EXTINT 0x700

static int x86_set_lapic(struct vcpu *v)
{
	struct kvm_lapic_state l;
	uint32_t lint0, lint1;

	if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	memcpy(&lint0, &l.regs[APIC_LVT_LINT0], 4);
	memcpy(&lint1, &l.regs[APIC_LVT_LINT1], 4);
	/* Like a PC: the 8259 reaches the CPU through LINT0, NMIs through LINT1. */
	lint0 = (lint0 & ~0x700u) | APIC_DM_EXTINT;
	lint1 = (lint1 & ~0x700u) | APIC_DM_NMI;
	memcpy(&l.regs[APIC_LVT_LINT0], &lint0, 4);
	memcpy(&l.regs[APIC_LVT_LINT1], &lint1, 4);
	return ioctl(v->fd, KVM_SET_LAPIC, &l) < 0 ? -errno : 0;
}

static void x86_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	*s = (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
				   .present = 1, .dpl = 0, .db = code64 ? 0 : 1, .s = 1,
				   .l = code64, .g = 1 };
}

static int x86_set_boot_regs(struct vcpu *v)
{
	const struct boot_entry *be = &v->vm->entry;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	bool lm = be->mode == BOOT_LONG64;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	x86_seg(&sregs.cs, lm ? BOOT_SEL_CODE64 : BOOT_SEL_CODE32, 0xb, lm);
	x86_seg(&sregs.ds, BOOT_SEL_DATA, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){ .base = 0, .limit = 0x67, .selector = BOOT_SEL_TSS,
					 .type = 0xb, .present = 1 };
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	if (lm) {
		sregs.cr0 = 0x80000033; /* PG | NE | ET | MP | PE */
		sregs.cr3 = BOOT_PML4_ADDR;
		sregs.cr4 = 0x20;       /* PAE */
		sregs.efer = 0x500;     /* LMA | LME */
	} else {
		sregs.cr0 = 0x11;       /* ET | PE: the PVH entry state */
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.efer = 0;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = be->rip;
	regs.rsi = be->rsi;
	regs.rbx = be->rbx;
	return ioctl(v->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

int x86_vcpu_setup(struct vcpu *v)
{
	int err = x86_set_cpuid(v);

	if (!err)
		err = x86_set_msrs(v);
	if (!err)
		err = x86_set_fpu(v);
	if (!err)
		err = x86_set_lapic(v);
	/* Only the BSP gets boot registers; the APs wait for INIT/SIPI from
	 * the guest in KVM's in-kernel LAPIC, as on real hardware. */
	if (!err && v->id == 0)
		err = x86_set_boot_regs(v);
	if (err)
		log_error("vcpu %u: set-up failed: %s", v->id, strerror(-err));
	return err;
}
