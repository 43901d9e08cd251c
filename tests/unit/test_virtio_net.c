/* virtio-net without a VM: transmit header checks, the tap offloads the
 * features allow, the MAC filter, and receive buffer handling (mergeable
 * and not) against rings written by hand in guest memory (a memfd), as a
 * driver writes them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <cmocka.h>

#include "virtio/net.h"
#include "vmm/guest_mem.h"
#include "tests/unit/vq_test_mem.h"

#define QSZ 16
#define RAM (16ULL << 20)
#define DESC 0x10000ULL
#define AVAIL 0x11000ULL
#define USED 0x12000ULL
#define BUF 0x20000ULL
#define W VIRTQ_DESC_F_WRITE
#define N VIRTQ_DESC_F_NEXT
#define F(bit) (1ULL << (bit))
#define BIG (VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME)

static struct guest_mem mem;
static struct virtq vq;
static struct virtio_net_rxq rxq;
static struct virtq_elem elem;

static void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct virtq_desc d = { addr, len, flags, next };

	vqt_wr(DESC + 16ULL * i, &d, sizeof(d));
}

static void post(uint16_t head)
{
	uint16_t idx = vqt_rd16(AVAIL + 2);

	vqt_wr(AVAIL + 4 + 2ULL * (idx % QSZ), &head, 2);
	idx++;
	vqt_wr(AVAIL + 2, &idx, 2);
}

static uint16_t used_idx(void)
{
	return vqt_rd16(USED + 2);
}

static void assert_used(uint16_t i, uint32_t id, uint32_t len)
{
	assert_int_equal(vqt_rd32(USED + 4 + 8ULL * (i % QSZ)), id);
	assert_int_equal(vqt_rd32(USED + 8 + 8ULL * (i % QSZ)), len);
}

/* Chain i: one writable buffer of len bytes at BUF + i * 4096. */
static void rx_chain(unsigned i, uint32_t len)
{
	desc(i, BUF + 4096ULL * i, len, W, 0);
	post((uint16_t)i);
}

/* Plays the tap: copies n bytes into the iovec that virtio_net_rxq_prepare built. */
static void tap_fill(size_t n, uint8_t seed)
{
	size_t done = 0;

	for (unsigned k = 0; k < rxq.n_iov && done < n; k++) {
		size_t len = rxq.iov[k].iov_len < n - done ? rxq.iov[k].iov_len : n - done;

		for (size_t j = 0; j < len; j++)
			((uint8_t *)rxq.iov[k].iov_base)[j] = (uint8_t)(seed + done + j);
		done += len;
	}
	assert_int_equal(done, n);
}

static int setup(void **state)
{
	vqt_use(&mem);
	(void)state;
	if (guest_mem_init(&mem, RAM))
		return -1;
	virtq_reset(&vq);
	virtq_set_label(&vq, "test-net", 0);
	if (virtq_enable(&vq, &mem, QSZ, DESC, AVAIL, USED, false, true))
		return -1;
	return virtio_net_rxq_init(&rxq, &vq, QSZ);
}

static int teardown(void **state)
{
	(void)state;
	virtio_net_rxq_free(&rxq);
	guest_mem_free(&mem);
	return 0;
}

/* ---- transmit headers ---- */

static int tx(uint8_t flags, uint8_t gso, uint16_t gso_size, uint16_t cs, uint16_t co,
	      size_t frame, uint64_t features)
{
	struct virtio_net_hdr h = { flags, gso, 0, gso_size, cs, co, 0 };
	const char *why = NULL;
	int r = virtio_net_tx_check(&h, frame, features, &why);

	assert_true(r == 0 ? why == NULL : why != NULL);
	return r;
}

