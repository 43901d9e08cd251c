/* net/tap: tap devices from /dev/net/tun for a VM's network card.
 *
 * Every tap here carries a 12-byte virtio_net_hdr_v1 in front of each
 * frame (IFF_VNET_HDR + TUNSETVNETHDRSZ), so virtio-net chains go to and
 * come from the kernel without reformatting, and is non-blocking: the
 * device's event loop reads until EAGAIN. A tap lq-vmm creates is not
 * persistent: it disappears when its last fd closes. */
#ifndef LQ_NET_TAP_H
#define LQ_NET_TAP_H

#include <net/if.h>
#include <stdbool.h>

#define TAP_VNET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */

struct tap {
	int fd;
	char name[IFNAMSIZ];
	bool created;           /* it did not exist before tap_open */
};

/* Opens (creating if needed) the tap `name`; "" lets the kernel choose
 * (tapN). multi_queue: IFF_MULTI_QUEUE, so more queues can be attached
 * with tap_open_queue. -errno (logged) on failure, with t->fd = -1. */
int tap_open(const char *name, bool multi_queue, struct tap *t);
/* Another queue of a multi-queue tap; returns the fd or -errno. */
int tap_open_queue(const struct tap *t);
/* Multi-queue taps: whether the kernel steers frames to this queue
 * (TUNSETQUEUE attach/detach); a detached fd can neither read nor write. */
int tap_queue_enable(int fd, bool on);
/* TUNSETOFFLOAD: which offloads (TUN_F_* bits) frames the kernel hands
 * us may carry. 0: everything arrives segmented and checksummed. */
int tap_set_offload(int fd, unsigned tun_flags);
/* The MTU of the tap behind fd (TUNGETIFF + SIOCGIFMTU), or -errno. */
int tap_get_mtu(int fd);
void tap_close(struct tap *t);

#endif
