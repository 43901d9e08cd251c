/* vmm/event_loop: the device event loop (epoll). Device back ends
 * register file descriptors (ioeventfds for queue kicks, io_uring
 * completion eventfds, taps, sockets) with a callback; the main thread
 * runs the loop, so device work never happens on a vCPU thread. The
 * epoll fd itself is pollable, which lets the main thread wait on it
 * together with its console and signal fds. */
#ifndef LQ_VMM_EVENT_LOOP_H
#define LQ_VMM_EVENT_LOOP_H

#include <stdint.h>

typedef void (*evl_fn)(void *opaque, uint32_t events);

struct evl_handler;

struct evl {
	int epfd;
	struct evl_handler *handlers; /* all of them, freed by evl_free */
};

int evl_init(struct evl *l);
void evl_free(struct evl *l);
/* events: EPOLLIN etc. One registration per fd. */
int evl_add(struct evl *l, int fd, uint32_t events, evl_fn fn, void *opaque);
/* Stops callbacks for fd; safe from inside a callback. */
int evl_del(struct evl *l, int fd);
/* Runs the callbacks of whatever is ready, waiting up to timeout_ms
 * (-1 forever, 0 not at all). Returns how many ran, or -errno. */
int evl_run_once(struct evl *l, int timeout_ms);

#endif