static void test_tx_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct virtio_net_hdr), 12);
	assert_int_equal(tx(0, 0, 0, 0, 0, 60, 0), 0);
	assert_int_equal(tx(0, 0, 0, 0, 0, 14, 0), 0);
	assert_int_equal(tx(0, 0, 0, 0, 0, 13, 0), -EMSGSIZE);
	assert_int_equal(tx(0, 0, 0, 0, 0, 0, 0), -EMSGSIZE);
	assert_int_equal(tx(0, 0, 0, 0, 0, 65550, 0), 0);
	assert_int_equal(tx(0, 0, 0, 0, 0, 65551, 0), -EMSGSIZE);
	assert_int_equal(tx(0, 0, 0, 0, 0, (size_t)1 << 32, 0), -EMSGSIZE);
}

static void test_tx_csum(void **state)
{
	uint64_t f = F(VIRTIO_NET_F_CSUM);

	(void)state;
	/* NEEDS_CSUM only when negotiated, and inside the frame. */
	assert_int_equal(tx(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16, 100, 0), -EINVAL);
	assert_int_equal(tx(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16, 100, f), 0);
	assert_int_equal(tx(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16, 52, f), 0);
	assert_int_equal(tx(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16, 51, f), -EINVAL);
	assert_int_equal(tx(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0xffff, 0xffff, 65550, f), -EINVAL);
}

static void test_tx_gso(void **state)
{
	uint64_t csum = F(VIRTIO_NET_F_CSUM), tso4 = csum | F(VIRTIO_NET_F_HOST_TSO4);
	uint64_t all = tso4 | F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN);
	uint8_t nc = VIRTIO_NET_HDR_F_NEEDS_CSUM;

	(void)state;
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 65000, csum), -EPROTO);
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 65000, tso4), 0);
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 54, 16, 65000, tso4), -EPROTO);
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_TCPV6, 1448, 54, 16, 65000, all), 0);
	/* ECN only with HOST_ECN; UFO is not offered; unknown types. */
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16,
			    9000, tso4), -EPROTO);
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16,
			    9000, all), 0);
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_UDP, 1448, 34, 6, 9000, all), -EPROTO);
	for (unsigned t = 5; t < 0x80; t++)
		assert_int_equal(tx(nc, (uint8_t)t, 1448, 34, 16, 9000, all), -EPROTO);
	assert_int_equal(tx(nc, 2, 1448, 34, 16, 9000, all), -EPROTO);
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_ECN, 1448, 34, 16, 9000, all), -EPROTO);
	/* GSO needs a segment size and a partial checksum. */
	assert_int_equal(tx(nc, VIRTIO_NET_HDR_GSO_TCPV4, 0, 34, 16, 9000, all), -EPROTO);
	assert_int_equal(tx(0, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 9000, all), -EPROTO);
}

static void test_tun_offloads(void **state)
{
	uint64_t gc = F(VIRTIO_NET_F_GUEST_CSUM);

	(void)state;
	assert_int_equal(virtio_net_tun_offloads(0), 0);
	/* TSO without GUEST_CSUM is not allowed (5.1.3.1): nothing. */
	assert_int_equal(virtio_net_tun_offloads(F(VIRTIO_NET_F_GUEST_TSO4)), 0);
	/* Host-side (transmit) features do not change what we receive. */
	assert_int_equal(virtio_net_tun_offloads(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4)), 0);
	assert_int_equal(virtio_net_tun_offloads(gc), TUN_F_CSUM);
	assert_int_equal(virtio_net_tun_offloads(gc | F(VIRTIO_NET_F_GUEST_TSO4)),
			 TUN_F_CSUM | TUN_F_TSO4);
	assert_int_equal(virtio_net_tun_offloads(gc | F(VIRTIO_NET_F_GUEST_TSO6) |
						 F(VIRTIO_NET_F_GUEST_ECN)),
			 TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN);
	/* ECN alone means nothing without TSO. */
	assert_int_equal(virtio_net_tun_offloads(gc | F(VIRTIO_NET_F_GUEST_ECN)), TUN_F_CSUM);
	assert_int_equal(virtio_net_tun_offloads(gc | F(VIRTIO_NET_F_GUEST_UFO)),
			 TUN_F_CSUM | TUN_F_UFO);
}

