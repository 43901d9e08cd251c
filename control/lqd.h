/* control/lqd: the host daemon's shared state and the contracts between
 * its files.
 *
 * One thread. Everything is driven by one epoll loop (lqd_loop): the
 * HTTP server (libmicrohttpd in external mode, its epoll fd in ours),
 * one pidfd per running lq-vmm, timerfds for restart back-off and stop
 * deadlines, inotify for console followers. Requests that must wait (a
 * graceful stop, an event long poll, a console follow) are suspended
 * and resumed from the loop, never waited for with a sleep. Because
 * there is one thread, no state below needs a lock.
 *
 * Files: lqd_main (flags, start-up, the loop), lqd_loop (epoll, timers),
 * lqd_http (libmicrohttpd), lqd_api_vms / lqd_api_power / lqd_api_host
 * (handlers), lqd_events, lqd_console, lqd_spec (validation),
 * lqd_store (SQLite), lqd_vm (registry), lqd_supervise (spawn, pidfd,
 * restart policy, adoption), lqd_vmm_client (libcurl to lq-vmm's API).
 * The HTTP contract: docs/api/lqd.openapi.yaml. */
#ifndef LQ_CONTROL_LQD_H
#define LQ_CONTROL_LQD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/lqd_spec.h"

struct lqd;
struct lqd_req;
struct sqlite3;
struct MHD_Daemon;

/* ---- the loop (lqd_loop.c) ---- */
typedef void (*lqd_watch_fn)(struct lqd *d, void *ctx, uint32_t events);
struct lqd_watch {
	int fd;
	lqd_watch_fn fn;
	void *ctx;
};
int lqd_loop_add(struct lqd *d, struct lqd_watch *w, int fd, lqd_watch_fn fn, void *ctx);
void lqd_loop_del(struct lqd *d, struct lqd_watch *w); /* closes w->fd */
/* A one-shot timerfd watch firing after ms; re-arms when called again. */
int lqd_timer_arm(struct lqd *d, struct lqd_watch *w, uint64_t ms, lqd_watch_fn fn, void *ctx);
void lqd_timer_cancel(struct lqd *d, struct lqd_watch *w);

/* ---- VMs ---- */
enum lqd_desired { LQD_WANT_STOPPED, LQD_WANT_RUNNING };
enum lqd_observed { LQD_STOPPED, LQD_RUNNING, LQD_PAUSED, LQD_CRASHED };
enum lqd_pending { LQD_PENDING_NONE, LQD_PENDING_STOP, LQD_PENDING_DELETE };

struct lqd_vm {
	struct lqd_spec spec;
	enum lqd_desired desired;
	enum lqd_observed observed;
	pid_t pid;               /* 0: no process */
	bool is_child;           /* spawned by this lqd: waitid gives the status */
	struct lqd_watch pidw;   /* the pidfd */
	uint64_t boots;          /* lq-vmm processes started for this VM */
	bool has_exit;
	int last_exit;           /* exit status, 128+sig, or -1: unknown (adopted) */
	double created_at, started_at; /* CLOCK_REALTIME seconds */
	unsigned fast_failures;  /* consecutive short-lived runs: the back-off */
	struct lqd_watch restart_timer;
	/* A stop or delete waiting for the process to go. */
	enum lqd_pending pending;
	struct lqd_req *pending_req;
	struct lqd_watch stop_timer; /* graceful stop deadline, then SIGKILL */
	char rundir[2048];      /* <state-dir>/run/<name> */
	struct lqd_vm *next;
};

struct lqd_events;

struct lqd {
	int epfd;
	bool quit;
	char *state_dir;
	char *socket_path;
	char *vmm_path;
	struct sqlite3 *db;
	struct MHD_Daemon *mhd;
	struct lqd_watch mhdw, sigw;
	struct lqd_vm *vms;
	struct lqd_events *events;
	struct lqd_console *consoles; /* followers waiting for output */
	struct lqd_watch inotw;
	struct lqd_spec_limits limits;
	unsigned host_cpus;
};

struct lqd_vm *lqd_vm_find(struct lqd *d, const char *name);
const char *lqd_observed_name(enum lqd_observed o);
const char *lqd_desired_name(enum lqd_desired w);
/* The VM as the API shows it (spec + status); NULL on ENOMEM. */
struct cJSON *lqd_vm_json(const struct lqd_vm *vm);
/* Observed state changed: store it, tell event listeners. */
void lqd_vm_set_observed(struct lqd *d, struct lqd_vm *vm, enum lqd_observed o, const char *why);
void lqd_vm_free(struct lqd_vm *vm);
int lqd_vm_api_path(const struct lqd_vm *vm, char *buf, size_t len);
int lqd_vm_serial_path(const struct lqd_vm *vm, char *buf, size_t len);

/* ---- supervision (lqd_supervise.c) ---- */
int lqd_sup_start(struct lqd *d, struct lqd_vm *vm);
/* Graceful (ACPI through the VM's API), SIGKILL after timeout_s;
 * done(d, vm) runs when the process is gone. */
int lqd_sup_stop(struct lqd *d, struct lqd_vm *vm, unsigned timeout_s, bool force);
void lqd_sup_kill(struct lqd *d, struct lqd_vm *vm);
/* At start-up: adopt or account for every stored VM. */
void lqd_sup_adopt_all(struct lqd *d);
/* Removes the run dir and what lq-vmm left in it. */
void lqd_sup_clean_rundir(struct lqd_vm *vm);

/* ---- events (lqd_events.c) ---- */
int lqd_events_init(struct lqd *d);
void lqd_events_free(struct lqd *d);
void lqd_event(struct lqd *d, const char *vm, const char *type, const char *detail);

/* ---- console followers (lqd_console.c) ---- */
struct lqd_console;
int lqd_console_init(struct lqd *d);
/* A VM's serial log changed or its process went: wake its followers. */
void lqd_console_wake(struct lqd *d, const struct lqd_vm *vm);

double lqd_now(void);

#endif
