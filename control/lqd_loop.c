/* lqd's event loop (control/lqd.h): one epoll set, each fd with its
 * callback; timers are timerfds in the same set, so the loop never
 * wakes up for nothing and nothing is polled. */
#include "control/lqd.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

double lqd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int lqd_loop_add(struct lqd *d, struct lqd_watch *w, int fd, lqd_watch_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	if (fd < 0)
		return -EBADF;
	w->fd = fd;
	w->fn = fn;
	w->ctx = ctx;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = errno;

		close(fd);
		w->fd = -1;
		w->fn = NULL;
		return -e;
	}
	return 0;
}

void lqd_loop_del(struct lqd *d, struct lqd_watch *w)
{
	if (!w->fn)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	close(w->fd);
	w->fd = -1;
	w->fn = NULL;
}

int lqd_timer_arm(struct lqd *d, struct lqd_watch *w, uint64_t ms, lqd_watch_fn fn, void *ctx)
{
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(ms / 1000),
						.tv_nsec = (long)(ms % 1000) * 1000000 } };
	int rc;

	if (!ms)
		its.it_value.tv_nsec = 1; /* zero would disarm it */
	if (!w->fn) {
		rc = lqd_loop_add(d, w, timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
				  fn, ctx);
		if (rc)
			return rc;
	}
	w->fn = fn;
	w->ctx = ctx;
	return timerfd_settime(w->fd, 0, &its, NULL) ? -errno : 0;
}

void lqd_timer_cancel(struct lqd *d, struct lqd_watch *w)
{
	lqd_loop_del(d, w);
}
