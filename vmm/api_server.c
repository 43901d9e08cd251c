/* The HTTP side of the API: the unix socket, libmicrohttpd on the API
 * thread, request bodies with a size limit, and the hand-off of each
 * call to the main thread (vmm/api.h explains the threads). */
#include "vmm/api.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/http_body.h"
#include "common/log.h"

#define API_CONN_TIMEOUT_S 30   /* idle or half-sent requests are dropped */
#define API_CONN_LIMIT 64
#define API_CONN_MEMORY (32 * 1024) /* per connection: request line and headers */
#define API_DRAIN_MS 2000       /* api_stop waits this long for replies in flight */

/* One call handed to the main thread; lives on the API thread's stack. */
struct api_call {
	enum api_op op;
	struct api_args args;
	struct api_reply reply;
	bool done;
	struct api_call *next;
};

/* One request being received (libmicrohttpd's per-request pointer). */
struct api_req {
	char *body;
	size_t len;
	bool too_big;
};

struct api {
	struct MHD_Daemon *mhd;
	int listen_fd;
	char *path;
	int efd;                 /* calls waiting for the main thread */
	pthread_mutex_t lock;
	pthread_cond_t cond;     /* a call is done, closing, or inflight dropped */
	struct api_call *calls;  /* waiting for api_service */
	bool closing;
	unsigned inflight;       /* requests between first sight and completion */
	struct api_vm_state st;  /* main thread only */
};

int api_fd(const struct api *a)
{
	return a->efd;
}

void api_attach(struct api *a, struct vm *vm)
{
	if (!a)
		return;
	a->st.vm = vm;
	a->st.boots++;
	a->st.shutting_down = false;
	clock_gettime(CLOCK_MONOTONIC, &a->st.boot);
}

void api_detach(struct api *a)
{
	if (!a)
		return;
	a->st.vm = NULL;
}

void api_service(struct api *a)
{
	struct api_call *list;
	eventfd_t n;

	if (!a || !a->st.vm)
		return; /* between boots: the calls wait for the next VM */
	eventfd_read(a->efd, &n);
	pthread_mutex_lock(&a->lock);
	list = a->calls;
	a->calls = NULL;
	pthread_mutex_unlock(&a->lock);
	while (list) {
		struct api_call *c = list;

		list = c->next;
		api_vm_run(&a->st, c->op, &c->args, &c->reply);
		pthread_mutex_lock(&a->lock);
		c->done = true;
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
	}
}

/* API thread: queue c for the main thread and wait for its reply. Only
 * the main thread sets closing, and never while it runs a call, so a
 * call that is not done when closing is seen is still on the list. */
static void api_call_main(struct api *a, struct api_call *c)
{
	pthread_mutex_lock(&a->lock);
	if (!a->closing) {
		c->next = a->calls;
		a->calls = c;
		if (eventfd_write(a->efd, 1) < 0)
			log_warn("api: cannot wake the main thread: %s", strerror(errno));
		while (!c->done && !a->closing)
			pthread_cond_wait(&a->cond, &a->lock);
	}
	if (!c->done) {
		for (struct api_call **p = &a->calls; *p; p = &(*p)->next) {
			if (*p == c) {
				*p = c->next;
				break;
			}
		}
	}
	pthread_mutex_unlock(&a->lock);
	if (!c->done)
		api_reply_error(&c->reply, 503, "lq-vmm is stopping; the VM is gone");
}

static enum MHD_Result api_send(struct MHD_Connection *conn, struct api_reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!r->body)
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(strlen(r->body), r->body,
						       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(r->body);
		return MHD_NO;
	}
	r->body = NULL; /* the response owns it now */
	if (r->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result api_fail(struct MHD_Connection *conn, unsigned status, const char *msg,
				const char *allow)
{
	struct api_reply r = { .allow = allow };

	api_reply_error(&r, status, "%s", msg);
	return api_send(conn, &r);
}

/* First sight of a request (headers in): refuse what is too big now,
 * before its body is read. */
static enum MHD_Result api_begin(struct api *a, struct MHD_Connection *conn, void **con_cls)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct api_req *r = calloc(1, sizeof(*r));

	if (!r)
		return MHD_NO;
	*con_cls = r;
	pthread_mutex_lock(&a->lock);
	a->inflight++;
	pthread_mutex_unlock(&a->lock);
	if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX) {
		r->too_big = true;
		return api_fail(conn, 413, "request body too large: at most 65536 bytes", NULL);
	}
	return MHD_YES;
}

