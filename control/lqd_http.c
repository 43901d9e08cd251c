/* lqd's HTTP plumbing (control/lqd_http.h): the unix socket, the
 * libmicrohttpd daemon inside lqd's epoll loop, request bodies with a
 * size limit, replies, and suspend/resume for requests that wait. */
#include "control/lqd_http.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/http_body.h"
#include "common/log.h"

#define LQD_CONN_TIMEOUT_S 30
#define LQD_CONN_LIMIT 256

/* Binds path with mode 0660. A socket file nobody answers on is a
 * leftover of a crashed lqd and is replaced; a live one means another
 * lqd owns it, and two supervisors of the same VMs must not run. */
static int lqd_http_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("--socket %s: path too long for a unix socket (at most %zu bytes)", path,
			  sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		log_error("%s: another lqd is serving this socket; stop it first", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0660) || listen(fd, 128)) {
		int e = errno;

		log_error("%s: cannot listen: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

const char *lqd_req_arg(struct lqd_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

int lqd_req_json(struct lqd_req *r, cJSON **out)
{
	const char *end = NULL;

	*out = NULL;
	if (!r->len)
		return 0;
	/* The buffer has a NUL after the body; one inside it would end
	 * the parse early and hide what follows. */
	if (strlen(r->body) != r->len) {
		lqd_reply_error(r, 400, "malformed JSON body: it contains a NUL byte");
		return -EINVAL;
	}
	*out = cJSON_ParseWithLengthOpts(r->body, r->len + 1, &end, true);
	if (!*out) {
		lqd_reply_error(r, 400, "malformed JSON body near byte %td",
				end ? end - r->body : (ptrdiff_t)0);
		return -EINVAL;
	}
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		lqd_reply_error(r, 400, "the body must be a JSON object");
		return -EINVAL;
	}
	return 0;
}

void lqd_reply_buf(struct lqd_req *r, unsigned status, const char *ctype, char *buf, size_t len)
{
	free(r->resp);
	r->has_reply = true;
	r->status = status;
	r->ctype = ctype;
	r->resp = buf;
	r->resp_len = len;
}

void lqd_reply_empty(struct lqd_req *r, unsigned status)
{
	lqd_reply_buf(r, status, NULL, NULL, 0);
}

void lqd_reply_json(struct lqd_req *r, unsigned status, cJSON *o)
{
	char *text = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (!text) {
		lqd_reply_error(r, 500, "out of memory building the reply");
		return;
	}
	lqd_reply_buf(r, status, "application/json", text, strlen(text));
}

void lqd_reply_error(struct lqd_req *r, unsigned status, const char *fmt, ...)
{
	char msg[512], *text;
	cJSON *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = cJSON_CreateObject();
	if (o)
		cJSON_AddStringToObject(o, "error", msg);
	text = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!text) {
		/* nothing to say it with: an empty 500 still tells the client */
		lqd_reply_buf(r, 500, NULL, NULL, 0);
		return;
	}
	lqd_reply_buf(r, status, "application/json", text, strlen(text));
}

void lqd_req_suspend(struct lqd_req *r)
{
	r->suspended = true;
	MHD_suspend_connection(r->conn);
}

void lqd_req_finish(struct lqd_req *r)
{
	if (!r->suspended)
		return; /* still inside its handler: the reply goes out on return */
	r->suspended = false;
	MHD_resume_connection(r->conn);
}

static enum MHD_Result lqd_http_send(struct lqd_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (char *)"",
					       r->resp ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	r->resp = NULL; /* the response owns it now */
	if (r->ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	if (r->hdr_name[0])
		MHD_add_response_header(resp, r->hdr_name, r->hdr_value);
	if (r->hdr2_name[0])
		MHD_add_response_header(resp, r->hdr2_name, r->hdr2_value);
	ret = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void lqd_http_collect(struct lqd_req *r, const char *data, size_t *size)
{
	http_body_collect(&r->body, &r->len, &r->too_big, LQD_BODY_MAX, data, size);
}

static enum MHD_Result lqd_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
				       const char *method, const char *version, const char *data,
				       size_t *size, void **con_cls)
{
	struct lqd *d = cls;
	struct lqd_req *r = *con_cls;

	(void)version;
	if (!r) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->d = d;
		r->conn = conn;
		r->method = method;
		r->timer.fd = -1;
		*con_cls = r;
		/* Refused on its headers, before a byte of the body is read. */
		if (cl && strtoull(cl, NULL, 10) > LQD_BODY_MAX) {
			r->too_big = true;
			r->dispatched = true;
			lqd_reply_error(r, 413, "request body too large: at most %u bytes", LQD_BODY_MAX);
			r->has_reply = false; /* sent now: never twice */
			return lqd_http_send(r);
		}
		return MHD_YES;
	}
	if (*size) {
		lqd_http_collect(r, data, size);
		return MHD_YES;
	}
	if (!r->dispatched) {
		r->dispatched = true;
		if (r->too_big)
			lqd_reply_error(r, 413, "request body too large: at most %u bytes", LQD_BODY_MAX);
		else
			lqd_api_route(d, r, method, url);
	}
	if (r->suspended || !r->has_reply)
		return MHD_YES; /* answered later, from the loop */
	r->has_reply = false;
	return lqd_http_send(r);
}

static void lqd_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			       enum MHD_RequestTerminationCode toe)
{
	struct lqd_req *r = *con_cls;

	(void)conn, (void)toe;
	if (!r)
		return;
	lqd_timer_cancel((struct lqd *)cls, &r->timer);
	free(r->body);
	free(r->resp);
	free(r);
	*con_cls = NULL;
}

