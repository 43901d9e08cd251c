#include "virtio/net_hdr.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdbool.h>

static bool has(uint64_t features, unsigned bit)
{
	return features & (1ULL << bit);
}

static int virtio_net_gso_check(const struct virtio_net_hdr *h, uint64_t f, const char **why)
{
	uint8_t type = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	bool ok;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 0;
	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4: ok = has(f, VIRTIO_NET_F_HOST_TSO4); break;
	case VIRTIO_NET_HDR_GSO_TCPV6: ok = has(f, VIRTIO_NET_F_HOST_TSO6); break;
	case VIRTIO_NET_HDR_GSO_UDP: ok = has(f, VIRTIO_NET_F_HOST_UFO); break;
	default: ok = false; break;
	}
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(f, VIRTIO_NET_F_HOST_ECN))
		ok = false;
	if (!ok) {
		*why = "GSO type unknown or not negotiated";
		return -EPROTO;
	}
	/* A segmented send needs a segment size and a partial checksum
	 * for the segments (5.1.6.2.1). */
	if (!h->gso_size || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		*why = "GSO without gso_size or NEEDS_CSUM";
		return -EPROTO;
	}
	return 0;
}

int virtio_net_tx_check(const struct virtio_net_hdr *h, size_t frame_len, uint64_t features,
			const char **why)
{
	*why = NULL;
	if (frame_len < VIRTIO_NET_ETH_HLEN || frame_len > VIRTIO_NET_MAX_FRAME) {
		*why = frame_len < VIRTIO_NET_ETH_HLEN ? "frame shorter than an Ethernet header" :
							 "frame larger than 65550 bytes";
		return -EMSGSIZE;
	}
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!has(features, VIRTIO_NET_F_CSUM)) {
			*why = "NEEDS_CSUM without the CSUM feature";
			return -EINVAL;
		}
		if ((size_t)h->csum_start + h->csum_offset + 2 > frame_len) {
			*why = "checksum field past the end of the frame";
			return -EINVAL;
		}
	}
	return virtio_net_gso_check(h, features, why);
}

unsigned virtio_net_tun_offloads(uint64_t f)
{
	unsigned t = 0;

	if (!has(f, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	t |= TUN_F_CSUM;
	if (has(f, VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (has(f, VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	if (has(f, VIRTIO_NET_F_GUEST_ECN) && (t & (TUN_F_TSO4 | TUN_F_TSO6)))
		t |= TUN_F_TSO_ECN;
	if (has(f, VIRTIO_NET_F_GUEST_UFO))
		t |= TUN_F_UFO;
	return t;
}
