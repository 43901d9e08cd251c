/* lqd: the limiquantix host daemon. Parses its flags, opens the state
 * database, re-adopts the VMs that kept running while it was away, then
 * serves the host API from one epoll loop (control/lqd.h). Stopping lqd
 * (SIGTERM, SIGINT) leaves the VMs running: they are adopted again on
 * the next start. */
#include "control/lqd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "common/log.h"
#include "control/lqd_http.h"
#include "control/lqd_store.h"
#include "control/lqd_vmm_client.h"

#define LQD_DEFAULT_SOCKET "/run/limiquantix/lqd.sock"
#define LQD_DEFAULT_STATE "/var/lib/limiquantix"

static void lqd_usage(FILE *f)
{
	fprintf(f,
		"usage: lqd [options]\n"
		"  --socket PATH      serve the host API here (default " LQD_DEFAULT_SOCKET ", mode 0660)\n"
		"  --state-dir DIR    database and VM run dirs (default " LQD_DEFAULT_STATE ")\n"
		"  --vmm PATH         the lq-vmm binary (default: next to lqd, or ../lq-vmm in a build tree)\n"
		"  --log-level L      debug | info | warn | error (default info)\n"
		"  --help, --version\n"
		"VMs keep running when lqd stops; the next lqd adopts them.\n");
}

/* lq-vmm next to lqd (installed), else one level up (the build tree,
 * where lqd is build/control/lqd and lq-vmm is build/lq-vmm). */
static char *lqd_default_vmm(void)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return strdup("lq-vmm");
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/lq-vmm", self);
	if (access(path, X_OK))
		snprintf(path, sizeof(path), "%s/../lq-vmm", self);
	slash = realpath(path, NULL);
	return slash ? slash : strdup(path);
}

/* mkdir -p for the directory path is in (/run/limiquantix for the
 * socket, the state dir for the database). */
static int lqd_mkdir_parent(const char *path, mode_t mode)
{
	char dir[PATH_MAX];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(dir, mode) && errno != EEXIST ? -errno : 0;
}

static int lqd_args(struct lqd *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "vmm", required_argument, NULL, 'v' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static const char *const levels[] = { "debug", "info", "warn", "error" };
	char db[PATH_MAX];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': d->socket_path = optarg; break;
		case 'd': d->state_dir = optarg; break;
		case 'v': d->vmm_path = optarg; break;
		case 'l':
			for (c = 0; c < 4 && strcmp(optarg, levels[c]); c++)
				;
			if (c == 4) {
				log_error("--log-level %s: expected debug, info, warn or error", optarg);
				return -EINVAL;
			}
			log_set_level((enum log_level)c);
			break;
		case 'h': lqd_usage(stdout); exit(0);
		case 'V': printf("lqd %s\n", LQ_VERSION); exit(0);
		default: lqd_usage(stderr); return -EINVAL;
		}
	}
	if (optind != argc) {
		lqd_usage(stderr);
		return -EINVAL;
	}
	d->socket_path = d->socket_path ? strdup(d->socket_path) : strdup(LQD_DEFAULT_SOCKET);
	if (!d->state_dir)
		d->state_dir = LQD_DEFAULT_STATE;
	snprintf(db, sizeof(db), "%s/lqd.db", d->state_dir);
	if (lqd_mkdir_parent(db, 0750))
		log_warn("--state-dir %s: cannot create it: %s", d->state_dir, strerror(errno));
	d->state_dir = realpath(d->state_dir, NULL);
	d->vmm_path = d->vmm_path ? realpath(d->vmm_path, NULL) : lqd_default_vmm();
	if (!d->state_dir || !d->vmm_path || !d->socket_path) {
		log_error("--state-dir and --vmm must exist: %s", strerror(errno));
		return -EINVAL;
	}
	/* <state-dir>/run/<63-char name>/api.sock must fit in a sockaddr_un. */
	if (strlen(d->state_dir) + sizeof("/run/") + LQD_NAME_MAX + sizeof("/api.sock") > 108) {
		log_error("--state-dir %s: too long; VM API sockets under it would not fit the 107 bytes of a unix socket path",
			  d->state_dir);
		return -EINVAL;
	}
	if (access(d->vmm_path, X_OK)) {
		log_error("lq-vmm %s: %s (give its path with --vmm)", d->vmm_path, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

static void lqd_signal(struct lqd *d, void *ctx, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)ctx, (void)events;
	if (read(d->sigw.fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("got signal %u: stopping lqd (VMs keep running)", si.ssi_signo);
		d->quit = true;
	}
}

static int lqd_signals(struct lqd *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return lqd_loop_add(d, &d->sigw, signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK),
			    lqd_signal, NULL);
}

/* Two lqds on one state dir would both supervise (and restart) the same
 * VMs: the first one holds <state-dir>/lqd.lock for its lifetime (the
 * fd stays open, close-on-exec so no VM inherits it). */
static int lqd_lock_state(struct lqd *d)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/lqd.lock", d->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
		log_error("%s: %s", path, fd < 0 ? strerror(errno)
			  : "another lqd uses this state dir; stop it first");
		if (fd >= 0)
			close(fd);
		return -EBUSY;
	}
	return 0;
}

