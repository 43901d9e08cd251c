/* lqd's event stream (GET /v1/events): a ring of the last state changes
 * with increasing sequence numbers, served as a long poll. A client
 * passes the last seq it saw (since=N) and gets every newer event, or
 * waits (up to timeout_s) for the next one; it knows it missed some when
 * "dropped" is non-zero (the ring wrapped). In memory only: after an lqd
 * restart sequence numbers start again at 1 (the reply's "boot_id" says
 * so). */
#include "control/lqd_http.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define LQD_EVENTS_RING 1024
#define LQD_EVENTS_WAIT_DEFAULT_S 30
#define LQD_EVENTS_WAIT_MAX_S 300

struct lqd_event_rec {
	unsigned long long seq;
	double time;
	char vm[LQD_NAME_MAX + 1];
	char type[24];
	char detail[64];
};

struct lqd_events {
	struct lqd_event_rec ring[LQD_EVENTS_RING];
	unsigned long long last; /* seq of the newest event, 0: none yet */
	double boot_id;          /* lqd's start time: tells a restart apart */
	struct lqd_req *waiters;
};

int lqd_events_init(struct lqd *d)
{
	d->events = calloc(1, sizeof(*d->events));
	if (!d->events)
		return -ENOMEM;
	d->events->boot_id = lqd_now();
	return 0;
}

void lqd_events_free(struct lqd *d)
{
	free(d->events);
	d->events = NULL;
}

static cJSON *lqd_events_since(struct lqd_events *ev, unsigned long long since)
{
	unsigned long long first = ev->last > LQD_EVENTS_RING ? ev->last - LQD_EVENTS_RING + 1 : 1;
	cJSON *o = cJSON_CreateObject(), *arr;

	if (!o)
		return NULL;
	if (since > ev->last)
		since = ev->last; /* from an earlier lqd: start from now */
	arr = cJSON_AddArrayToObject(o, "events");
	for (unsigned long long s = since + 1 > first ? since + 1 : first; arr && s <= ev->last; s++) {
		const struct lqd_event_rec *e = &ev->ring[s % LQD_EVENTS_RING];
		cJSON *j = cJSON_CreateObject();

		if (!j)
			break;
		cJSON_AddNumberToObject(j, "seq", (double)e->seq);
		cJSON_AddNumberToObject(j, "time", e->time);
		cJSON_AddStringToObject(j, "vm", e->vm);
		cJSON_AddStringToObject(j, "type", e->type);
		cJSON_AddStringToObject(j, "detail", e->detail);
		cJSON_AddItemToArray(arr, j);
	}
	cJSON_AddNumberToObject(o, "next", (double)ev->last);
	cJSON_AddNumberToObject(o, "dropped", since + 1 < first ? (double)(first - since - 1) : 0);
	cJSON_AddNumberToObject(o, "boot_id", ev->boot_id);
	return o;
}

static void lqd_events_unlink(struct lqd_events *ev, struct lqd_req *r)
{
	for (struct lqd_req **p = &ev->waiters; *p; p = &(*p)->wnext) {
		if (*p == r) {
			*p = r->wnext;
			return;
		}
	}
}

void lqd_event(struct lqd *d, const char *vm, const char *type, const char *detail)
{
	struct lqd_events *ev = d->events;
	struct lqd_event_rec *e;
	struct lqd_req *w;

	if (!ev)
		return;
	e = &ev->ring[++ev->last % LQD_EVENTS_RING];
	e->seq = ev->last;
	e->time = lqd_now();
	snprintf(e->vm, sizeof(e->vm), "%s", vm);
	snprintf(e->type, sizeof(e->type), "%s", type);
	snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
	log_debug("event %llu: %s %s (%s)", e->seq, vm, type, e->detail);
	while ((w = ev->waiters)) {
		ev->waiters = w->wnext;
		lqd_timer_cancel(d, &w->timer);
		lqd_reply_json(w, 200, lqd_events_since(ev, w->warg));
		lqd_req_finish(w);
	}
}

static void lqd_events_timeout(struct lqd *d, void *ctx, uint32_t events)
{
	struct lqd_req *r = ctx;

	(void)events;
	lqd_timer_cancel(d, &r->timer);
	lqd_events_unlink(d->events, r);
	lqd_reply_json(r, 200, lqd_events_since(d->events, r->warg));
	lqd_req_finish(r);
}

static int lqd_events_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s)
		return 0;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || end == s || *end || *s == '-' || *out > max) ? -EINVAL : 0;
}

void lqd_api_events(struct lqd *d, struct lqd_req *r)
{
	struct lqd_events *ev = d->events;
	unsigned long long since = ev->last, wait = LQD_EVENTS_WAIT_DEFAULT_S;

	if (lqd_events_num(lqd_req_arg(r, "since"), ~0ull, &since) ||
	    lqd_events_num(lqd_req_arg(r, "timeout_s"), LQD_EVENTS_WAIT_MAX_S, &wait)) {
		lqd_reply_error(r, 400, "since: a sequence number; timeout_s: 0 to %d seconds",
				LQD_EVENTS_WAIT_MAX_S);
		return;
	}
	r->warg = since;
	if (since < ev->last || !wait) {
		lqd_reply_json(r, 200, lqd_events_since(ev, since));
		return;
	}
	if (lqd_timer_arm(d, &r->timer, wait * 1000, lqd_events_timeout, r)) {
		lqd_reply_error(r, 500, "cannot arm a timer for the long poll");
		return;
	}
	r->wnext = ev->waiters;
	ev->waiters = r;
	lqd_req_suspend(r);
}

void lqd_events_flush(struct lqd *d)
{
	struct lqd_req *w;

	while (d->events && (w = d->events->waiters)) {
		d->events->waiters = w->wnext;
		lqd_timer_cancel(d, &w->timer);
		lqd_reply_json(w, 200, lqd_events_since(d->events, w->warg));
		lqd_req_finish(w);
	}
}