static void lqd_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

static int lqd_http_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decoding of the path and query, in place, as MHD's own does,
 * except that %00 and %2F stay as they are: decoded, %00 would cut
 * "/v1/vms/a%00x" to the VM "a" and %2F would turn "/v1/vms/a%2Fstop"
 * into a stop; kept, the name check refuses both. (No query value of
 * this API needs either.) */
static size_t lqd_http_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *out = s;

	(void)cls, (void)conn;
	for (char *in = s; *in; in++) {
		int hi = in[0] == '%' ? lqd_http_hex(in[1]) : -1;
		int lo = hi >= 0 ? lqd_http_hex(in[2]) : -1;

		if (lo >= 0 && (hi | lo) && (hi << 4 | lo) != '/') {
			*out++ = (char)(hi << 4 | lo);
			in += 2;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
	return (size_t)(out - s);
}

/* The loop saw MHD's epoll fd readable. MHD_run also runs after every
 * loop round (lqd_loop), for timeouts and resumed requests. */
static void lqd_http_ready(struct lqd *d, void *ctx, uint32_t events)
{
	(void)ctx, (void)events;
	MHD_run(d->mhd);
}

int lqd_http_start(struct lqd *d)
{
	const union MHD_DaemonInfo *info;
	int fd = lqd_http_listen(d->socket_path);

	if (fd < 0)
		return fd;
	d->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
				  NULL, NULL, lqd_http_handle, d,
				  /* first, so MHD's own start-up messages go through it too */
				  MHD_OPTION_EXTERNAL_LOGGER, lqd_http_mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_UNESCAPE_CALLBACK, lqd_http_unescape, NULL,
				  MHD_OPTION_NOTIFY_COMPLETED, lqd_http_completed, d,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LQD_CONN_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)LQD_CONN_LIMIT,
				  MHD_OPTION_END);
	if (!d->mhd) {
		log_error("%s: cannot start the HTTP server", d->socket_path);
		close(fd);
		unlink(d->socket_path);
		return -EIO;
	}
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || lqd_loop_add(d, &d->mhdw, dup(info->epoll_fd), lqd_http_ready, NULL)) {
		log_error("cannot watch the HTTP server's epoll fd");
		lqd_http_stop(d);
		return -EIO;
	}
	return 0;
}

void lqd_http_stop(struct lqd *d)
{
	if (!d->mhd)
		return;
	if (d->mhdw.fn)
		lqd_loop_del(d, &d->mhdw);
	MHD_stop_daemon(d->mhd);
	d->mhd = NULL;
	unlink(d->socket_path);
}
