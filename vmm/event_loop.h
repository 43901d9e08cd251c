/* vmm/event_loop: the device event loop (epoll). Device back ends
 * register file descriptors (ioeventfds for queue kicks, io_uring
 * completion eventfds, taps, sockets) with a callback; the main thread
 * runs the loop, so device work never happens on a vCPU thread. The
 * epoll fd itself is pollable, which lets the main thread wait on it
 * together with its console and signal fds. */
#ifndef LQ_VMM_EVENT_LOOP_H
#define LQ_VMM_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*evl_fn)(void *opaque, uint32_t events);
/* A poller looks for work without a system call (a virtqueue's avail
 * index, an io_uring completion ring), does it, and says whether it did. */
typedef bool (*evl_poll_fn)(void *opaque);

struct evl_handler;
struct evl_poller;

struct evl {
	int epfd;
	struct evl_handler *handlers; /* all of them, freed by evl_free */
	struct evl_poller *pollers;
	uint64_t poll_ns;             /* current spin budget, adapted */
	uint64_t poll_max_ns;         /* 0: never spin */
	uint64_t blocked_at;          /* when the last spin gave up */
	bool polling;                 /* pollers were told polling started */
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

/* Adaptive polling (vmm/event_poll.c). Waking a sleeping thread costs
 * far more than a 4 KiB read from the page cache, most of all on a
 * nested host where the wake-up is an IPI through another hypervisor,
 * so before the main thread sleeps it spins over the pollers for a
 * budget that grows while events keep arriving sooner than
 * poll_max_ns after it went to sleep, and shrinks to nothing when
 * they don't (an idle VM does not spin). */
#define EVL_POLL_MAX_NS_DEFAULT 32768
int evl_add_poller(struct evl *l, evl_poll_fn fn, void *opaque);
/* Optional, for the poller registered with opaque: start() when the loop
 * begins to spin (a device can tell its driver not to kick), stop() when
 * it gives up before sleeping (kicks back on); stop returns true if work
 * came in meanwhile, and then the loop does not sleep. */
void evl_set_poll_mode(struct evl *l, void *opaque, void (*start)(void *opaque),
		       bool (*stop)(void *opaque));
void evl_del_poller(struct evl *l, void *opaque);
/* True when a poller did work: look again before sleeping. */
bool evl_poll(struct evl *l);

#endif
