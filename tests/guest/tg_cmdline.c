/* Command line options (space separated, see README.md). Unknown words
 * are reported, not fatal: a harness may pass options meant for other
 * guests, and a typo should show up in the log rather than hang a test. */
#include "tg_boot.h"
#include "tg_console.h"
#include "tg_string.h"

static const char *tg_skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return s;
}

static size_t tg_word_len(const char *s, char stop)
{
	size_t n = 0;

	while (s[n] && s[n] != ' ' && s[n] != '\t' && s[n] != '\n' && s[n] != stop)
		n++;
	return n;
}

/* tests=a,b,c */
static unsigned tg_parse_tests(const char *s, size_t len)
{
	unsigned tests = 0;

	while (len) {
		size_t n = tg_word_len(s, ',');

		if (n > len)
			n = len;
		if (tg_streq_n(s, n, "mem"))
			tests |= TG_TEST_MEM;
		else if (tg_streq_n(s, n, "smp"))
			tests |= TG_TEST_SMP;
		else if (tg_streq_n(s, n, "timer"))
			tests |= TG_TEST_TIMER;
		else if (tg_streq_n(s, n, "blk"))
			tests |= TG_TEST_BLK;
		else if (tg_streq_n(s, n, "blkbad"))
			tests |= TG_TEST_BLKBAD;
		else if (tg_streq_n(s, n, "rng"))
			tests |= TG_TEST_RNG;
		else if (tg_streq_n(s, n, "console"))
			tests |= TG_TEST_CONSOLE;
		else if (tg_streq_n(s, n, "msix"))
			tests |= TG_TEST_MSIX;
		else if (tg_streq_n(s, n, "pcicfg"))
			tests |= TG_TEST_PCICFG;
		else if (tg_streq_n(s, n, "pcicfgbad"))
			tests |= TG_TEST_PCICFGBAD;
		else if (tg_streq_n(s, n, "net"))
			tests |= TG_TEST_NET;
		else if (tg_streq_n(s, n, "netmq"))
			tests |= TG_TEST_NETMQ;
		else if (tg_streq_n(s, n, "all"))
			tests |= TG_TEST_ALL;
		else if (n)
			tg_printf("LQTG: unknown test '%.*s' ignored\n", (int)n, s);
		s += n;
		len -= n;
		if (len && *s == ',') {
			s++;
			len--;
		}
	}
	return tests;
}

static void tg_parse_word(const char *w, size_t n, struct tg_opts *o)
{
	if (tg_streq_n(w, n, "bench"))
		o->bench = true;
	else if (tg_streq_n(w, n, "bench=blk"))
		o->bench_blk = true;
	else if (tg_streq_n(w, n, "bench=net"))
		o->bench_net = true;
	else if (tg_streq_n(w, n, "fail"))
		o->fail = true;
	else if (tg_streq_n(w, n, "idle"))
		o->idle = true;
	else if (tg_streq_n(w, n, "exit=triple"))
		o->triple = true;
	else if (tg_streq_n(w, n, "exit=reset"))
		o->reset = true;
	else if (tg_streq_n(w, n, "wait=powerbutton"))
		o->wait_pwrbtn = true;
	else if (tg_streq_n(w, n, "pages=2m"))
		o->pages_2m = true;
	else if (n >= 6 && !memcmp(w, "tests=", 6))
		o->tests = tg_parse_tests(w + 6, n - 6);
	else
		tg_printf("LQTG: unknown option '%.*s' ignored\n", (int)n, w);
}

void tg_opts_parse(const char *s, struct tg_opts *o)
{
	*o = (struct tg_opts){ .tests = TG_TEST_ALL };
	for (s = tg_skip_spaces(s); *s; s = tg_skip_spaces(s)) {
		size_t n = tg_word_len(s, 0);

		tg_parse_word(s, n, o);
		s += n;
	}
}
