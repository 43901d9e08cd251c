/* lqd's supervisor (control/lqd.h): spawns one lq-vmm per VM, watches it
 * through a pidfd in the loop, applies the restart policy with a
 * back-off, stops VMs gracefully, and re-adopts running VMs after lqd
 * itself restarts.
 *
 * lq-vmm runs in its own session with only stdin (/dev/null) and
 * stdout/stderr (<run-dir>/vmm.log) open, so it outlives lqd: a daemon
 * restart or crash never takes VMs down with it. A VM's lq-vmm is
 * recognised later by its command line, which names the VM's run dir. */
#include "control/lqd.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "control/lqd_http.h"
#include "control/lqd_store.h"
#include "control/lqd_vmm_client.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define LQD_RESTART_BASE_MS 100
#define LQD_RESTART_MAX_MS 30000
#define LQD_STABLE_S 60.0   /* a run this long resets the back-off */
#define LQD_ARGV_MAX 48
#define LQD_ADOPT_STOP_TIMEOUT_S 30

static int lqd_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int lqd_pidfd_kill(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static const char *const lqd_rundir_files[] = { "api.sock", "serial.log", "vmm.log", "pid" };

void lqd_sup_clean_rundir(struct lqd_vm *vm)
{
	char path[PATH_MAX];

	for (unsigned i = 0; i < sizeof(lqd_rundir_files) / sizeof(lqd_rundir_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", vm->rundir, lqd_rundir_files[i]);
		unlink(path);
	}
	if (rmdir(vm->rundir) && errno != ENOENT)
		log_warn("VM %s: cannot remove %s: %s", vm->spec.name, vm->rundir, strerror(errno));
}

/* lq-vmm's command line for vm; the strings live in bufs. */
static int lqd_sup_argv(struct lqd *d, struct lqd_vm *vm, char **argv, char bufs[][PATH_MAX + 32])
{
	const struct lqd_spec *s = &vm->spec;
	unsigned n = 0, b = 0;

	argv[n++] = d->vmm_path;
	argv[n++] = "--kernel";
	argv[n++] = s->kernel;
	if (s->initrd) {
		argv[n++] = "--initrd";
		argv[n++] = s->initrd;
	}
	argv[n++] = "--cmdline";
	argv[n++] = s->cmdline;
	snprintf(bufs[b], sizeof(bufs[b]), "%u", s->cpus);
	argv[n++] = "--cpus";
	argv[n++] = bufs[b++];
	snprintf(bufs[b], sizeof(bufs[b]), "%lluM", (unsigned long long)s->memory_mib);
	argv[n++] = "--memory";
	argv[n++] = bufs[b++];
	for (unsigned i = 0; i < s->nr_disks; i++) {
		snprintf(bufs[b], sizeof(bufs[b]), "path=%s%s%s%s", s->disks[i].path,
			 s->disks[i].readonly ? ",readonly=on" : "",
			 s->disks[i].format[0] ? ",format=" : "", s->disks[i].format);
		argv[n++] = "--disk";
		argv[n++] = bufs[b++];
	}
	if (s->rng)
		argv[n++] = "--rng";
	snprintf(bufs[b], sizeof(bufs[b]), "file:%s/serial.log", vm->rundir);
	argv[n++] = "--serial";
	argv[n++] = bufs[b++];
	/* The API socket path doubles as the mark lqd_sup_adopt looks for
	 * in /proc/<pid>/cmdline. */
	snprintf(bufs[b], sizeof(bufs[b]), "%s/api.sock", vm->rundir);
	argv[n++] = "--api-socket";
	argv[n++] = bufs[b++];
	argv[n++] = "--reboot";
	argv[n++] = "restart";
	argv[n] = NULL;
	return 0;
}

static int lqd_sup_mkdirs(struct lqd *d, struct lqd_vm *vm)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/run", d->state_dir);
	if ((mkdir(path, 0750) && errno != EEXIST) || (mkdir(vm->rundir, 0750) && errno != EEXIST)) {
		int e = errno;

		log_error("VM %s: cannot create %s: %s", vm->spec.name, vm->rundir, strerror(e));
		return -e;
	}
	return 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void lqd_sup_child(char **argv, int logfd, int nullfd)
{
	sigset_t none;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* lqd blocks signals for its signalfd */
	if (dup2(nullfd, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		_exit(127);
	/* Only 0-2 go over: the VM must not hold lqd's sockets, database
	 * or other VMs' pidfds. */
	syscall(SYS_close_range, 3u, ~0u, 0u);
	execv(argv[0], argv);
	/* vmm.log is the only place an operator will look; write() is
	 * async-signal-safe where stdio is not. */
	if (write(2, "lqd: cannot execute ", 20) < 0 || write(2, argv[0], strlen(argv[0])) < 0 ||
	    write(2, " (check lqd --vmm)\n", 19) < 0)
		_exit(127);
	_exit(127);
}

static void lqd_sup_exited(struct lqd *d, void *ctx, uint32_t events);

static void lqd_sup_write_pid(struct lqd_vm *vm)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pid", vm->rundir);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%d\n", (int)vm->pid);
		fclose(f);
	}
}

int lqd_sup_start(struct lqd *d, struct lqd_vm *vm)
{
	char *argv[LQD_ARGV_MAX], bufs[LQD_MAX_DISKS + 8][PATH_MAX + 32], path[PATH_MAX];
	int logfd, nullfd, pidfd, rc;
	pid_t pid;

	lqd_timer_cancel(d, &vm->restart_timer);
	rc = lqd_sup_mkdirs(d, vm);
	if (rc)
		return rc;
	lqd_sup_argv(d, vm, argv, bufs);
	snprintf(path, sizeof(path), "%s/api.sock", vm->rundir);
	unlink(path); /* a stale one would answer nothing */
	snprintf(path, sizeof(path), "%s/vmm.log", vm->rundir);
	logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0) {
		rc = -errno;
		log_error("VM %s: cannot open %s: %s", vm->spec.name, path, strerror(-rc));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		log_error("VM %s: cannot fork lq-vmm: %s", vm->spec.name, strerror(-rc));
		goto out;
	}
	if (pid == 0)
		lqd_sup_child(argv, logfd, nullfd);
	/* Our unreaped child: the pid cannot be reused before waitid. */
	pidfd = lqd_pidfd_open(pid);
	rc = lqd_loop_add(d, &vm->pidw, pidfd, lqd_sup_exited, vm);
	if (rc) {
		log_error("VM %s: cannot watch lq-vmm pid %d: %s", vm->spec.name, (int)pid,
			  strerror(-rc));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	vm->pid = pid;
	vm->is_child = true;
	vm->boots++;
	vm->started_at = lqd_now();
	lqd_sup_write_pid(vm);
	log_info("VM %s: lq-vmm started, pid %d (boot %llu)", vm->spec.name, (int)pid,
		 (unsigned long long)vm->boots);
	lqd_vm_set_observed(d, vm, LQD_RUNNING, "started");
	lqd_console_wake(d, vm);
out:
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	return rc;
}

static void lqd_sup_restart_due(struct lqd *d, void *ctx, uint32_t events)
{
	struct lqd_vm *vm = ctx;

	(void)events;
	lqd_timer_cancel(d, &vm->restart_timer);
	if (vm->desired != LQD_WANT_RUNNING || vm->pid)
		return;
	if (lqd_sup_start(d, vm))
		lqd_vm_set_observed(d, vm, LQD_CRASHED, "restart failed");
}

/* The restart policy, after vm's process went with status (-1: unknown,
 * as for an adopted process, which is not our child). */
static void lqd_sup_policy(struct lqd *d, struct lqd_vm *vm, int status)
{
	bool failed = status != 0;
	bool restart = vm->spec.restart_policy == LQD_RESTART_ALWAYS ||
		       (vm->spec.restart_policy == LQD_RESTART_ON_FAILURE && failed);
	uint64_t delay;

	if (!restart) {
		if (!failed)
			vm->desired = LQD_WANT_STOPPED; /* the guest powered itself off */
		lqd_vm_set_observed(d, vm, failed ? LQD_CRASHED : LQD_STOPPED,
				    failed ? "lq-vmm failed" : "guest powered off");
		return;
	}
	if (lqd_now() - vm->started_at >= LQD_STABLE_S)
		vm->fast_failures = 0;
	/* 100 ms, then doubling per quick failure up to 30 s: a VM that
	 * cannot start does not spin the host. */
	delay = (uint64_t)LQD_RESTART_BASE_MS << (vm->fast_failures < 9 ? vm->fast_failures : 9);
	if (delay > LQD_RESTART_MAX_MS)
		delay = LQD_RESTART_MAX_MS;
	vm->fast_failures++;
	lqd_vm_set_observed(d, vm, failed ? LQD_CRASHED : LQD_STOPPED, "restarting");
	log_info("VM %s: restarting in %llu ms (policy %s)", vm->spec.name,
		 (unsigned long long)delay, lqd_restart_policy_name(vm->spec.restart_policy));
	if (lqd_timer_arm(d, &vm->restart_timer, delay, lqd_sup_restart_due, vm))
		log_error("VM %s: cannot arm the restart timer", vm->spec.name);
}

static int lqd_sup_status(struct lqd_vm *vm)
{
	siginfo_t si = { 0 };

	if (!vm->is_child)
		return -1;
	if (waitid((idtype_t)P_PIDFD, (id_t)vm->pidw.fd, &si, WEXITED | WNOHANG) || !si.si_pid)
		return -1;
	return si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
}

static void lqd_sup_exited(struct lqd *d, void *ctx, uint32_t events)
{
	struct lqd_vm *vm = ctx;
	int status = lqd_sup_status(vm);
	char path[PATH_MAX];

	(void)events;
	lqd_loop_del(d, &vm->pidw);
	lqd_timer_cancel(d, &vm->stop_timer);
	log_info("VM %s: lq-vmm pid %d exited (status %d%s)", vm->spec.name, (int)vm->pid, status,
		 status < 0 ? ": unknown, the process was adopted" : "");
	vm->pid = 0;
	vm->has_exit = true;
	vm->last_exit = status;
	snprintf(path, sizeof(path), "%s/pid", vm->rundir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/api.sock", vm->rundir);
	unlink(path);
	lqd_console_wake(d, vm);
	if (vm->pending != LQD_PENDING_NONE || vm->desired == LQD_WANT_STOPPED) {
		lqd_vm_set_observed(d, vm, LQD_STOPPED, "stopped");
		lqd_api_pending_done(d, vm); /* may free vm */
		return;
	}
	lqd_sup_policy(d, vm, status);
}

void lqd_sup_kill(struct lqd *d, struct lqd_vm *vm)
{
	(void)d;
	if (vm->pid && vm->pidw.fn && lqd_pidfd_kill(vm->pidw.fd, SIGKILL))
		log_warn("VM %s: cannot kill pid %d: %s", vm->spec.name, (int)vm->pid,
			 strerror(errno));
}

static void lqd_sup_stop_due(struct lqd *d, void *ctx, uint32_t events)
{
	struct lqd_vm *vm = ctx;

	(void)events;
	lqd_timer_cancel(d, &vm->stop_timer);
	log_warn("VM %s: the guest did not power off in time: killing lq-vmm pid %d",
		 vm->spec.name, (int)vm->pid);
	lqd_sup_kill(d, vm);
}

/* ACPI power button through the VM's API; false if it could not be
 * pressed (then the caller forces). A paused guest cannot see the
 * button, so it is resumed first. */
static bool lqd_sup_press_power(struct lqd *d, struct lqd_vm *vm)
{
	char sock[PATH_MAX];
	cJSON *reply = NULL;
	long st = 0;

	lqd_vm_api_path(vm, sock, sizeof(sock));
	if (vm->observed == LQD_PAUSED) {
		if (lqd_vmm_call(sock, "PUT", "/vm/resume", &st, NULL) ||
		    ((st < 200 || st >= 300) && st != 409))
			return false;
		lqd_vm_set_observed(d, vm, LQD_RUNNING, "resumed to stop");
	}
	if (lqd_vmm_call(sock, "PUT", "/vm/shutdown", &st, &reply))
		return false;
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(reply, "guest_listening")))
		log_warn("VM %s: the guest has not enabled its power button (yet): it may not power off before the stop timeout",
			 vm->spec.name);
	cJSON_Delete(reply);
	return st >= 200 && st < 300;
}

