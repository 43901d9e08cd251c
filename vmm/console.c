#include "vmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A */

static void console_backlog_add(struct console *c, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		c->backlog[(c->backlog_head + c->backlog_len) % CONSOLE_BACKLOG] = p[i];
		if (c->backlog_len < CONSOLE_BACKLOG)
			c->backlog_len++;
		else
			c->backlog_head = (c->backlog_head + 1) % CONSOLE_BACKLOG;
	}
}

/* Sends the backlog to a newly attached client (lock held). */
static void console_backlog_replay(struct console *c, int fd)
{
	size_t first = c->backlog_len;

	if (c->backlog_head + first > CONSOLE_BACKLOG)
		first = CONSOLE_BACKLOG - c->backlog_head;
	/* Best effort: a client too slow to take it loses the history only. */
	if (send(fd, c->backlog + c->backlog_head, first, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)first &&
	    c->backlog_len > first)
		send(fd, c->backlog, c->backlog_len - first, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void console_write(void *ctx, const void *buf, size_t len)
{
	struct console *c = ctx;
	const uint8_t *p = buf;
	int fd;

	pthread_mutex_lock(&c->lock);
	if (c->mode == SERIAL_UNIX)
		console_backlog_add(c, p, len);
	fd = c->mode == SERIAL_UNIX ? c->client_fd : c->out_fd;
	while (fd >= 0 && len) {
		ssize_t n = c->mode == SERIAL_UNIX ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A client that went away only loses the console. */
			if (c->mode == SERIAL_UNIX) {
				close(c->client_fd);
				c->client_fd = -1;
			}
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	pthread_mutex_unlock(&c->lock);
}

static void console_rx_space(void *ctx)
{
	struct console *c = ctx;
	uint64_t one = 1;

	if (write(c->space_efd, &one, sizeof(one)) < 0)
		log_debug("console: cannot signal input space: %s", strerror(errno));
}

void console_sink(struct console *c, struct serial_sink *sink)
{
	*sink = (struct serial_sink){ console_write, console_rx_space, c };
}

static int console_listen(struct console *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(addr.sun_path)) {
		log_error("--serial unix:%s: path longer than %zu bytes", path, sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	c->path = path;
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0)
		return -errno;
	unlink(path);
	if (bind(c->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    chmod(path, 0600) < 0 || listen(c->listen_fd, 2) < 0) {
		log_error("--serial unix:%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int console_open(struct console *c, const struct vm_config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->mode = cfg->serial;
	c->in_fd = c->out_fd = c->listen_fd = c->client_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	c->space_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->space_efd < 0)
		return -errno;
	switch (c->mode) {
	case SERIAL_STDIO:
		c->in_fd = STDIN_FILENO;
		c->out_fd = STDOUT_FILENO;
		if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved) == 0) {
			struct termios raw = c->saved;

			/* Raw mode: keys such as Ctrl-C go to the guest. */
			cfmakeraw(&raw);
			raw.c_oflag |= OPOST | ONLCR;
			tcsetattr(STDIN_FILENO, TCSANOW, &raw);
			c->tty = true;
			log_info("console on this terminal; type Ctrl-A x to quit");
		}
		return 0;
	case SERIAL_FILE:
		c->out_fd = open(cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (c->out_fd < 0) {
			log_error("--serial file:%s: %s", cfg->serial_path, strerror(errno));
			return -errno;
		}
		return 0;
	case SERIAL_UNIX:
		return console_listen(c, cfg->serial_path);
	case SERIAL_NONE:
		return 0;
	}
	return -EINVAL;
}

void console_close(struct console *c)
{
	if (c->tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	if (c->mode == SERIAL_FILE && c->out_fd >= 0)
		close(c->out_fd);
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
	}
	if (c->client_fd >= 0)
		close(c->client_fd);
	if (c->space_efd >= 0)
		close(c->space_efd);
	pthread_mutex_destroy(&c->lock);
	c->tty = false;
	c->listen_fd = c->client_fd = c->space_efd = -1;
}

int console_input_fd(struct console *c)
{
	int fd = c->mode == SERIAL_UNIX ? c->client_fd : c->in_fd;

	if (fd < 0 || !c->serial || !serial_rx_free(c->serial))
		return -1;
	return fd;
}

/* Handles the Ctrl-A escape on a terminal; returns bytes kept in buf. */
static size_t console_escape(struct console *c, uint8_t *buf, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		if (c->escape) {
			c->escape = false;
			if (buf[i] == 'x' || buf[i] == 'X') {
				c->quit = true;
				continue;
			}
			if (buf[i] != CONSOLE_ESCAPE)
				buf[out++] = CONSOLE_ESCAPE;
		} else if (buf[i] == CONSOLE_ESCAPE) {
			c->escape = true;
			continue;
		}
		buf[out++] = buf[i];
	}
	return out;
}

int console_pump(struct console *c, int fd)
{
	uint8_t buf[SERIAL_RX_SIZE];
	size_t room = serial_rx_free(c->serial);
	ssize_t n;

	if (!room)
		return 0;
	n = read(fd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		if (c->mode == SERIAL_UNIX) {
			pthread_mutex_lock(&c->lock);
			close(c->client_fd);
			c->client_fd = -1;
			pthread_mutex_unlock(&c->lock);
		} else {
			c->in_fd = -1; /* stdin closed: the guest keeps running */
		}
		return -1;
	}
	if (c->tty)
		n = (ssize_t)console_escape(c, buf, (size_t)n);
	serial_receive(c->serial, buf, (size_t)n);
	return 0;
}

int console_accept(struct console *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return errno == EAGAIN ? 0 : -errno;
	pthread_mutex_lock(&c->lock);
	if (c->client_fd >= 0)
		close(c->client_fd); /* the newest client takes the console over */
	c->client_fd = fd;
	console_backlog_replay(c, fd);
	pthread_mutex_unlock(&c->lock);
	return 0;
}
