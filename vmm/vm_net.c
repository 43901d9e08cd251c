#include "vmm/vm_net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "net/netlink.h"
#include "virtio/net.h"

static int vm_net_bridge(const char *tap, const char *bridge)
{
	char kind[16];
	int err = 0;

	if (netlink_link_kind(bridge, kind, sizeof(kind)) == 0 && strcmp(kind, "bridge")) {
		log_error("--net: %s exists and is %s%s, not a bridge: name another bridge=",
			  bridge, *kind ? "a " : "a device without a kind", kind);
		return -EINVAL;
	}
	if (!netlink_link_exists(bridge)) {
		err = netlink_bridge_create(bridge);
		if (err == -EEXIST) /* another VM was quicker */
			err = 0;
		if (!err)
			log_info("created bridge %s", bridge);
		if (!err)
			err = netlink_link_set_up(bridge, true);
	}
	if (!err)
		err = netlink_link_set_master(tap, bridge);
	if (err)
		log_error("--net: cannot make tap %s a port of bridge %s", tap, bridge);
	return err;
}

int vm_net_create(const struct net_config *nc, unsigned index, struct vm_net **out)
{
	struct vm_net *n = calloc(1, sizeof(*n));
	int err;

	if (!n)
		return -ENOMEM;
	/* n->queues counts the fds open, for vm_net_destroy. */
	err = tap_open(nc->tap ? nc->tap : "", nc->queues > 1, &n->tap);
	n->fds[0] = n->tap.fd;
	n->queues = 1;
	while (!err && n->queues < nc->queues) {
		int fd = tap_open_queue(&n->tap);

		if (fd < 0)
			err = fd;
		else
			n->fds[n->queues++] = fd;
	}
	if (!err && nc->bridge)
		err = vm_net_bridge(n->tap.name, nc->bridge);
	/* Frames move only on an up link; ours to bring up either way. */
	if (!err)
		err = netlink_link_set_up(n->tap.name, true);
	if (!err)
		err = virtio_net_create(n->fds, n->queues, nc->mac, index, &n->dev);
	if (err) {
		vm_net_destroy(n);
		return err;
	}
	log_info("virtio-net%u: tap %s%s%s, %u queue pair%s, mac %02x:%02x:%02x:%02x:%02x:%02x",
		 index, n->tap.name, nc->bridge ? " on bridge " : "", nc->bridge ? nc->bridge : "",
		 n->queues, n->queues > 1 ? "s" : "", nc->mac[0], nc->mac[1], nc->mac[2], nc->mac[3],
		 nc->mac[4], nc->mac[5]);
	*out = n;
	return 0;
}

void vm_net_destroy(struct vm_net *n)
{
	if (!n)
		return;
	virtio_net_destroy(n->dev);
	for (unsigned i = 1; i < n->queues; i++)
		close(n->fds[i]);
	tap_close(&n->tap);
	free(n);
}
