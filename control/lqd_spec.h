/* control/lqd_spec: a VM's spec (what the operator asked for) and its
 * validation from JSON. Pure: no I/O, no daemon state, so the unit test
 * and the fuzz-minded can call it on anything. Everything a request can
 * carry is checked here: unknown members, wrong types, sizes and names;
 * what needs the host (does the kernel file exist?) is the caller's. */
#ifndef LQ_CONTROL_LQD_SPEC_H
#define LQ_CONTROL_LQD_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define LQD_NAME_MAX 63
#define LQD_MAX_CPUS 255        /* lq-vmm's own limit */
#define LQD_MAX_DISKS 8         /* lq-vmm's own limit */
#define LQD_MIN_MEMORY_MIB 16   /* lq-vmm refuses less */
#define LQD_PATH_MAX 1024
#define LQD_CMDLINE_MAX 2048
#define LQD_MAX_LABELS 64
#define LQD_LABEL_KEY_MAX 63
#define LQD_LABEL_VALUE_MAX 255

enum lqd_restart_policy { LQD_RESTART_NEVER, LQD_RESTART_ON_FAILURE, LQD_RESTART_ALWAYS };

struct lqd_disk {
	char *path;
	bool readonly;
	char format[8]; /* "raw", "qcow2", or "" for lq-vmm to probe */
};

struct lqd_spec {
	char name[LQD_NAME_MAX + 1];
	unsigned cpus;
	uint64_t memory_mib;
	char *kernel;
	char *initrd;           /* NULL: none */
	char *cmdline;          /* never NULL */
	unsigned nr_disks;
	struct lqd_disk disks[LQD_MAX_DISKS];
	bool rng;
	struct cJSON *labels;   /* an object of strings, owned */
	enum lqd_restart_policy restart_policy;
};

/* What the host allows; the caller fills it (the daemon from sysinfo). */
struct lqd_spec_limits {
	uint64_t host_memory_mib;
};

/* [a-z0-9][a-z0-9-]{0,62}: safe as a directory name and in a URL. */
bool lqd_spec_name_ok(const char *name);

/* Fills out from obj (a JSON object). When start is non-NULL, the
 * member "start" (a bool) is accepted too and stored there. 0, or
 * -EINVAL with a message for the client in err (out is then empty). */
int lqd_spec_parse(const struct cJSON *obj, const struct lqd_spec_limits *lim,
		   struct lqd_spec *out, bool *start, char *err, size_t errlen);
/* The spec as JSON (the same members lqd_spec_parse takes); NULL on ENOMEM. */
struct cJSON *lqd_spec_to_json(const struct lqd_spec *s);
void lqd_spec_free(struct lqd_spec *s);

const char *lqd_restart_policy_name(enum lqd_restart_policy p);

#endif
