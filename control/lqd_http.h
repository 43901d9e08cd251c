/* control/lqd_http: the HTTP side of lqd. libmicrohttpd in external
 * mode with its epoll fd inside lqd's loop; one struct lqd_req per
 * request. A handler either sets a reply at once or suspends the
 * request and sets the reply later from the loop (lqd_req_finish). */
#ifndef LQ_CONTROL_LQD_HTTP_H
#define LQ_CONTROL_LQD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "control/lqd.h"

#define LQD_BODY_MAX (64u * 1024) /* larger bodies get 413 */

struct cJSON;
struct MHD_Connection;

struct lqd_req {
	struct lqd *d;
	struct MHD_Connection *conn;
	const char *method;
	char *body;
	size_t len;
	bool too_big;
	bool dispatched;
	bool suspended;
	/* the reply, once set */
	bool has_reply;
	unsigned status;
	const char *ctype;
	char *resp;
	size_t resp_len;
	const char *allow;
	char hdr_name[32], hdr_value[64];   /* one extra header, when set */
	char hdr2_name[32], hdr2_value[32];
	/* for handlers that wait (events, console): a deadline and a list */
	struct lqd_watch timer;
	struct lqd_req *wnext;
	char wname[LQD_NAME_MAX + 1];
	unsigned long long warg;
	int wd;                 /* console follow: the inotify watch */
};

int lqd_http_start(struct lqd *d);
void lqd_http_stop(struct lqd *d);

/* Query argument, or NULL. */
const char *lqd_req_arg(struct lqd_req *r, const char *key);
/* The body as a JSON object (empty body: NULL object and 0). -EINVAL
 * with a 400 reply already set when it is not valid JSON. */
int lqd_req_json(struct lqd_req *r, struct cJSON **out);

/* Reply setters: take ownership of what they are given. */
void lqd_reply_json(struct lqd_req *r, unsigned status, struct cJSON *o);
void lqd_reply_error(struct lqd_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void lqd_reply_buf(struct lqd_req *r, unsigned status, const char *ctype, char *buf, size_t len);
void lqd_reply_empty(struct lqd_req *r, unsigned status);

/* The handler keeps r and answers later; lqd_req_finish (after a reply
 * setter) sends it. */
void lqd_req_suspend(struct lqd_req *r);
void lqd_req_finish(struct lqd_req *r);

/* The router (lqd_api_vms.c); the host and event handlers. */
void lqd_api_route(struct lqd *d, struct lqd_req *r, const char *method, const char *url);
void lqd_api_host(struct lqd *d, struct lqd_req *r);
void lqd_api_events(struct lqd *d, struct lqd_req *r);
void lqd_api_console(struct lqd *d, struct lqd_req *r, struct lqd_vm *vm);
/* vm's process is gone while a stop or delete waited for it: answer
 * that request (a delete then frees vm). */
void lqd_api_pending_done(struct lqd *d, struct lqd_vm *vm);
/* Daemon shutdown: answer every waiting request (503 or what it has). */
void lqd_events_flush(struct lqd *d);
void lqd_console_flush(struct lqd *d);

#endif
