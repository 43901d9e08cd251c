/* Console attach (GET /v1/vms/{name}/console). lq-vmm writes the
 * guest's serial port to <run-dir>/serial.log (--serial file:), which
 * survives lqd restarts and needs no proxy process; lqd serves the log
 * from a byte offset. The reply's X-Lq-Console-Offset header is where to
 * continue, X-Lq-Vm-State the VM's state; with wait_s=T and nothing
 * new, the request waits (inotify on the log, no polling) until output
 * comes, the VM stops, or T seconds pass: `lqctl vm console -f` is a
 * loop of such requests. The log starts again from 0 when the VM's
 * lq-vmm is started again; an offset past the end means exactly that,
 * and the reply starts from 0. Output only:
 * typing into the guest's console is not supported yet. */
#include "control/lqd_http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define LQD_CONSOLE_CHUNK (1024u * 1024)
#define LQD_CONSOLE_WAIT_MAX_S 300

struct lqd_console {
	struct lqd_req *waiters;
};

static void lqd_console_ready(struct lqd *d, void *ctx, uint32_t events);

int lqd_console_init(struct lqd *d)
{
	d->consoles = calloc(1, sizeof(*d->consoles));
	if (!d->consoles)
		return -ENOMEM;
	return lqd_loop_add(d, &d->inotw, inotify_init1(IN_CLOEXEC | IN_NONBLOCK),
			    lqd_console_ready, NULL);
}

/* Reads what the log has from *off; 0 with the reply set, or -EAGAIN
 * when there is nothing new yet. */
static int lqd_console_read(struct lqd_vm *vm, struct lqd_req *r, bool may_wait)
{
	char path[PATH_MAX], *buf = NULL;
	unsigned long long off = r->warg;
	struct stat st;
	ssize_t n = 0;
	int fd;

	lqd_vm_serial_path(vm, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		st.st_size = 0;
	}
	if (off > (unsigned long long)st.st_size)
		off = 0; /* the log started again: a new lq-vmm */
	if (off == (unsigned long long)st.st_size && may_wait) {
		if (fd >= 0)
			close(fd);
		return -EAGAIN;
	}
	if (fd >= 0 && off < (unsigned long long)st.st_size) {
		size_t want = (unsigned long long)st.st_size - off;

		if (want > LQD_CONSOLE_CHUNK)
			want = LQD_CONSOLE_CHUNK;
		buf = malloc(want);
		if (buf)
			n = pread(fd, buf, want, (off_t)off);
		if (n < 0)
			n = 0;
	}
	if (fd >= 0)
		close(fd);
	snprintf(r->hdr_name, sizeof(r->hdr_name), "X-Lq-Console-Offset");
	snprintf(r->hdr_value, sizeof(r->hdr_value), "%llu", off + (unsigned long long)n);
	/* A follower stops when the VM is down and the log is read. */
	snprintf(r->hdr2_name, sizeof(r->hdr2_name), "X-Lq-Vm-State");
	snprintf(r->hdr2_value, sizeof(r->hdr2_value), "%s", lqd_observed_name(vm->observed));
	lqd_reply_buf(r, 200, "text/plain; charset=utf-8", buf, (size_t)n);
	return 0;
}

static void lqd_console_unlink(struct lqd *d, struct lqd_req *r)
{
	bool shared = false;

	for (struct lqd_req **p = &d->consoles->waiters; *p;) {
		if (*p == r)
			*p = r->wnext;
		else {
			shared |= (*p)->wd == r->wd;
			p = &(*p)->wnext;
		}
	}
	/* Watches are per inode: several followers of one VM share one. */
	if (!shared && r->wd >= 0)
		inotify_rm_watch(d->inotw.fd, r->wd);
	r->wd = -1;
}

static void lqd_console_answer(struct lqd *d, struct lqd_req *r)
{
	struct lqd_vm *vm = lqd_vm_find(d, r->wname);

	lqd_timer_cancel(d, &r->timer);
	lqd_console_unlink(d, r);
	if (!vm)
		lqd_reply_error(r, 404, "VM %s was deleted", r->wname);
	else
		lqd_console_read(vm, r, false);
	lqd_req_finish(r);
}

static void lqd_console_timeout(struct lqd *d, void *ctx, uint32_t events)
{
	(void)events;
	lqd_console_answer(d, ctx);
}

/* inotify: some followed log was written. */
static void lqd_console_ready(struct lqd *d, void *ctx, uint32_t events)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)ctx, (void)events;
	while ((n = read(d->inotw.fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ie = (const struct inotify_event *)p;
			struct lqd_req *w = d->consoles->waiters, *next;

			for (; w; w = next) {
				next = w->wnext;
				if (w->wd == ie->wd) {
					lqd_console_answer(d, w);
					next = d->consoles->waiters; /* the list changed */
				}
			}
			p += sizeof(*ie) + ie->len;
		}
	}
}

void lqd_console_wake(struct lqd *d, const struct lqd_vm *vm)
{
	struct lqd_req *w;

	if (!d->consoles)
		return;
	for (w = d->consoles->waiters; w;) {
		if (!strcmp(w->wname, vm->spec.name)) {
			lqd_console_answer(d, w);
			w = d->consoles->waiters;
		} else {
			w = w->wnext;
		}
	}
}

void lqd_console_flush(struct lqd *d)
{
	while (d->consoles && d->consoles->waiters)
		lqd_console_answer(d, d->consoles->waiters);
}

static int lqd_console_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s)
		return 0;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno || end == s || *end || *s == '-' || *out > max) ? -EINVAL : 0;
}

void lqd_api_console(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm)
{
	unsigned long long off = 0, wait = 0;
	char path[PATH_MAX];
	bool up = vm->pid > 0;

	if (lqd_console_num(lqd_req_arg(r, "offset"), ~0ull >> 1, &off) ||
	    lqd_console_num(lqd_req_arg(r, "wait_s"), LQD_CONSOLE_WAIT_MAX_S, &wait)) {
		lqd_reply_error(r, 400, "offset: a byte offset; wait_s: 0 to %d seconds",
				LQD_CONSOLE_WAIT_MAX_S);
		return;
	}
	r->warg = off;
	r->wd = -1;
	snprintf(r->wname, sizeof(r->wname), "%s", vm->spec.name);
	if (lqd_console_read(vm, r, up && wait) != -EAGAIN)
		return;
	lqd_vm_serial_path(vm, path, sizeof(path));
	r->wd = inotify_add_watch(d->inotw.fd, path, IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF);
	if (r->wd < 0 || lqd_timer_arm(d, &r->timer, wait * 1000, lqd_console_timeout, r)) {
		r->wd = -1;
		lqd_console_read(vm, r, false);
		return;
	}
	r->wnext = d->consoles->waiters;
	d->consoles->waiters = r;
	lqd_req_suspend(r);
}
