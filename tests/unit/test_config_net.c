/* --net: keys, MAC syntax, the stable default MAC, and the limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "vmm/config.h"

static void test_net_keys(void **state)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	struct net_config n;

	(void)state;
	assert_int_equal(config_parse_net("tap=lqt0,mac=52:54:00:ab:cd:ef", 0, &n), 0);
	assert_string_equal(n.tap, "lqt0");
	assert_null(n.bridge);
	assert_true(n.has_mac);
	assert_memory_equal(n.mac, mac, 6);
	assert_int_equal(config_parse_net("tap=lqt0,bridge=lqtbr0", 0, &n), 0);
	assert_string_equal(n.bridge, "lqtbr0");
	assert_false(n.has_mac);
	assert_int_equal(config_parse_net("bridge=lqtbr0", 0, &n), 0);
	assert_null(n.tap);
	assert_int_equal(config_parse_net("mac=52:54:00:ab:cd:ef", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("lqt0", 0, &n), -EINVAL);
	assert_int_equal(n.queues, 1);
	assert_int_equal(config_parse_net("tap=lqt0,queues=4", 0, &n), 0);
	assert_int_equal(n.queues, 4);
	assert_int_equal(config_parse_net("tap=lqt0,queues=0", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=lqt0,queues=8", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=lqt0,queues=2x", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=lqt0,queues=", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=lqt0,speed=10", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=a123456789abcdef", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=a123456789abcde", 0, &n), 0);
}

static void test_net_mac_syntax(void **state)
{
	struct net_config n;

	(void)state;
	assert_int_equal(config_parse_net("tap=t,mac=52:54:00:ab:cd", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=t,mac=52:54:00:ab:cd:ef:01", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=t,mac=52:54:00:ab:cd:eg", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=t,mac=52-54-00-ab-cd-ef", 0, &n), -EINVAL);
	/* A multicast address cannot be a card's own. */
	assert_int_equal(config_parse_net("tap=t,mac=01:00:5e:00:00:01", 0, &n), -EINVAL);
	assert_int_equal(config_parse_net("tap=t,mac=02:00:00:00:00:01", 0, &n), 0);
}

static void test_net_default_mac(void **state)
{
	struct net_config a, b, c, d;

	(void)state;
	assert_int_equal(config_parse_net("tap=lqt0", 0, &a), 0);
	assert_int_equal(config_parse_net("tap=lqt0", 0, &b), 0);
	assert_int_equal(config_parse_net("tap=lqt1", 0, &c), 0);
	assert_int_equal(config_parse_net("tap=lqt0", 1, &d), 0);
	/* Stable across runs, different per tap and per card, unicast. */
	assert_memory_equal(a.mac, b.mac, 6);
	assert_memory_not_equal(a.mac, c.mac, 6);
	assert_memory_not_equal(a.mac, d.mac, 6);
	assert_int_equal(a.mac[0], 0x52);
	assert_int_equal(a.mac[1], 0x54);
	assert_int_equal(a.mac[2], 0x00);
}

static void test_net_flags(void **state)
{
	struct vm_config c;
	char *two[] = { "lq-vmm", "--kernel", "k", "--net", "tap=lqt0", "--net",
			"tap=lqt1,bridge=lqtbr0", NULL };
	char *many[2 + 2 * (VM_MAX_NETS + 1) + 1] = { "lq-vmm", "--kernel", "k" };
	int argc = 3;

	(void)state;
	assert_int_equal(config_parse(&c, 7, two), 0);
	assert_int_equal(c.nr_nets, 2);
	assert_string_equal(c.nets[1].tap, "lqt1");
	assert_string_equal(c.nets[1].bridge, "lqtbr0");
	for (unsigned i = 0; i <= VM_MAX_NETS; i++) {
		many[argc++] = "--net";
		many[argc++] = "tap=lqt";
	}
	assert_int_equal(config_parse(&c, argc, many), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_keys),
		cmocka_unit_test(test_net_mac_syntax),
		cmocka_unit_test(test_net_default_mac),
		cmocka_unit_test(test_net_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
