/* net/tap and net/netlink against the real kernel: taps with a vnet
 * header, a bridge, a tap made a bridge port, a veth pair, all deleted
 * again. Needs CAP_NET_ADMIN (skipped without); names start with lqtu. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/netlink.h"
#include "net/tap.h"

#define BR "lqtu-br0"
#define TAP "lqtu-tap0"
#define VETH "lqtu-va"
#define PEER "lqtu-vb"

static int need_admin(void **state)
{
	struct tap t;

	(void)state;
	/* Probe: a tap needs CAP_NET_ADMIN, as everything below does. */
	if (tap_open("lqtu-probe", false, &t) < 0)
		return -1;
	tap_close(&t);
	return 0;
}

/* The bridge port's master, read back through sysfs (not our code). */
static int master_of(const char *port, char *out, size_t size)
{
	char path[128], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/master", port);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	snprintf(out, size, "%s", strrchr(target, '/') + 1);
	return 0;
}

static void test_tap_vnet_hdr(void **state)
{
	struct tap t;
	int sz = 0;
	unsigned flags = 0;

	(void)state;
	assert_int_equal(tap_open(TAP, false, &t), 0);
	assert_true(t.created);
	assert_string_equal(t.name, TAP);
	assert_true(netlink_link_exists(TAP));
	assert_int_equal(ioctl(t.fd, TUNGETVNETHDRSZ, &sz), 0);
	assert_int_equal(sz, TAP_VNET_HDR_LEN);
	assert_int_equal(ioctl(t.fd, TUNGETIFF, &(struct ifreq){ 0 }), 0);
	assert_int_equal(tap_set_offload(t.fd, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), 0);
	/* TSO without checksum offload is refused by the kernel. */
	assert_int_not_equal(tap_set_offload(t.fd, TUN_F_TSO4), 0);
	/* Non-blocking: nothing to read is EAGAIN, not a hang. */
	assert_int_equal(read(t.fd, &flags, sizeof(flags)), -1);
	assert_int_equal(errno, EAGAIN);
	tap_close(&t);
	/* Not persistent: gone with its fd. */
	assert_false(netlink_link_exists(TAP));
}

static void test_tap_kernel_name(void **state)
{
	struct tap t;

	(void)state;
	assert_int_equal(tap_open("", false, &t), 0);
	assert_true(t.name[0] != '\0');
	assert_true(netlink_link_exists(t.name));
	tap_close(&t);
}

static void test_tap_name_too_long(void **state)
{
	struct tap t;

	(void)state;
	assert_int_equal(tap_open("lqtu-0123456789abcdef", false, &t), -ENAMETOOLONG);
	assert_int_equal(t.fd, -1);
}

static void test_tap_multi_queue(void **state)
{
	struct tap t;
	int q2;

	(void)state;
	assert_int_equal(tap_open(TAP, true, &t), 0);
	q2 = tap_open_queue(&t);
	assert_true(q2 >= 0);
	close(q2);
	tap_close(&t);
}

static void test_bridge_port(void **state)
{
	struct tap t;
	char m[IFNAMSIZ], kind[16];

	(void)state;
	assert_int_equal(netlink_bridge_create(BR), 0);
	assert_int_equal(netlink_bridge_create(BR), -EEXIST);
	assert_int_equal(netlink_link_kind(BR, kind, sizeof(kind)), 0);
	assert_string_equal(kind, "bridge");
	assert_int_equal(netlink_link_set_up(BR, true), 0);
	assert_int_equal(tap_open(TAP, false, &t), 0);
	assert_int_equal(netlink_link_kind(TAP, kind, sizeof(kind)), 0);
	assert_string_equal(kind, "tun");
	assert_int_equal(netlink_link_set_master(TAP, BR), 0);
	assert_int_equal(netlink_link_set_up(TAP, true), 0);
	assert_int_equal(master_of(TAP, m, sizeof(m)), 0);
	assert_string_equal(m, BR);
	assert_int_equal(netlink_link_set_master(TAP, NULL), 0);
	assert_int_equal(master_of(TAP, m, sizeof(m)), -ENOENT);
	assert_int_equal(netlink_link_set_master(TAP, "lqtu-nobr"), -ENODEV);
	tap_close(&t);
	assert_int_equal(netlink_link_delete(BR), 0);
	assert_false(netlink_link_exists(BR));
	assert_int_equal(netlink_link_delete(BR), -ENODEV);
	assert_int_equal(netlink_link_set_up(BR, true), -ENODEV);
}

static void test_veth(void **state)
{
	char kind[16];

	(void)state;
	assert_int_equal(netlink_veth_create(VETH, PEER), 0);
	assert_true(netlink_link_exists(VETH));
	assert_true(netlink_link_exists(PEER));
	assert_int_equal(netlink_link_kind(PEER, kind, sizeof(kind)), 0);
	assert_string_equal(kind, "veth");
	assert_int_equal(netlink_link_set_up(VETH, true), 0);
	/* Deleting one end takes the pair. */
	assert_int_equal(netlink_link_delete(VETH), 0);
	assert_false(netlink_link_exists(PEER));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_vnet_hdr),
		cmocka_unit_test(test_tap_kernel_name),
		cmocka_unit_test(test_tap_name_too_long),
		cmocka_unit_test(test_tap_multi_queue),
		cmocka_unit_test(test_bridge_port),
		cmocka_unit_test(test_veth),
	};

	if (need_admin(NULL)) {
		printf("SKIP: needs CAP_NET_ADMIN for taps and links\n");
		return 77;
	}
	/* Leftovers of an interrupted run. */
	netlink_link_delete(BR);
	netlink_link_delete(VETH);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
