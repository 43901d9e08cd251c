/* VM spec validation (control/lqd_spec.h). Every member is looked at
 * once, by a table of known keys; anything else in the object is an
 * error, so a typo ("memroy_mib") is reported rather than ignored. */
#include "control/lqd_spec.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const lqd_policy_names[] = {
	[LQD_RESTART_NEVER] = "never",
	[LQD_RESTART_ON_FAILURE] = "on-failure",
	[LQD_RESTART_ALWAYS] = "always",
};

const char *lqd_restart_policy_name(enum lqd_restart_policy p)
{
	return lqd_policy_names[p];
}

static int lqd_spec_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int lqd_spec_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

bool lqd_spec_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > LQD_NAME_MAX || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* Printable ASCII only: these strings end up on lq-vmm's command line
 * and in the guest's, where control bytes have no business. */
static bool lqd_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

static int lqd_uint(const cJSON *v, const char *key, uint64_t lo, uint64_t hi, uint64_t *out,
		    char *err, size_t errlen)
{
	double d;

	if (!cJSON_IsNumber(v))
		return lqd_spec_err(err, errlen, "%s: expected an integer", key);
	d = v->valuedouble;
	/* range first: the cast below is only defined inside it */
	if (!(d >= (double)lo && d <= (double)hi) || d != (double)(uint64_t)d)
		return lqd_spec_err(err, errlen, "%s: expected an integer from %llu to %llu", key,
				    (unsigned long long)lo, (unsigned long long)hi);
	*out = (uint64_t)d;
	return 0;
}

/* An absolute path lq-vmm can take as one argument (and, for disks,
 * inside --disk path=...,readonly=on, hence no commas). */
static int lqd_path(const cJSON *v, const char *key, bool no_comma, char **out, char *err,
		    size_t errlen)
{
	const char *s = cJSON_GetStringValue(v);

	if (!s)
		return lqd_spec_err(err, errlen, "%s: expected a string", key);
	if (s[0] != '/' || strlen(s) > LQD_PATH_MAX || !lqd_printable(s))
		return lqd_spec_err(err, errlen,
				    "%s: expected an absolute path of at most %d printable characters",
				    key, LQD_PATH_MAX);
	if (no_comma && strchr(s, ','))
		return lqd_spec_err(err, errlen, "%s: a disk path cannot contain ','", key);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int lqd_disk_parse(const cJSON *d, unsigned i, struct lqd_disk *out, char *err,
			  size_t errlen)
{
	char key[32];
	const cJSON *m;

	snprintf(key, sizeof(key), "disks[%u]", i);
	if (!cJSON_IsObject(d))
		return lqd_spec_err(err, errlen, "%s: expected an object {path, readonly, format}", key);
	cJSON_ArrayForEach(m, d) {
		int rc = 0;

		if (!strcmp(m->string, "path")) {
			if (out->path)
				return lqd_spec_err(err, errlen, "%s: path given twice", key);
			snprintf(key, sizeof(key), "disks[%u].path", i);
			rc = lqd_path(m, key, true, &out->path, err, errlen);
		} else if (!strcmp(m->string, "readonly")) {
			if (!cJSON_IsBool(m))
				return lqd_spec_err(err, errlen, "disks[%u].readonly: expected a bool", i);
			out->readonly = cJSON_IsTrue(m);
		} else if (!strcmp(m->string, "format")) {
			/* Named, not probed: a qcow2 overlay's backing file is only
			 * trusted when the format is given (see block/blk_open.c). */
			if (!cJSON_IsString(m) ||
			    (strcmp(m->valuestring, "raw") && strcmp(m->valuestring, "qcow2")))
				return lqd_spec_err(err, errlen, "disks[%u].format: expected \"raw\" or \"qcow2\"", i);
			snprintf(out->format, sizeof(out->format), "%s", m->valuestring);
		} else {
			return lqd_spec_err(err, errlen, "disks[%u]: unknown member '%.40s' (path, readonly, format)",
					    i, m->string);
		}
		if (rc)
			return rc;
	}
	if (!out->path)
		return lqd_spec_err(err, errlen, "disks[%u]: path is required", i);
	return 0;
}

static int lqd_disks_parse(const cJSON *v, struct lqd_spec *s, char *err, size_t errlen)
{
	const cJSON *d;

	if (!cJSON_IsArray(v))
		return lqd_spec_err(err, errlen, "disks: expected an array");
	if (cJSON_GetArraySize(v) > LQD_MAX_DISKS)
		return lqd_spec_err(err, errlen, "disks: at most %d", LQD_MAX_DISKS);
	cJSON_ArrayForEach(d, v) {
		int rc = lqd_disk_parse(d, s->nr_disks, &s->disks[s->nr_disks], err, errlen);

		s->nr_disks++; /* counted even on failure so lqd_spec_free sees it */
		if (rc)
			return rc;
	}
	return 0;
}

static bool lqd_label_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > LQD_LABEL_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '-' || c == '_' || c == '.' || c == '/'))))
			return false;
	}
	return true;
}

