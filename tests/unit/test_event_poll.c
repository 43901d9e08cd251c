/* The event loop's adaptive polling: pollers run, the spin budget grows
 * while events come soon after the loop went to sleep, shrinks to
 * nothing when they don't, and removed pollers are never called. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/event_loop.h"

struct counter {
	unsigned calls;
	unsigned work_on; /* return true on this call (1-based), 0: never */
};

static bool count_poll(void *opaque)
{
	struct counter *c = opaque;

	return ++c->calls == c->work_on;
}

static void test_work_found(void **state)
{
	struct evl l;
	struct counter c = { 0, 3 };
	bool found = false;

	(void)state;
	assert_int_equal(evl_init(&l), 0);
	assert_false(evl_poll(&l)); /* no pollers: nothing to spin for */
	assert_int_equal(evl_add_poller(&l, count_poll, &c), 0);
	assert_false(evl_poll(&l)); /* budget 0: one look, then sleep */
	assert_int_equal(c.calls, 1);
	/* Woken straight away, again and again: the budget grows until a
	 * spin reaches the third look, which finds work. */
	for (int i = 0; i < 20 && !found; i++)
		found = evl_poll(&l);
	assert_true(found);
	assert_int_equal(c.calls, 3);
	evl_free(&l);
}

static void test_budget_adapts(void **state)
{
	struct evl l;
	struct counter c = { 0, 0 };
	uint64_t prev = 0;

	(void)state;
	assert_int_equal(evl_init(&l), 0);
	assert_int_equal(evl_add_poller(&l, count_poll, &c), 0);
	/* Back-to-back wake-ups (each far below poll_max_ns): doubles up to
	 * the ceiling, never past it. */
	for (int i = 0; i < 12; i++) {
		assert_false(evl_poll(&l));
		assert_true(l.poll_ns >= prev);
		assert_true(l.poll_ns <= l.poll_max_ns);
		prev = l.poll_ns;
	}
	assert_int_equal(l.poll_ns, l.poll_max_ns);
	/* Long sleeps: halves, then drops to zero. */
	for (int i = 0; i < 8; i++) {
		l.blocked_at -= 1000000000ULL; /* as if asleep for a second */
		assert_false(evl_poll(&l));
	}
	assert_int_equal(l.poll_ns, 0);
	evl_free(&l);
}

static void test_disabled_and_removed(void **state)
{
	struct evl l;
	struct counter a = { 0, 1 }, b = { 0, 1 };

	(void)state;
	assert_int_equal(evl_init(&l), 0);
	assert_int_equal(evl_add_poller(&l, count_poll, &a), 0);
	assert_int_equal(evl_add_poller(&l, count_poll, &b), 0);
	evl_del_poller(&l, &a);
	assert_true(evl_poll(&l));
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	l.poll_max_ns = 0; /* polling off: pollers are not even looked at */
	assert_false(evl_poll(&l));
	assert_int_equal(b.calls, 1);
	evl_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_work_found),
		cmocka_unit_test(test_budget_adapts),
		cmocka_unit_test(test_disabled_and_removed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