int lqd_sup_stop(struct lqd *d, struct lqd_vm *vm, unsigned timeout_s, bool force)
{
	vm->desired = LQD_WANT_STOPPED;
	lqd_timer_cancel(d, &vm->restart_timer);
	lqd_store_put(d, vm);
	if (!vm->pid)
		return 1; /* nothing runs: stopped already */
	if (force || !timeout_s || !lqd_sup_press_power(d, vm)) {
		if (!force && timeout_s)
			log_warn("VM %s: cannot press the power button: forcing", vm->spec.name);
		lqd_sup_kill(d, vm);
		return 0;
	}
	if (lqd_timer_arm(d, &vm->stop_timer, (uint64_t)timeout_s * 1000, lqd_sup_stop_due, vm))
		lqd_sup_kill(d, vm);
	return 0;
}

/* Whether pid is vm's lq-vmm: its command line names vm's API socket. */
static bool lqd_sup_is_ours(struct lqd_vm *vm)
{
	char path[64], want[PATH_MAX], buf[16384];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)vm->pid);
	snprintf(want, sizeof(want), "%s/api.sock", vm->rundir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
		if (!strcmp(buf + i, want))
			return true;
	return false;
}

static bool lqd_sup_adopt(struct lqd *d, struct lqd_vm *vm)
{
	char sock[PATH_MAX];
	cJSON *info = NULL;
	const char *state;
	long st = 0;
	int pidfd;

	/* The pidfd first: once held, it names this process even if the
	 * pid is reused, so the checks below are about the right one. */
	pidfd = lqd_pidfd_open(vm->pid);
	if (pidfd < 0)
		return false;
	if (!lqd_sup_is_ours(vm)) {
		log_info("VM %s: pid %d is not its lq-vmm any more", vm->spec.name, (int)vm->pid);
		close(pidfd);
		return false;
	}
	lqd_vm_api_path(vm, sock, sizeof(sock));
	if (lqd_vmm_call(sock, "GET", "/vm", &st, &info) || st != 200)
		log_warn("VM %s: lq-vmm pid %d does not answer on %s; adopting it anyway",
			 vm->spec.name, (int)vm->pid, sock);
	state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(info, "state"));
	if (lqd_loop_add(d, &vm->pidw, pidfd, lqd_sup_exited, vm)) {
		cJSON_Delete(info);
		return false;
	}
	vm->is_child = false;
	log_info("VM %s: adopted lq-vmm pid %d (%s)", vm->spec.name, (int)vm->pid,
		 state ? state : "state unknown");
	lqd_vm_set_observed(d, vm, state && !strcmp(state, "paused") ? LQD_PAUSED : LQD_RUNNING,
			    "adopted");
	cJSON_Delete(info);
	return true;
}

