#include "vmm/vm_virtio.h"

#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "virtio/pci.h"
#include "virtio/rng.h"
#include "vmm/vm.h"

struct vm_virtio {
	unsigned nr;
	struct virtio_pci *pci[VM_MAX_VIRTIO];
	struct virtio_rng *rng;
};

static int vm_virtio_add(struct vm *vm, struct virtio_dev *d)
{
	struct vm_virtio *v = vm->virtio;
	int err;

	if (v->nr == VM_MAX_VIRTIO)
		return -ENOSPC;
	err = virtio_pci_create(d, &vm->pci, &vm->irq, &vm->evl, &vm->mem, &v->pci[v->nr]);
	if (!err)
		v->nr++;
	return err;
}

int vm_virtio_create(struct vm *vm)
{
	int err;

	vm->virtio = calloc(1, sizeof(*vm->virtio));
	if (!vm->virtio)
		return -ENOMEM;
	err = evl_init(&vm->evl);
	if (!err)
		err = kvm_irq_init(&vm->irq, vm->vm_fd, vm->kvm_fd);
	if (!err)
		err = pci_bus_init(&vm->pci, &vm->pio, &vm->mmio, VM_PCI_WINDOW_START,
				   VM_PCI_WINDOW_END);
	if (err)
		return err;
	if (vm->cfg->rng) {
		vm->virtio->rng = calloc(1, sizeof(*vm->virtio->rng));
		if (!vm->virtio->rng)
			return -ENOMEM;
		virtio_rng_init(vm->virtio->rng);
		err = vm_virtio_add(vm, &vm->virtio->rng->dev);
	}
	return err;
}

void vm_virtio_destroy(struct vm *vm)
{
	struct vm_virtio *v = vm->virtio;

	if (!v)
		return;
	for (unsigned i = 0; i < v->nr; i++)
		virtio_pci_destroy(v->pci[i]);
	free(v->rng);
	free(v);
	vm->virtio = NULL;
	pci_bus_free(&vm->pci);
	evl_free(&vm->evl);
}
