/* 8250/16550 UART on COM1, polled. Initialised even though QEMU and
 * lq-vmm accept output on a cold UART: real hardware (and stricter
 * models) need a line setting before THR means anything. */
#include "tg_arch.h"
#include "tg_console.h"

#define TG_COM1 0x3f8
#define TG_UART_THR 0
#define TG_UART_IER 1
#define TG_UART_DLL 0
#define TG_UART_DLM 1
#define TG_UART_FCR 2
#define TG_UART_LCR 3
#define TG_UART_MCR 4
#define TG_UART_LSR 5
#define TG_LCR_DLAB 0x80
#define TG_LCR_8N1 0x03
#define TG_LSR_THRE 0x20
#define TG_UART_FIFO 16
/* Bounded wait for THRE: a missing UART reads 0xff (THRE set), a stuck
 * one must not hang the guest. Each poll is a VM exit, so keep it low. */
#define TG_UART_SPIN 10000

void tg_serial_init(void)
{
	tg_outb(TG_COM1 + TG_UART_IER, 0);
	tg_outb(TG_COM1 + TG_UART_LCR, TG_LCR_DLAB);
	tg_outb(TG_COM1 + TG_UART_DLL, 1); /* 115200 baud */
	tg_outb(TG_COM1 + TG_UART_DLM, 0);
	tg_outb(TG_COM1 + TG_UART_LCR, TG_LCR_8N1);
	tg_outb(TG_COM1 + TG_UART_FCR, 0x07); /* FIFO on, both cleared */
	tg_outb(TG_COM1 + TG_UART_MCR, 0x03); /* DTR, RTS */
}

/* THRE means the transmit FIFO is empty: then 16 bytes fit without
 * another poll, which halves the VM exits per character. */
void tg_serial_write(const char *s, unsigned n)
{
	while (n) {
		unsigned chunk = n < TG_UART_FIFO ? n : TG_UART_FIFO;

		for (unsigned i = 0; i < TG_UART_SPIN; i++)
			if (tg_inb(TG_COM1 + TG_UART_LSR) & TG_LSR_THRE)
				break;
		for (unsigned i = 0; i < chunk; i++)
			tg_outb(TG_COM1 + TG_UART_THR, (uint8_t)s[i]);
		s += chunk;
		n -= chunk;
	}
}