/* ---- MAC filter ---- */

static void test_filter(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	static const uint8_t other[6] = { 0x52, 0x54, 0, 9, 9, 9 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	struct virtio_net_filter f;

	(void)state;
	virtio_net_filter_reset(&f);
	assert_true(f.promisc);
	assert_true(virtio_net_filter_accept(&f, mac, other));
	f.promisc = false;
	assert_true(virtio_net_filter_accept(&f, mac, mac));
	assert_true(virtio_net_filter_accept(&f, mac, bcast));
	assert_false(virtio_net_filter_accept(&f, mac, other));
	assert_false(virtio_net_filter_accept(&f, mac, mcast));
	memcpy(f.multi[0], mcast, 6);
	f.n_multi = 1;
	assert_true(virtio_net_filter_accept(&f, mac, mcast));
	f.n_multi = 0;
	f.allmulti = true;
	assert_true(virtio_net_filter_accept(&f, mac, mcast));
	assert_false(virtio_net_filter_accept(&f, mac, other));
	memcpy(f.uni[0], other, 6);
	f.n_uni = 1;
	assert_true(virtio_net_filter_accept(&f, mac, other));
	f.n_uni = 0;
	f.uni_overflow = true;
	assert_true(virtio_net_filter_accept(&f, mac, other));
}

/* ---- receive buffers ---- */

/* A 250-byte frame over 100-byte buffers: three chains, num_buffers 3
 * in the first, the last one partly used; the fourth waits. */
static void test_rx_mergeable(void **state)
{
	uint16_t nb;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		rx_chain(i, 100);
	assert_int_equal(virtio_net_rxq_fill(&rxq, &elem), 0);
	assert_int_equal(rxq.count, 4);
	assert_int_equal(rxq.bytes, 400);
	assert_int_equal(virtio_net_rxq_prepare(&rxq, true, BIG), 4);
	tap_fill(250, 7);
	assert_int_equal(virtio_net_rxq_commit(&rxq, 250), 3);
	assert_int_equal(used_idx(), 3);
	assert_used(0, 0, 100);
	assert_used(1, 1, 100);
	assert_used(2, 2, 50);
	nb = vqt_rd16(BUF + 10);
	assert_int_equal(nb, 3);
	assert_int_equal(rxq.count, 1);
	assert_int_equal(rxq.bytes, 100);
	/* Data landed in order across the buffers. */
	assert_int_equal(vqt_rd16(BUF + 4096 * 2 + 48), (uint16_t)((7 + 248) & 0xff) |
						     (uint16_t)(((7 + 249) & 0xff) << 8));

	/* The held chain takes the next frame, before new ones. */
	rx_chain(4, 100);
	assert_int_equal(virtio_net_rxq_fill(&rxq, &elem), 0);
	assert_int_equal(rxq.count, 2);
	assert_int_equal(virtio_net_rxq_prepare(&rxq, true, BIG), 2);
	tap_fill(60, 1);
	assert_int_equal(virtio_net_rxq_commit(&rxq, 60), 1);
	assert_used(3, 3, 60);
	assert_int_equal(vqt_rd16(BUF + 4096 * 3 + 10), 1);
	/* Exactly filling a buffer uses just that one. */
	assert_int_equal(virtio_net_rxq_prepare(&rxq, true, BIG), 1);
	tap_fill(100, 1);
	assert_int_equal(virtio_net_rxq_commit(&rxq, 100), 1);
	assert_used(4, 4, 100);
	assert_int_equal(rxq.count, 0);
	assert_int_equal(rxq.bytes, 0);
}

/* Everything available is taken, never more than the queue holds. */
static void test_rx_fill_limits(void **state)
{
	(void)state;
	for (unsigned i = 0; i < QSZ; i++) {
		desc(i, BUF + 4096ULL * (i % 8), 65536 / 4, W, 0);
		post((uint16_t)i);
	}
	assert_int_equal(virtio_net_rxq_fill(&rxq, &elem), 0);
	assert_int_equal(rxq.count, QSZ);
	assert_int_equal(rxq.bytes, QSZ * 16384ULL);
	/* Nothing more to take; a full hold takes no more either. */
	assert_int_equal(virtio_net_rxq_fill(&rxq, &elem), 0);
	assert_int_equal(rxq.count, QSZ);
	/* A readv gets just enough chains for the largest frame. */
	assert_int_equal(virtio_net_rxq_prepare(&rxq, true, BIG), 5); /* 4 x 16 KiB < 65562 */
	assert_int_equal(virtio_net_rxq_prepare(&rxq, true, 1530), 1);
	assert_int_equal(virtio_net_rxq_prepare(&rxq, true, 16385), 2);
	virtio_net_rxq_clear(&rxq);
	assert_int_equal(rxq.count, 0);
	assert_int_equal(virtio_net_rxq_prepare(&rxq, true, BIG), 0);
}

/* Without MRG_RXBUF: one chain per frame, num_buffers 1, and the
 * header may be split across the chain's descriptors. */
static void test_rx_single(void **state)
{
	(void)state;
	desc(0, BUF, 8, W | N, 1);
	desc(1, BUF + 0x800, 2000, W, 0);
	post(0);
	rx_chain(2, 1600);
	assert_int_equal(virtio_net_rxq_fill(&rxq, &elem), 0);
	assert_int_equal(rxq.count, 2);
	/* Only the oldest chain takes the frame. */
	assert_int_equal(virtio_net_rxq_prepare(&rxq, false, BIG), 2);
	assert_int_equal(rxq.iov_bytes, 2008);
	tap_fill(1000, 0);
	assert_int_equal(virtio_net_rxq_commit(&rxq, 1000), 1);
	assert_used(0, 0, 1000);
	/* num_buffers straddles the two buffers: bytes 10 and 11 are 2 and 3
	 * of the second. */
	assert_int_equal(vqt_rd16(BUF + 0x800 + 2), 1);
	assert_int_equal(virtio_net_rxq_fill(&rxq, &elem), 0);
	assert_int_equal(virtio_net_rxq_prepare(&rxq, false, BIG), 1);
	assert_int_equal(rxq.count, 1);
}

/* A receive chain with nothing writable goes back at once, empty; the
 * readable part of a mixed chain is ignored. */
static void test_rx_odd_chains(void **state)
{
	(void)state;
	desc(0, BUF, 100, 0, 0);
	post(0);
	desc(1, BUF + 4096, 50, N, 2);
	desc(2, BUF + 8192, 300, W, 0);
	post(1);
	assert_int_equal(virtio_net_rxq_fill(&rxq, &elem), 0);
	assert_int_equal(rxq.empty_chains, 1);
	assert_int_equal(used_idx(), 1);
	assert_used(0, 0, 0);
	assert_int_equal(rxq.count, 1);
	assert_int_equal(rxq.bytes, 300);
	assert_int_equal(virtio_net_rxq_prepare(&rxq, true, BIG), 1);
	assert_ptr_equal(rxq.iov[0].iov_base, guest_mem_ptr(&mem, BUF + 8192, 300));
}

/* A malformed ring stops filling with the queue's error. */
static void test_rx_malformed(void **state)
{
	(void)state;
	rx_chain(0, 100);
	post(QSZ + 3); /* head out of range */
	assert_int_equal(virtio_net_rxq_fill(&rxq, &elem), -EINVAL);
	assert_true(vq.broken);
	assert_int_equal(rxq.count, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_sizes),
		cmocka_unit_test(test_tx_csum),
		cmocka_unit_test(test_tx_gso),
		cmocka_unit_test(test_tun_offloads),
		cmocka_unit_test(test_filter),
		T(test_rx_mergeable),
		T(test_rx_fill_limits),
		T(test_rx_single),
		T(test_rx_odd_chains),
		T(test_rx_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
