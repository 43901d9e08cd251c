/* Fuzz target: lqd's VM spec validator (control/lqd_spec.c) on arbitrary
 * request bodies. Checks what it promises: a refusal carries a message
 * and leaves the spec empty; an accepted spec is within every limit, and
 * lqd_spec_to_json of it parses back to the same spec (lqd's state store
 * depends on that round trip). Built with libFuzzer (tools/fuzz
 * lqd_spec) or with replay_main.c for the fuzz suite. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/lqd_spec.h"

static void fuzz_check_spec(const struct lqd_spec *s, const struct lqd_spec_limits *lim)
{
	if (!lqd_spec_name_ok(s->name) || s->cpus < 1 || s->cpus > LQD_MAX_CPUS ||
	    s->memory_mib < LQD_MIN_MEMORY_MIB || s->memory_mib > lim->host_memory_mib ||
	    !s->kernel || s->kernel[0] != '/' || !s->cmdline || s->nr_disks > LQD_MAX_DISKS ||
	    (s->initrd && s->initrd[0] != '/'))
		abort();
	for (unsigned i = 0; i < s->nr_disks; i++)
		if (!s->disks[i].path || s->disks[i].path[0] != '/' || strchr(s->disks[i].path, ','))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct lqd_spec_limits lim = { .host_memory_mib = 4096 };
	struct lqd_spec s, s2;
	char err[256] = "", *t1, *t2;
	cJSON *o = cJSON_ParseWithLength((const char *)data, size), *j;
	bool start;

	if (!o)
		return 0;
	if (lqd_spec_parse(o, &lim, &s, &start, err, sizeof(err))) {
		if (!err[0] || s.kernel || s.labels || s.nr_disks)
			abort();
		cJSON_Delete(o);
		return 0;
	}
	cJSON_Delete(o);
	fuzz_check_spec(&s, &lim);
	j = lqd_spec_to_json(&s);
	t1 = cJSON_PrintUnformatted(j);
	if (!j || !t1 || lqd_spec_parse(j, &lim, &s2, NULL, err, sizeof(err)))
		abort();
	cJSON_Delete(j);
	j = lqd_spec_to_json(&s2);
	t2 = cJSON_PrintUnformatted(j);
	if (!t2 || strcmp(t1, t2))
		abort();
	cJSON_Delete(j);
	free(t1);
	free(t2);
	lqd_spec_free(&s);
	lqd_spec_free(&s2);
	return 0;
}
