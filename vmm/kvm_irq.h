/* vmm/kvm_irq: interrupt plumbing through KVM: MSI routes (the GSI
 * routing table), irqfds (an eventfd write injects an interrupt without
 * a trip through userspace) and ioeventfds (a guest write to an address
 * signals an eventfd instead of exiting to a vCPU thread). */
#ifndef LQ_VMM_KVM_IRQ_H
#define LQ_VMM_KVM_IRQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define KVM_IRQ_LEGACY_GSIS 24 /* IOAPIC pins; 0-15 also reach the PICs */
#define KVM_IRQ_MAX_MSI 512

struct kvm_irq {
	pthread_mutex_t lock;
	int vm_fd;
	unsigned nr_gsi;          /* MSI GSIs handed out so far */
	struct kvm_irq_msi {
		bool routed;
		uint64_t addr;
		uint32_t data;
	} msi[KVM_IRQ_MAX_MSI];   /* GSI = KVM_IRQ_LEGACY_GSIS + index */
	bool any_length_ioeventfd;
};

/* Installs the legacy routes (what KVM has by default after
 * KVM_CREATE_IRQCHIP) so MSI routes can be added next to them. */
int kvm_irq_init(struct kvm_irq *k, int vm_fd, int kvm_fd);
/* A GSI for one MSI source, with efd attached as its irqfd. */
int kvm_irq_msi_alloc(struct kvm_irq *k, int efd, uint32_t *gsi);
/* Points the GSI at an MSI message (route != true removes the route, so
 * irqfd writes go nowhere). Commits the routing table to KVM. */
int kvm_irq_msi_route(struct kvm_irq *k, uint32_t gsi, bool route, uint64_t addr, uint32_t data);
/* Guest writes of any width to addr signal efd (assign = false removes). */
int kvm_ioeventfd(struct kvm_irq *k, uint64_t addr, int efd, bool assign);

#endif
