/* vmm/vm: one KVM virtual machine and everything it owns. All state lives
 * here (no globals) so tests can build several VMs in one process. */
#ifndef LQ_VMM_VM_H
#define LQ_VMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "devices/debug_exit.h"
#include "devices/pci.h"
#include "vmm/config.h"
#include "vmm/event_loop.h"
#include "vmm/guest_mem.h"
#include "vmm/kvm_irq.h"
#include "vmm/vm_pause.h"

#define VM_MAX_VIRTIO 16

struct vcpu;
struct serial;
struct i8042;
struct rtc;
struct acpi_pm;
struct vm_virtio;

/* Why the VM stopped; decides lq-vmm's exit status. */
enum vm_exit_reason {
	VM_EXIT_NONE,
	VM_EXIT_POWEROFF,   /* orderly ACPI soft-off: status 0 */
	VM_EXIT_REBOOT,     /* reset requested: restart or exit 0 */
	VM_EXIT_DEBUG,      /* debug-exit port: the guest chose the status */
	VM_EXIT_CRASH,      /* triple fault, internal error: status 2 */
	VM_EXIT_ERROR,      /* VMM-side failure: status 1 */
	VM_EXIT_SIGNAL,     /* lq-vmm was asked to stop: status 128 + signal */
};

/* Boot entry state computed by the loaders for the BSP. */
enum boot_mode { BOOT_LONG64, BOOT_PVH32 };
struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint64_t rsi; /* zero page (Linux 64-bit boot protocol) */
	uint64_t rbx; /* hvm_start_info (PVH and the test guest) */
	bool linux_kernel; /* gets the PVM-host command line additions */
};

struct vm {
	const struct vm_config *cfg;
	int kvm_fd;
	int vm_fd;
	int run_size;
	bool pvm;                 /* host KVM is PVM-based: apply workarounds */
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct kvm_cpuid2 *cpuid; /* filtered template; APIC ids patched per vCPU */
	struct boot_entry entry;

	unsigned nr_vcpus;
	struct vcpu *vcpus;

	struct serial *serial;
	struct i8042 *i8042;
	struct rtc *rtc;
	struct acpi_pm *pm;
	struct debug_exit dbg;

	struct evl evl;           /* device event loop, run by the main thread */
	struct kvm_irq irq;       /* MSI routes, irqfds, ioeventfds */
	struct pci_bus pci;
	struct vm_virtio *virtio;

	struct vm_pause pause;    /* Running <-> Paused (vmm/vm_pause.h) */

	pthread_mutex_t lock;
	int exit_efd;             /* written once when the VM must stop */
	enum vm_exit_reason exit_reason;
	int exit_status;
};

/* Serial host side is created by the caller and outlives VM restarts. */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct serial *serial);
int vm_start(struct vm *vm);
/* Stops and joins every vCPU thread. */
void vm_stop(struct vm *vm);
void vm_destroy(struct vm *vm);
/* First caller wins; wakes whoever waits on exit_efd. Thread-safe. */
void vm_request_exit(struct vm *vm, enum vm_exit_reason why, int status);
/* KVM_IRQ_LINE; matches irq_set_fn. */
void vm_set_irq(void *vm, unsigned gsi, int level);

#endif