static void lqd_run(struct lqd *d)
{
	while (!d->quit) {
		MHD_UNSIGNED_LONG_LONG mhd_ms;
		struct epoll_event ev;
		int timeout = -1, n;

		if (MHD_get_timeout(d->mhd, &mhd_ms) == MHD_YES)
			timeout = mhd_ms > INT_MAX ? INT_MAX : (int)mhd_ms;
		/* One event per round: a callback may free what another
		 * pending event points to (a deleted VM's pidfd). */
		n = epoll_wait(d->epfd, &ev, 1, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		if (n == 1) {
			struct lqd_watch *w = ev.data.ptr;

			w->fn(d, w->ctx, ev.events);
		}
		MHD_run(d->mhd);
	}
}

/* Requests still waiting get their answer before the server goes. */
static void lqd_shutdown(struct lqd *d)
{
	lqd_events_flush(d);
	lqd_console_flush(d);
	for (struct lqd_vm *vm = d->vms; vm; vm = vm->next) {
		if (vm->pending_req) {
			lqd_reply_error(vm->pending_req, 503, "lqd is stopping; VM %s is still %s",
					vm->spec.name, lqd_observed_name(vm->observed));
			lqd_req_finish(vm->pending_req);
			vm->pending_req = NULL;
		}
	}
	MHD_run(d->mhd);
	lqd_http_stop(d);
	while (d->vms) {
		struct lqd_vm *vm = d->vms;

		d->vms = vm->next;
		lqd_vm_free(vm);
	}
	lqd_store_close(d);
	lqd_events_free(d);
	free(d->consoles);
	lqd_vmm_client_cleanup();
	free(d->socket_path);
	free(d->state_dir);
	free(d->vmm_path);
}

int main(int argc, char **argv)
{
	struct lqd d = { .epfd = -1 };
	struct sysinfo si;

	log_init("lqd");
	/* The database and logs hold VM specs and guest output: not for
	 * every local user. lq-vmm inherits this too. */
	umask(0027);
	if (lqd_args(&d, argc, argv))
		return 1;
	if (sysinfo(&si)) {
		log_error("sysinfo: %s", strerror(errno));
		return 1;
	}
	d.limits.host_memory_mib = (uint64_t)si.totalram * si.mem_unit >> 20;
	d.host_cpus = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0 || lqd_signals(&d) || lqd_events_init(&d) || lqd_console_init(&d) ||
	    lqd_vmm_client_init()) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		return 1;
	}
	if (lqd_mkdir_parent(d.socket_path, 0755)) {
		log_error("%s: cannot create its directory: %s", d.socket_path, strerror(errno));
		return 1;
	}
	if (lqd_lock_state(&d) || lqd_store_open(&d) || lqd_store_load(&d))
		return 1;
	lqd_sup_adopt_all(&d);
	if (lqd_http_start(&d))
		return 1;
	log_info("serving on %s (state in %s, lq-vmm %s)", d.socket_path, d.state_dir, d.vmm_path);
	lqd_run(&d);
	lqd_shutdown(&d);
	return 0;
}
