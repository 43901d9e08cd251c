#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_prog = "limiquantix";
static enum log_level log_level = LOG_INFO;

static const char *const log_names[] = { "debug", "info", "warning", "error" };

void log_init(const char *prog)
{
	const char *env = getenv("LQ_LOG");

	if (prog)
		log_prog = prog;
	if (!env)
		return;
	for (unsigned i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (!strcmp(env, log_names[i]) || (i == LOG_WARN && !strcmp(env, "warn")))
			log_level = (enum log_level)i;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level < log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One fprintf per message so lines from several threads do not interleave. */
	fprintf(stderr, "%s: %s: %s\n", log_prog, log_names[level], buf);
}
