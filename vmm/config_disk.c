/* --disk path=FILE,format=raw|qcow2,readonly=on|off,direct=on|off,serial=ID */
#include "vmm/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

static int config_onoff(const char *arg, const char *key, const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else {
		log_error("--disk %s: %s=%s: expected on or off", arg, key, v);
		return -EINVAL;
	}
	return 0;
}

/* Splits in place: the strings of disk_config point into a copy that
 * lives as long as the process (argv does too). */
int config_parse_disk(const char *arg, struct disk_config *d)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int err = 0;

	*d = (struct disk_config){ 0 };
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			if (d->path) {
				log_error("--disk %s: '%s' is not key=value", arg, tok);
				err = -EINVAL;
			}
			d->path = tok; /* a bare path */
			continue;
		}
		*eq = '\0';
		if (!strcmp(tok, "path")) {
			d->path = eq + 1;
		} else if (!strcmp(tok, "format")) {
			if (!strcmp(eq + 1, "raw")) {
				d->format = BLK_FORMAT_RAW;
			} else if (!strcmp(eq + 1, "qcow2")) {
				d->format = BLK_FORMAT_QCOW2;
			} else {
				log_error("--disk %s: format is raw or qcow2, not '%s'", arg, eq + 1);
				err = -EINVAL;
			}
		} else if (!strcmp(tok, "readonly")) {
			err = config_onoff(arg, tok, eq + 1, &d->read_only);
		} else if (!strcmp(tok, "direct")) {
			err = config_onoff(arg, tok, eq + 1, &d->direct);
		} else if (!strcmp(tok, "serial")) {
			if (strlen(eq + 1) > DISK_SERIAL_MAX) {
				log_error("--disk %s: serial is at most %d characters", arg,
					  DISK_SERIAL_MAX);
				err = -EINVAL;
			}
			snprintf(d->serial, sizeof(d->serial), "%s", eq + 1);
		} else {
			log_error("--disk %s: unknown key '%s' (path, format, readonly, direct, serial)", arg, tok);
			err = -EINVAL;
		}
	}
	if (!err && (!d->path || !*d->path)) {
		log_error("--disk %s: no path= given", arg);
		err = -EINVAL;
	}
	return err;
}