static void api_collect(struct api_req *r, const char *data, size_t *size)
{
	http_body_collect(&r->body, &r->len, &r->too_big, API_BODY_MAX, data, size);
}

static enum MHD_Result api_handle(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct api *a = cls;
	struct api_req *r = *con_cls;
	struct api_call c = { 0 };
	const char *allow = NULL;
	char err[160];
	int rc;

	(void)version;
	if (!r)
		return api_begin(a, conn, con_cls);
	if (*size) {
		api_collect(r, data, size);
		return MHD_YES;
	}
	if (r->too_big)
		return api_fail(conn, 413, "request body too large: at most 65536 bytes", NULL);
	rc = api_route(method, url, &c.op, &allow);
	if (rc == -ENOENT) {
		snprintf(err, sizeof(err), "no such path: %.100s", url);
		return api_fail(conn, 404, err, NULL);
	}
	if (rc == -EPERM) {
		snprintf(err, sizeof(err), "%.100s takes %s, not %.16s", url, allow, method);
		return api_fail(conn, 405, err, allow);
	}
	if (!api_op_is_action(c.op) && r->len)
		return api_fail(conn, 400, "GET requests take no body", NULL);
	if (api_body_parse(r->body, r->len, &c.args, err, sizeof(err)))
		return api_fail(conn, 400, err, NULL);
	api_call_main(a, &c);
	return api_send(conn, &c.reply);
}

static void api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct api *a = cls;
	struct api_req *r = *con_cls;

	(void)conn, (void)toe;
	if (!r)
		return;
	free(r->body);
	free(r);
	*con_cls = NULL;
	pthread_mutex_lock(&a->lock);
	a->inflight--;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

static void api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("api: %s", msg);
}

/* The socket is bound with a tight umask and chmod-ed before listen():
 * nobody but the owner can ever connect. */
static int api_listen(struct api *a, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("--api-socket %s: path too long (at most %zu bytes)", path,
			  sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->listen_fd < 0)
		return -errno;
	unlink(path);
	old = umask(0177);
	err = bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (!err && chmod(path, 0600) < 0)
		err = -errno;
	if (!err && listen(a->listen_fd, 16) < 0)
		err = -errno;
	if (err) {
		log_error("--api-socket %s: %s", path, strerror(-err));
		return err;
	}
	a->path = strdup(path);
	return a->path ? 0 : -ENOMEM;
}

static void api_free(struct api *a)
{
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	if (a->path)
		unlink(a->path);
	if (a->efd >= 0)
		close(a->efd);
	free(a->path);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int api_start(struct api **out, const char *path, const struct vm_config *cfg)
{
	struct api *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return -ENOMEM;
	a->listen_fd = -1;
	a->st.cfg = cfg;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = a->efd < 0 ? -errno : api_listen(a, path);
	if (err) {
		api_free(a);
		return err;
	}
	a->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
				  0, NULL, NULL, api_handle, a,
				  MHD_OPTION_LISTEN_SOCKET, a->listen_fd,
				  MHD_OPTION_NOTIFY_COMPLETED, api_completed, a,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONN_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONN_LIMIT,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
				  MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, NULL,
				  MHD_OPTION_END);
	if (!a->mhd) {
		log_error("--api-socket %s: cannot start the HTTP server (libmicrohttpd)", path);
		api_free(a);
		return -EIO;
	}
	a->listen_fd = -1; /* MHD_stop_daemon closes it */
	log_info("API listening on %s", path);
	*out = a;
	return 0;
}

void api_stop(struct api *a)
{
	struct timespec deadline;

	if (!a)
		return;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += API_DRAIN_MS / 1000;
	pthread_mutex_lock(&a->lock);
	a->closing = true;
	pthread_cond_broadcast(&a->cond);
	/* The reply to a poweroff is usually still on its way out. */
	while (a->inflight && pthread_cond_timedwait(&a->cond, &a->lock, &deadline) == 0)
		;
	pthread_mutex_unlock(&a->lock);
	MHD_stop_daemon(a->mhd);
	api_free(a);
}
