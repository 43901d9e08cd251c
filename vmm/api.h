/* vmm/api: lq-vmm's per-VM API, HTTP/1.1 + JSON on a unix socket
 * (docs/api/lq-vmm.openapi.yaml is the contract; tests check it).
 *
 * Threads: libmicrohttpd runs on its own thread (the API thread). It
 * reads and checks a request (route, size, body) and hands the parsed
 * call to the main thread through an eventfd, then waits for the reply:
 * everything that touches the VM (pause, power button, counters) runs on
 * the main thread, between device events, as Cloud Hypervisor does. One
 * API thread serves all connections, so calls reach the VM one at a time.
 * The API outlives guest reboots: calls that come in while the VM is
 * being re-created wait for the new one. */
#ifndef LQ_VMM_API_H
#define LQ_VMM_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct vm;
struct vm_config;
struct api;

#define API_BODY_MAX (64u * 1024)  /* larger bodies get 413 */
#define API_REASON_MAX 200         /* bytes of the optional "reason" */

/* Binds path (mode 0600, a stale socket is replaced) and starts the API
 * thread. 0 or -errno (after logging what failed). */
int api_start(struct api **out, const char *path, const struct vm_config *cfg);
/* Readable when calls wait for api_service. */
int api_fd(const struct api *a);
/* Main thread: a VM has started (again) / has stopped. */
void api_attach(struct api *a, struct vm *vm);
void api_detach(struct api *a);
/* Main thread: runs the waiting calls against the attached VM. */
void api_service(struct api *a);
/* Main thread: lets replies in flight go out (bounded), answers calls
 * still waiting with 503, stops the thread, removes the socket. */
void api_stop(struct api *a);

/* What a request asks for. */
enum api_op {
	API_OP_GET_VM,
	API_OP_PAUSE,
	API_OP_RESUME,
	API_OP_SHUTDOWN,
	API_OP_POWEROFF,
	API_OP_REBOOT,
	API_OP_COUNTERS,
	API_OP_METRICS,
};

/* 0 with *op set; -ENOENT for an unknown path (404); -EPERM for a known
 * path and the wrong method (405), with *allow set to the right one. */
int api_route(const char *method, const char *path, enum api_op *op, const char **allow);
/* Whether op changes the VM (PUT, takes the optional body). */
bool api_op_is_action(enum api_op op);

/* The body of a PUT: empty, or a JSON object whose only known member is
 * "reason" (a printable string, logged with the action). */
struct api_args {
	bool has_reason;
	char reason[API_REASON_MAX + 1];
};
/* Pure and bounded (the fuzz target calls it). 0, or -EINVAL with a
 * message for the client in err. */
int api_body_parse(const char *body, size_t len, struct api_args *out, char *err, size_t errlen);

/* A reply: status, content type and a malloc'd body (NULL: none). */
struct api_reply {
	unsigned status;
	const char *content_type;
	char *body;
	const char *allow;         /* for 405 */
};
/* {"error": msg} with status. */
void api_reply_error(struct api_reply *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Per-boot facts the handlers keep (main thread only). */
struct api_vm_state {
	struct vm *vm;              /* NULL between boots */
	const struct vm_config *cfg;
	struct timespec boot;       /* CLOCK_MONOTONIC at api_attach */
	uint64_t boots;
	bool shutting_down;         /* power button pressed this boot */
};
/* Main thread: carries out op against st->vm. */
void api_vm_run(struct api_vm_state *st, enum api_op op, const struct api_args *args,
		struct api_reply *r);

#endif
