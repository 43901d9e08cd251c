/* vmm/vm_net: one --net card: its tap (opened or created), the bridge it
 * joins, and the virtio-net device on it. */
#ifndef LQ_VMM_VM_NET_H
#define LQ_VMM_VM_NET_H

#include "net/tap.h"
#include "vmm/config.h"

struct virtio_net;

struct vm_net {
	struct tap tap;             /* queue 0's fd is tap.fd */
	int fds[NET_MAX_QUEUES];
	unsigned queues;
	struct virtio_net *dev;
};

/* Opens or creates the tap (multi-queue with queues > 1: one fd per
 * queue pair), makes it a port of the bridge (created if missing) and
 * brings it up, then the device; -errno, logged. */
int vm_net_create(const struct net_config *nc, unsigned index, struct vm_net **out);
/* The device and the tap fd go; a tap lq-vmm created goes with them
 * (bridges stay: other VMs may use them). */
void vm_net_destroy(struct vm_net *n);

#endif
