/* vmm/vcpu: one thread per vCPU running KVM_RUN and dispatching exits.
 * A vCPU is stopped by setting kvm_run.immediate_exit and signalling its
 * thread (SIGUSR1, no handler work), so no exit is ever lost or waited on. */
#ifndef LQ_VMM_VCPU_H
#define LQ_VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vm;

#define VCPU_EXIT_REASONS 64 /* KVM_EXIT_* below this are counted one by one */

struct vcpu_stats {
	uint64_t exits, io, mmio, emulated, interrupted;
	uint64_t by_reason[VCPU_EXIT_REASONS]; /* indexed by KVM_EXIT_* */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_bool dump;           /* print registers at the next exit */
	struct vcpu_stats stats;
	uint64_t emul_counts[16];   /* per pvm_insn kind */
};

int vcpu_create(struct vm *vm, unsigned id, struct vcpu *v);
int vcpu_start(struct vcpu *v);
void vcpu_kick(struct vcpu *v);
/* Makes KVM_RUN return soon without stopping the vCPU (pause, dump). */
void vcpu_poke(struct vcpu *v);
/* Asks a running vCPU to print its registers to stderr and go on. */
void vcpu_request_dump(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);
/* Registers, segments, control registers and code bytes at RIP. */
void vcpu_dump(struct vcpu *v, FILE *f);
/* Reads up to len instruction bytes at the guest's current RIP. */
int vcpu_fetch_insn(struct vcpu *v, const struct kvm_regs *regs, const struct kvm_sregs *sregs,
		    uint8_t *buf, unsigned len);
/* Guest linear address -> host pointer through KVM_TRANSLATE (len must
 * not cross a page). NULL if unmapped. */
void *vcpu_linear_ptr(struct vcpu *v, uint64_t lin, unsigned len, bool write);

/* x86 set-up (vmm/x86_cpu.c). */
int x86_cpuid_build(struct vm *vm);
int x86_vcpu_setup(struct vcpu *v);

#endif
