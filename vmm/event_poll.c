/* Adaptive polling for the event loop: see event_loop.h. */
#include "vmm/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "vmm/event_poll_internal.h"

#define EVL_POLL_MIN_NS 4096 /* the first step when growing from 0 */

struct evl_poller {
	evl_poll_fn fn;
	void (*start)(void *opaque);
	bool (*stop)(void *opaque);
	void *opaque;
	bool dead;
	struct evl_poller *next;
};

static uint64_t evl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int evl_add_poller(struct evl *l, evl_poll_fn fn, void *opaque)
{
	struct evl_poller *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->fn = fn;
	p->opaque = opaque;
	p->next = l->pollers;
	l->pollers = p;
	return 0;
}

void evl_set_poll_mode(struct evl *l, void *opaque, void (*start)(void *opaque),
		       bool (*stop)(void *opaque))
{
	for (struct evl_poller *p = l->pollers; p; p = p->next) {
		if (p->opaque == opaque && !p->dead) {
			p->start = start;
			p->stop = stop;
		}
	}
}

void evl_del_poller(struct evl *l, void *opaque)
{
	/* Marked, not freed: evl_poll may be walking the list (a poller's
	 * work can remove a device). */
	for (struct evl_poller *p = l->pollers; p; p = p->next)
		if (p->opaque == opaque)
			p->dead = true;
}

void evl_poll_free(struct evl *l)
{
	while (l->pollers) {
		struct evl_poller *p = l->pollers;

		l->pollers = p->next;
		free(p);
	}
}

/* How long the loop slept since the last spin gave up decides the next
 * budget. What we measure is the event's delay plus the wake-up's own
 * latency, and the wake-up alone can take longer than poll_max_ns (an
 * IPI to an idle CPU through another hypervisor): comparing with
 * poll_max_ns itself would then never start polling where it helps
 * most. So a sleep up to EVL_POLL_GROW_FACTOR times the ceiling still
 * grows the budget; longer ones (an idle device) shrink it. */
#define EVL_POLL_GROW_FACTOR 8
static void evl_poll_adapt(struct evl *l, uint64_t now)
{
	uint64_t slept;

	if (!l->blocked_at)
		return;
	slept = now - l->blocked_at;
	l->blocked_at = 0;
	if (slept <= EVL_POLL_GROW_FACTOR * l->poll_max_ns) {
		l->poll_ns = l->poll_ns ? l->poll_ns * 2 : EVL_POLL_MIN_NS;
		if (l->poll_ns > l->poll_max_ns)
			l->poll_ns = l->poll_max_ns;
	} else {
		l->poll_ns /= 2;
		if (l->poll_ns < EVL_POLL_MIN_NS)
			l->poll_ns = 0;
	}
}

static bool evl_poll_round(struct evl *l)
{
	bool did = false;

	for (struct evl_poller *p = l->pollers; p; p = p->next)
		if (!p->dead && p->fn(p->opaque))
			did = true;
	return did;
}

/* Tells the pollers that spinning starts or ends; true if one found
 * work when it ended. */
static bool evl_poll_mode(struct evl *l, bool on)
{
	bool did = false;

	for (struct evl_poller *p = l->pollers; p; p = p->next) {
		if (p->dead)
			continue;
		if (on && p->start)
			p->start(p->opaque);
		else if (!on && p->stop && p->stop(p->opaque))
			did = true;
	}
	l->polling = on;
	return did;
}

bool evl_poll(struct evl *l)
{
	uint64_t start = evl_now_ns(), now = start;

	evl_poll_adapt(l, start);
	if (!l->pollers || !l->poll_max_ns)
		return false;
	if (l->poll_ns && !l->polling)
		evl_poll_mode(l, true);
	do {
		if (evl_poll_round(l))
			return true;
		__builtin_ia32_pause();
		now = evl_now_ns();
	} while (now - start < l->poll_ns);
	/* Kicks back on before sleeping; what slipped in before that is
	 * handled now, or it would wait for a kick that never comes. */
	if (l->polling && evl_poll_mode(l, false))
		return true;
	l->blocked_at = now;
	return false;
}
