/* vmm/vm_virtio: the VM's PCI bus and the virtio devices its config
 * asks for, with the event loop and interrupt plumbing they run on. */
#ifndef LQ_VMM_VM_VIRTIO_H
#define LQ_VMM_VM_VIRTIO_H

struct vm;

/* PCI window for BARs: above low RAM, below the IOAPIC. */
#define VM_PCI_WINDOW_START 0xc0000000ULL
#define VM_PCI_WINDOW_END 0xfec00000ULL

int vm_virtio_create(struct vm *vm);
void vm_virtio_destroy(struct vm *vm);
/* The i-th virtio PCI function in creation order, NULL past the last
 * (for the API's device list and counters). */
struct virtio_pci *vm_virtio_device(const struct vm *vm, unsigned i);

#endif
