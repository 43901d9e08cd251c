#include "vmm/event_loop.h"

#include "vmm/event_poll_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVL_BATCH 64

struct evl_handler {
	int fd;
	bool dead;
	evl_fn fn;
	void *opaque;
	struct evl_handler *next;
};

int evl_init(struct evl *l)
{
	l->handlers = NULL;
	l->pollers = NULL;
	l->poll_ns = 0;
	l->poll_max_ns = EVL_POLL_MAX_NS_DEFAULT;
	l->blocked_at = 0;
	l->polling = false;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void evl_free(struct evl *l)
{
	while (l->handlers) {
		struct evl_handler *h = l->handlers;

		l->handlers = h->next;
		free(h);
	}
	evl_poll_free(l);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int evl_add(struct evl *l, int fd, uint32_t events, evl_fn fn, void *opaque)
{
	struct evl_handler *h;
	struct epoll_event ev = { .events = events };
	bool reuse = false;

	/* An fd that comes and goes (a console's input) reuses its old
	 * entry; a stale event for it at worst calls fn once for nothing. */
	for (h = l->handlers; h && !(h->dead && h->fd == fd); h = h->next)
		;
	if (h)
		reuse = true;
	else if (!(h = calloc(1, sizeof(*h))))
		return -ENOMEM;
	ev.data.ptr = h;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;

		if (!reuse)
			free(h);
		return err;
	}
	h->fd = fd;
	h->fn = fn;
	h->opaque = opaque;
	h->dead = false;
	if (!reuse) {
		h->next = l->handlers;
		l->handlers = h;
	}
	return 0;
}

int evl_del(struct evl *l, int fd)
{
	for (struct evl_handler *h = l->handlers; h; h = h->next) {
		if (h->fd != fd || h->dead)
			continue;
		/* Kept (dead) until evl_free: an event for it may already
		 * sit in the batch being dispatched. */
		h->dead = true;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	return -ENOENT;
}

int evl_run_once(struct evl *l, int timeout_ms)
{
	struct epoll_event ev[EVL_BATCH];
	int n = epoll_wait(l->epfd, ev, EVL_BATCH, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct evl_handler *h = ev[i].data.ptr;

		if (!h->dead)
			h->fn(h->opaque, ev[i].events);
	}
	return n;
}