static int lqd_labels_parse(const cJSON *v, struct lqd_spec *s, char *err, size_t errlen)
{
	const cJSON *l;

	if (!cJSON_IsObject(v))
		return lqd_spec_err(err, errlen, "labels: expected an object of strings");
	if (cJSON_GetArraySize(v) > LQD_MAX_LABELS)
		return lqd_spec_err(err, errlen, "labels: at most %d", LQD_MAX_LABELS);
	cJSON_ArrayForEach(l, v) {
		const char *val = cJSON_GetStringValue(l);

		if (!lqd_label_key_ok(l->string))
			return lqd_spec_err(err, errlen,
					    "labels: key '%.70s' is not 1-%d of [A-Za-z0-9._/-] starting alphanumeric",
					    l->string, LQD_LABEL_KEY_MAX);
		if (!val || strlen(val) > LQD_LABEL_VALUE_MAX || !lqd_printable(val))
			return lqd_spec_err(err, errlen,
					    "labels.%s: expected a string of at most %d printable characters",
					    l->string, LQD_LABEL_VALUE_MAX);
		if (cJSON_GetObjectItemCaseSensitive(v, l->string) != l)
			return lqd_spec_err(err, errlen, "labels: key '%s' given twice", l->string);
	}
	s->labels = cJSON_Duplicate(v, true);
	return s->labels ? 0 : -ENOMEM;
}

static int lqd_policy_parse(const cJSON *v, struct lqd_spec *s, char *err, size_t errlen)
{
	const char *p = cJSON_GetStringValue(v);

	for (unsigned i = 0; p && i < sizeof(lqd_policy_names) / sizeof(lqd_policy_names[0]); i++) {
		if (!strcmp(p, lqd_policy_names[i])) {
			s->restart_policy = (enum lqd_restart_policy)i;
			return 0;
		}
	}
	return lqd_spec_err(err, errlen, "restart_policy: expected never, on-failure or always");
}

