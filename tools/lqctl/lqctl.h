/* tools/lqctl: the limiquantix CLI. Talks to lqd's host API over its
 * unix socket with libcurl; human output by default, the API's JSON
 * with --json.
 *
 * Exit codes: 0 done, 1 usage or validation error (the daemon said 4xx),
 * 2 not found, 3 conflict (the VM's state does not allow it), 4 lqd
 * unreachable, 5 lqd failed (5xx). */
#ifndef LQ_TOOLS_LQCTL_H
#define LQ_TOOLS_LQCTL_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

enum lqctl_exit {
	LQCTL_OK = 0,
	LQCTL_USAGE = 1,
	LQCTL_NOT_FOUND = 2,
	LQCTL_CONFLICT = 3,
	LQCTL_UNREACHABLE = 4,
	LQCTL_DAEMON = 5,
};

struct lqctl {
	const char *socket;
	bool json;
};

/* One HTTP exchange with lqd. */
struct lqctl_resp {
	long status;
	char *body;
	size_t len;
	char offset[32];   /* X-Lq-Console-Offset */
	char vm_state[32]; /* X-Lq-Vm-State */
};

/* 0 with r filled (free r->body), or LQCTL_UNREACHABLE after saying why. */
int lqctl_http(const struct lqctl *c, const char *method, const char *path, const char *body,
	       long timeout_s, struct lqctl_resp *r);
/* Maps a non-2xx reply to an exit code after printing its "error". */
int lqctl_fail(const struct lqctl_resp *r, const char *what);
/* A request whose JSON reply is printed by show (or raw with --json). */
int lqctl_call(const struct lqctl *c, const char *method, const char *path, const char *body,
	       long timeout_s, void (*show)(const struct cJSON *o));

int lqctl_vm(const struct lqctl *c, int argc, char **argv);
int lqctl_host(const struct lqctl *c, int argc, char **argv);

/* lqctl_print.c */
void lqctl_print_vm(const struct cJSON *vm);
void lqctl_print_vm_table(const struct cJSON *list);
void lqctl_print_host(const struct cJSON *host);
void lqctl_print_mib(char *buf, size_t len, double mib);
void lqctl_print_duration(char *buf, size_t len, double s);

#endif
