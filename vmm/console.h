/* vmm/console: the host side of the serial port (--serial): stdio (raw
 * terminal, Ctrl-A x quits), an output file, or a unix socket that one
 * client at a time may attach to. Input is read by the event loop only
 * while the UART has room, so nothing typed or pasted is dropped. */
#ifndef LQ_VMM_CONSOLE_H
#define LQ_VMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "devices/serial.h"
#include "vmm/config.h"

#define CONSOLE_BACKLOG 65536

struct console {
	enum serial_mode mode;
	int in_fd, out_fd;     /* stdio or file */
	int listen_fd;         /* unix */
	const char *path;      /* unix: removed again on close */
	int client_fd;         /* unix: the attached client, or -1 */
	int space_efd;         /* UART receive buffer has room again */
	bool tty;
	bool escape;           /* last input byte was Ctrl-A */
	bool quit;             /* user typed Ctrl-A x */
	struct termios saved;
	pthread_mutex_t lock;  /* client_fd, backlog vs vCPU-thread writes */
	/* unix: the last CONSOLE_BACKLOG bytes of output, replayed to each
	 * client that attaches, so boot messages are not lost. */
	uint8_t backlog[CONSOLE_BACKLOG];
	size_t backlog_head, backlog_len;
	struct serial *serial;
};

int console_open(struct console *c, const struct vm_config *cfg);
void console_close(struct console *c);
void console_sink(struct console *c, struct serial_sink *sink);
/* Input fd to watch now (-1 if none or the UART is full). */
int console_input_fd(struct console *c);
/* Reads what the UART can take from fd and feeds it; -1 on EOF/hang-up. */
int console_pump(struct console *c, int fd);
/* Accepts (or replaces) the unix-socket client. */
int console_accept(struct console *c);

#endif
