/* virtio/net_hdr: the virtio-net header (virtio 1.2, 5.1.6) and what may
 * go in it: which transmit headers a guest may send given the features
 * it negotiated, and which tap offloads (TUN_F_*) those features allow on
 * the receive side. Pure functions, so they are tested on their own. */
#ifndef LQ_VIRTIO_NET_HDR_H
#define LQ_VIRTIO_NET_HDR_H

#include <stddef.h>
#include <stdint.h>

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

#define VIRTIO_NET_ETH_HLEN 14
/* Largest frame either way: a 64 KiB GSO packet with its Ethernet and
 * VLAN headers (what QEMU and Linux's tap accept as well). */
#define VIRTIO_NET_MAX_FRAME 65550

/* struct virtio_net_hdr_v1: always 12 bytes with VERSION_1. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

#define VIRTIO_NET_HDR_LEN ((unsigned)sizeof(struct virtio_net_hdr))

/* Whether a transmit header and a frame of frame_len bytes (after the
 * header) may go to the tap: 0, or -EMSGSIZE (runt or oversized frame),
 * -EPROTO (a GSO type not negotiated or unknown, or GSO without a
 * segment size or checksum offload), -EINVAL (checksum offload not
 * negotiated or pointing past the frame). *why says which, for a log. */
int virtio_net_tx_check(const struct virtio_net_hdr *h, size_t frame_len, uint64_t features,
			const char **why);
/* TUN_F_* for TUNSETOFFLOAD from the negotiated features: only what the
 * driver can take in received frames (GUEST_*), and only combinations
 * the spec allows (TSO needs GUEST_CSUM). */
unsigned virtio_net_tun_offloads(uint64_t features);

#endif