static int lqd_string(const cJSON *v, const char *key, size_t max, char **out, char *err,
		      size_t errlen)
{
	const char *s = cJSON_GetStringValue(v);

	if (!s || strlen(s) > max || !lqd_printable(s))
		return lqd_spec_err(err, errlen, "%s: expected a string of at most %zu printable characters",
				    key, max);
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int lqd_bool(const cJSON *v, const char *key, bool *out, char *err, size_t errlen)
{
	if (!cJSON_IsBool(v))
		return lqd_spec_err(err, errlen, "%s: expected true or false", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* One member of the spec object. */
static int lqd_member(const cJSON *m, const struct lqd_spec_limits *lim, struct lqd_spec *s,
		      bool *start, char *err, size_t errlen)
{
	const char *k = m->string;
	uint64_t n = 0;
	int rc;

	if (!strcmp(k, "name")) {
		const char *name = cJSON_GetStringValue(m);

		if (!name || !lqd_spec_name_ok(name))
			return lqd_spec_err(err, errlen,
					    "name: expected 1-63 of [a-z0-9-], starting with a letter or digit");
		strcpy(s->name, name);
		return 0;
	}
	if (!strcmp(k, "cpus")) {
		rc = lqd_uint(m, k, 1, LQD_MAX_CPUS, &n, err, errlen);
		s->cpus = (unsigned)n;
		return rc;
	}
	if (!strcmp(k, "memory_mib")) {
		if (lim->host_memory_mib < LQD_MIN_MEMORY_MIB)
			return lqd_spec_err(err, errlen, "memory_mib: the host has too little memory");
		return lqd_uint(m, k, LQD_MIN_MEMORY_MIB, lim->host_memory_mib, &s->memory_mib, err,
				errlen);
	}
	if (!strcmp(k, "kernel"))
		return lqd_path(m, k, false, &s->kernel, err, errlen);
	if (!strcmp(k, "initrd"))
		return lqd_path(m, k, false, &s->initrd, err, errlen);
	if (!strcmp(k, "cmdline"))
		return lqd_string(m, k, LQD_CMDLINE_MAX, &s->cmdline, err, errlen);
	if (!strcmp(k, "disks"))
		return lqd_disks_parse(m, s, err, errlen);
	if (!strcmp(k, "rng"))
		return lqd_bool(m, k, &s->rng, err, errlen);
	if (!strcmp(k, "labels"))
		return lqd_labels_parse(m, s, err, errlen);
	if (!strcmp(k, "restart_policy"))
		return lqd_policy_parse(m, s, err, errlen);
	if (start && !strcmp(k, "start"))
		return lqd_bool(m, k, start, err, errlen);
	return lqd_spec_err(err, errlen,
			    "unknown member '%.40s' (name, cpus, memory_mib, kernel, initrd, cmdline, disks, rng, labels, restart_policy%s)",
			    k, start ? ", start" : "");
}

int lqd_spec_parse(const cJSON *obj, const struct lqd_spec_limits *lim, struct lqd_spec *out,
		   bool *start, char *err, size_t errlen)
{
	const cJSON *m;
	int rc = 0;

	*out = (struct lqd_spec){ .cpus = 1, .restart_policy = LQD_RESTART_ON_FAILURE };
	if (start)
		*start = false;
	if (!cJSON_IsObject(obj)) {
		rc = lqd_spec_err(err, errlen, "expected a JSON object");
		goto out;
	}
	cJSON_ArrayForEach(m, obj) {
		/* cJSON keeps duplicate keys; the first one is what a lookup
		 * finds, so a second would be silently ignored: refuse it. */
		if (cJSON_GetObjectItemCaseSensitive(obj, m->string) != m) {
			rc = lqd_spec_err(err, errlen, "member '%.40s' given twice", m->string);
			goto out;
		}
		rc = lqd_member(m, lim, out, start, err, errlen);
		if (rc)
			goto out;
	}
	if (!out->name[0])
		rc = lqd_spec_err(err, errlen, "name is required");
	else if (!out->memory_mib)
		rc = lqd_spec_err(err, errlen, "memory_mib is required");
	else if (!out->kernel)
		rc = lqd_spec_err(err, errlen, "kernel is required");
	else if (!out->cmdline && !(out->cmdline = strdup("")))
		rc = -ENOMEM;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc)
		lqd_spec_free(out);
	return rc;
}

cJSON *lqd_spec_to_json(const struct lqd_spec *s)
{
	cJSON *o = cJSON_CreateObject(), *disks;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddNumberToObject(o, "cpus", s->cpus);
	cJSON_AddNumberToObject(o, "memory_mib", (double)s->memory_mib);
	cJSON_AddStringToObject(o, "kernel", s->kernel);
	if (s->initrd)
		cJSON_AddStringToObject(o, "initrd", s->initrd);
	cJSON_AddStringToObject(o, "cmdline", s->cmdline);
	disks = cJSON_AddArrayToObject(o, "disks");
	for (unsigned i = 0; disks && i < s->nr_disks; i++) {
		cJSON *d = cJSON_CreateObject();

		if (!d)
			break;
		cJSON_AddStringToObject(d, "path", s->disks[i].path);
		cJSON_AddBoolToObject(d, "readonly", s->disks[i].readonly);
		if (s->disks[i].format[0])
			cJSON_AddStringToObject(d, "format", s->disks[i].format);
		cJSON_AddItemToArray(disks, d);
	}
	cJSON_AddBoolToObject(o, "rng", s->rng);
	cJSON_AddItemToObject(o, "labels", s->labels ? cJSON_Duplicate(s->labels, true)
						     : cJSON_CreateObject());
	cJSON_AddStringToObject(o, "restart_policy", lqd_restart_policy_name(s->restart_policy));
	return o;
}

void lqd_spec_free(struct lqd_spec *s)
{
	free(s->kernel);
	free(s->initrd);
	free(s->cmdline);
	for (unsigned i = 0; i < s->nr_disks; i++)
		free(s->disks[i].path);
	cJSON_Delete(s->labels);
	*s = (struct lqd_spec){ 0 };
}
