#include "vmm/kvm_irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/log.h"

static int kvm_irq_commit(struct kvm_irq *k)
{
	unsigned max = 16 * 2 + KVM_IRQ_LEGACY_GSIS + KVM_IRQ_MAX_MSI, n = 0;
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + max * sizeof(r->entries[0]));
	int err = 0;

	if (!r)
		return -ENOMEM;
	/* KVM_SET_GSI_ROUTING replaces the whole table: restate the legacy
	 * routes (PIC master 0-7, slave 8-15, IOAPIC pins 0-23) first. */
	for (unsigned gsi = 0; gsi < KVM_IRQ_LEGACY_GSIS; gsi++) {
		if (gsi < 16) {
			r->entries[n].gsi = gsi;
			r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			r->entries[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
								    KVM_IRQCHIP_PIC_SLAVE;
			r->entries[n].u.irqchip.pin = gsi % 8;
			n++;
		}
		r->entries[n].gsi = gsi;
		r->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		r->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		r->entries[n].u.irqchip.pin = gsi;
		n++;
	}
	for (unsigned i = 0; i < k->nr_gsi; i++) {
		if (!k->msi[i].routed)
			continue;
		r->entries[n].gsi = KVM_IRQ_LEGACY_GSIS + i;
		r->entries[n].type = KVM_IRQ_ROUTING_MSI;
		r->entries[n].u.msi.address_lo = (uint32_t)k->msi[i].addr;
		r->entries[n].u.msi.address_hi = (uint32_t)(k->msi[i].addr >> 32);
		r->entries[n].u.msi.data = k->msi[i].data;
		n++;
	}
	r->nr = n;
	if (ioctl(k->vm_fd, KVM_SET_GSI_ROUTING, r) < 0) {
		err = -errno;
		log_error("KVM_SET_GSI_ROUTING (%u routes) failed: %s", n, strerror(errno));
	}
	free(r);
	return err;
}

int kvm_irq_init(struct kvm_irq *k, int vm_fd, int kvm_fd)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->vm_fd = vm_fd;
	k->any_length_ioeventfd = ioctl(kvm_fd, KVM_CHECK_EXTENSION,
					KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
	return kvm_irq_commit(k);
}

int kvm_irq_msi_alloc(struct kvm_irq *k, int efd, uint32_t *gsi)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)efd };
	int err = 0;

	pthread_mutex_lock(&k->lock);
	if (k->nr_gsi == KVM_IRQ_MAX_MSI) {
		err = -ENOSPC;
	} else {
		irqfd.gsi = KVM_IRQ_LEGACY_GSIS + k->nr_gsi;
		if (ioctl(k->vm_fd, KVM_IRQFD, &irqfd) < 0) {
			err = -errno;
			log_error("KVM_IRQFD for GSI %u failed: %s", irqfd.gsi, strerror(errno));
		} else {
			*gsi = irqfd.gsi;
			k->nr_gsi++;
		}
	}
	pthread_mutex_unlock(&k->lock);
	return err;
}

int kvm_irq_msi_route(struct kvm_irq *k, uint32_t gsi, bool route, uint64_t addr, uint32_t data)
{
	struct kvm_irq_msi *m;
	int err = 0;

	if (gsi < KVM_IRQ_LEGACY_GSIS || gsi - KVM_IRQ_LEGACY_GSIS >= KVM_IRQ_MAX_MSI)
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	m = &k->msi[gsi - KVM_IRQ_LEGACY_GSIS];
	/* Guests rewrite vectors often with the same values: skip those. */
	if (m->routed != route || (route && (m->addr != addr || m->data != data))) {
		*m = (struct kvm_irq_msi){ route, addr, data };
		err = kvm_irq_commit(k);
	}
	pthread_mutex_unlock(&k->lock);
	return err;
}

int kvm_ioeventfd(struct kvm_irq *k, uint64_t addr, int efd, bool assign)
{
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = k->any_length_ioeventfd ? 0 : 2, /* virtio kicks are 16-bit */
		.fd = efd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0)
		return -errno;
	return 0;
}
