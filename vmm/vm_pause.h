/* vmm/vm_pause: the vCPU run state machine, Running <-> Paused.
 *
 * Pausing sets `want`, then kicks every vCPU out of KVM_RUN with
 * kvm_run.immediate_exit and a signal whose handler does nothing; each
 * vCPU thread, back at the top of its loop, parks on a condition
 * variable and counts itself parked. vm_pause returns once every vCPU
 * is parked or has left its loop for good, so when it returns no guest
 * instruction runs. Resuming clears `want` and wakes them. A vCPU that
 * must stop (vcpu_kick) leaves its park at once.
 *
 * What goes on while paused: the device event loop still runs, so I/O
 * the guest had already submitted completes and its interrupts are
 * queued for when the vCPUs run again. */
#ifndef LQ_VMM_VM_PAUSE_H
#define LQ_VMM_VM_PAUSE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct vm;
struct vcpu;

struct vm_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;    /* parked/exited changed, or want cleared */
	atomic_bool want;       /* read by vCPU threads without the lock */
	unsigned parked;        /* vCPUs waiting in vm_pause_park */
	unsigned exited;        /* vCPU threads that left their loop */
	bool paused;            /* vm_pause succeeded, no vm_resume yet */
};

void vm_pause_init(struct vm_pause *p);
void vm_pause_destroy(struct vm_pause *p);

/* Main thread. 0 when every vCPU is parked, -EALREADY if already
 * paused. */
int vm_pause(struct vm *vm);
/* Main thread. 0 once the vCPUs may run again, -EALREADY if not paused. */
int vm_resume(struct vm *vm);
bool vm_is_paused(struct vm *vm);

/* vCPU thread, at the top of its run loop: parks while a pause is asked
 * for and this vCPU is not told to stop. */
static inline bool vm_pause_wanted(const struct vm_pause *p)
{
	return atomic_load(&p->want);
}
void vm_pause_park(struct vcpu *v);
/* vCPU thread, when it leaves its loop for good. */
void vm_pause_vcpu_exited(struct vcpu *v);
/* Wakes parked vCPUs so they see their stop flag (from vcpu_kick). */
void vm_pause_wake(struct vm *vm);

#endif
