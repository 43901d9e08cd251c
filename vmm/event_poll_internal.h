/* Shared between event_loop.c and event_poll.c only. */
#ifndef LQ_VMM_EVENT_POLL_INTERNAL_H
#define LQ_VMM_EVENT_POLL_INTERNAL_H

#include "vmm/event_loop.h"

void evl_poll_free(struct evl *l);

#endif