void lqd_sup_adopt_all(struct lqd *d)
{
	for (struct lqd_vm *vm = d->vms; vm; vm = vm->next) {
		bool was_up = vm->observed == LQD_RUNNING || vm->observed == LQD_PAUSED;

		if (vm->pid > 0 && lqd_sup_adopt(d, vm)) {
			/* A stop was under way when the last lqd died: finish it
			 * (its deadline is gone; a fresh one starts now). */
			if (vm->desired == LQD_WANT_STOPPED) {
				log_info("VM %s: desired stopped: stopping it again", vm->spec.name);
				lqd_sup_stop(d, vm, LQD_ADOPT_STOP_TIMEOUT_S, false);
			}
			continue;
		}
		if (vm->pid > 0 || was_up) {
			log_warn("VM %s: its lq-vmm (pid %d) went while lqd was down", vm->spec.name,
				 (int)vm->pid);
			vm->pid = 0;
			vm->has_exit = true;
			vm->last_exit = -1;
		}
		if (vm->desired == LQD_WANT_RUNNING && (was_up || vm->observed == LQD_CRASHED))
			lqd_sup_policy(d, vm, -1);
		else if (was_up)
			lqd_vm_set_observed(d, vm, LQD_STOPPED, "gone while lqd was down");
	}
}
