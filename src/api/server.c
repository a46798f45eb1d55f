// SPDX-License-Identifier: MIT
/*
 * server.c - the control API's HTTP side: a Unix socket served by
 * libmicrohttpd from one internal polling thread (epoll).
 *
 * libmicrohttpd parses HTTP; this file only accumulates request bodies (at
 * most API_BODY_MAX bytes, else 413), hands complete requests to
 * api_handle() (routes.c) and queues the replies.  Stalled clients are
 * closed after API_CONN_TIMEOUT_S seconds without progress, at most
 * API_CONN_LIMIT clients are served at once, each with at most
 * API_CONN_MEMORY bytes of buffers; none of this can block a vCPU, which
 * never waits on this thread.
 *
 * Every error answer is a 4xx/5xx with {"fault_message": "..."}, like
 * Firecracker's, wherever libmicrohttpd 0.9.75 lets kite answer at all:
 *   - 413: a Content-Length over API_BODY_MAX (before the body is read), or
 *     a chunked body that grows over it (read and discarded, then 413);
 *   - 431: headers over API_HEADER_MAX.  libmicrohttpd's own memory limit
 *     (API_CONN_MEMORY) is set well above it so that kite sees them first;
 *   - 408: a client that sent the request line and then stalls (in the
 *     headers or in the body) for API_CONN_TIMEOUT_S.  libmicrohttpd only
 *     closes such a connection (MHD_queue_response() refuses a reply until
 *     the whole body is in), but it tells on_completed() before closing the
 *     socket: kite writes a complete 408 with "Connection: close" on the
 *     socket itself there, best effort (non-blocking; nothing else is being
 *     sent on that connection, as no reply was queued).
 * What stays libmicrohttpd's (0.9.75 has no hook to replace its error
 * bodies: they are static HTML strings it queues itself, and it tells the
 * application only through the log callback, without the connection):
 *   - 400 HTML: a header line without ':', a malformed Content-Length, broken
 *     chunked encoding; 413 HTML: a Content-Length over 2^64;
 *   - 431 HTML (414 for the request line): headers over API_CONN_MEMORY;
 *   - 505 HTML: an HTTP version other than 1.0/1.1;
 *   - no answer at all (connection closed): a malformed request line, a
 *     client that stalls before ending the request line (no request exists
 *     yet to answer), a client over API_CONN_LIMIT.
 * These are the only replies without a fault_message; none reaches a
 * handler, so none is counted in the "errors" metric.
 *
 * libmicrohttpd is not linked: api_server_start() loads it (core/dynlib.h),
 * so that only a VM with --api-sock maps it and gnutls.  Every MHD_*
 * function is called through the table mhd (MHD_queue_response() is
 * mhd.queue_response()); microhttpd.h still gives the types and constants.
 */
#include "api/api.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api/json.h"
#include "api/routes.h"
#include "core/dynlib.h"
#include "core/log.h"
#include "core/vm_control.h"
#include "snapshot/vm_snapshot.h"

#if !defined(KITE_MHD_SONAME) || !defined(KITE_MHD_PACKAGE)
#error "meson.build defines KITE_MHD_SONAME and KITE_MHD_PACKAGE (scripts/soname.sh)"
#endif

#define API_CONN_TIMEOUT_S	5
#define API_CONN_LIMIT		64
#define API_CONN_MEMORY		(128 * 1024)	/* libmicrohttpd's: request line, headers, I/O */
#define API_HEADER_MAX		(16 * 1024)	/* kite's: request line + headers, else 431 */
#define API_STOP_WAIT_MS	1000

#define API_STR_(x)		#x
#define API_STR(x)		API_STR_(x)

/* The libmicrohttpd functions kite calls, each as MHD_<name>. */
#define API_MHD_FUNCS(X)						\
	X(start_daemon) X(quiesce_daemon) X(stop_daemon)		\
	X(get_connection_info) X(lookup_connection_value)		\
	X(create_response_from_buffer) X(add_response_header)		\
	X(queue_response) X(destroy_response)
#define API_MHD_MEMBER(f)	__typeof__(MHD_##f) *f;
#define API_MHD_SYM(f)		DYNLIB_SYM(struct api_mhd, f, "MHD_" #f),

/* Written once by dynlib_load(), before the first server starts. */
static struct api_mhd {
	API_MHD_FUNCS(API_MHD_MEMBER)
} mhd;

static const struct dynlib_sym api_mhd_syms[] = {
	API_MHD_FUNCS(API_MHD_SYM)
};

static struct dynlib api_mhd_lib = {
	.soname = KITE_MHD_SONAME,
	.needed_for = "--api-sock",
	.package = KITE_MHD_PACKAGE,
	.syms = api_mhd_syms,
	.nr_syms = sizeof(api_mhd_syms) / sizeof(api_mhd_syms[0]),
	.table = &mhd,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

struct api_server {
	struct MHD_Daemon *daemon;
	int listen_fd;
	char *path;
	dev_t sock_dev;		/* the socket file we created, to unlink only it */
	ino_t sock_ino;
	unsigned int queued;	/* atomic: requests being answered, not yet completed */
	struct api_ctx ctx;
};

/*
 * One request in progress (libmicrohttpd's per-request context), from its
 * request line (on_uri()) until on_completed().
 */
struct api_conn_req {
	char *body;
	size_t len;
	bool begun;		/* on_request() has seen its headers */
	bool too_large;		/* chunked body over the cap: discard, then 413 */
	bool queued;		/* being answered: counted in srv->queued */
};

static const struct api_vm_ops kvm_vm_ops = {
	.get_state = vm_get_state,
	.state_name = vm_state_name,
	.pause = vm_pause,
	.resume = vm_resume,
	.shutdown = vm_shutdown,
	.ctrl_alt_del = vm_send_ctrl_alt_del,
	.nr_vcpus = vm_nr_vcpus,
	.mem_size = vm_mem_size,
	.devices = vm_devices,
	.exit_count = vm_vcpu_exit_count,
	.exit_reason_name = vm_exit_reason_name,
	.snapshot_create = vm_snapshot_create_api,
	.boot_request = vm_boot_request,
	.migrate_start = vm_migrate_start,
	.migrate_status = vm_migrate_status,
	.migrate_cancel = vm_migrate_cancel,
	.migrate_active = vm_migrate_active,
};

static void stat_inc(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/*
 * From the moment a request is being answered until libmicrohttpd reports it
 * complete, api_server_stop() waits for it: a Shutdown action stops the VM
 * (and the main thread stops this server) before its 204 has been queued.
 */
static void mark_queued(struct api_server *srv, struct api_conn_req *r)
{
	if (!r->queued) {
		r->queued = true;
		__atomic_fetch_add(&srv->queued, 1, __ATOMIC_ACQ_REL);
	}
}

/* Queue @rep (its body is taken over) on @c. */
static enum MHD_Result queue_reply(struct api_server *srv, struct MHD_Connection *c,
				   struct api_conn_req *r, struct api_reply *rep)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = rep->body ? strlen(rep->body) : 0;

	if (rep->status >= 400)
		stat_inc(&srv->ctx.stats.errors);
	resp = mhd.create_response_from_buffer(len, rep->body ? rep->body : (char *)"",
					       rep->body ? MHD_RESPMEM_MUST_FREE :
							   MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		api_reply_free(rep);
		return MHD_NO;		/* closes the connection */
	}
	rep->body = NULL;		/* owned by the response now */
	if (len)
		mhd.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (rep->allow[0])
		mhd.add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow);
	mark_queued(srv, r);
	ret = mhd.queue_response(c, rep->status, resp);
	mhd.destroy_response(resp);
	return ret;
}

static enum MHD_Result queue_too_large(struct api_server *srv, struct MHD_Connection *c,
				       struct api_conn_req *r)
{
	struct api_reply rep = { .status = 413 };
	char msg[96];

	snprintf(msg, sizeof(msg), "the request body is too large (at most %d bytes)",
		 API_BODY_MAX);
	rep.body = api_json_fault(msg);
	return queue_reply(srv, c, r, &rep);
}

static enum MHD_Result queue_headers_too_large(struct api_server *srv,
					       struct MHD_Connection *c,
					       struct api_conn_req *r, size_t size)
{
	struct api_reply rep = { .status = 431 };
	char msg[128];

	snprintf(msg, sizeof(msg), "the request line and headers are too large (%zu bytes, "
		 "at most %d)", size, API_HEADER_MAX);
	rep.body = api_json_fault(msg);
	return queue_reply(srv, c, r, &rep);
}

/*
 * First call for a request (its headers are in): set up its context unless
 * on_uri() did; refuse large headers and announced large bodies.
 */
static enum MHD_Result request_begin(struct api_server *srv, struct MHD_Connection *c,
				     struct api_conn_req *r, void **req_cls)
{
	const union MHD_ConnectionInfo *info;
	const char *cl;

	if (!r && !(r = calloc(1, sizeof(*r))))
		return MHD_NO;
	*req_cls = r;
	r->begun = true;
	stat_inc(&srv->ctx.stats.requests);
	info = mhd.get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (info && info->header_size > API_HEADER_MAX)
		return queue_headers_too_large(srv, c, r, info->header_size);
	cl = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	/* Answered before the body is read (curl waits for 100 Continue). */
	if (cl && strtoull(cl, NULL, 10) > API_BODY_MAX)
		return queue_too_large(srv, c, r);
	return MHD_YES;
}

static enum MHD_Result request_body(struct api_conn_req *r, const char *data, size_t n)
{
	char *nb;

	if (r->too_large || r->len + n > API_BODY_MAX) {
		r->too_large = true;	/* only chunked bodies get here */
		free(r->body);
		r->body = NULL;
		r->len = 0;
		return MHD_YES;
	}
	nb = realloc(r->body, r->len + n);
	if (!nb)
		return MHD_NO;
	memcpy(nb + r->len, data, n);
	r->body = nb;
	r->len += n;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **req_cls)
{
	struct api_server *srv = cls;
	struct api_conn_req *r = *req_cls;
	struct api_request req;
	struct api_reply rep;

	(void)version;
	if (!r || !r->begun)
		return request_begin(srv, c, r, req_cls);
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		return r->queued ? MHD_YES : request_body(r, upload, n);
	}
	if (r->queued)
		return MHD_YES;
	if (r->too_large)
		return queue_too_large(srv, c, r);
	req = (struct api_request){ .method = method, .path = url,
				    .body = r->body, .body_len = r->len };
	mark_queued(srv, r);
	api_handle(&srv->ctx, &req, &rep);
	return queue_reply(srv, c, r, &rep);
}

/*
 * The request line is in: the request's context starts here rather than in
 * on_request(), so that on_completed() also hears of a client that stalls
 * in the headers.  NULL (out of memory) is fine: on_request() retries.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)uri;
	(void)c;
	return calloc(1, sizeof(struct api_conn_req));
}

/*
 * A request timed out before its reply was queued: write a 408 on the
 * socket, which libmicrohttpd closes right after (see the top of the file).
 * Non-blocking, at most one short write: a client that does not read gets
 * a cut reply, which it would not have read anyway.
 */
static void send_timeout_reply(struct api_server *srv, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info;
	char *body, buf[512];
	int n;

	info = mhd.get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	body = api_json_fault("the request was not completed within "
			      API_STR(API_CONN_TIMEOUT_S) " s");
	if (!info || !body) {
		free(body);
		return;
	}
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 408 Request Timeout\r\n"
		     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n%s", strlen(body), body);
	free(body);
	if (n > 0 && (size_t)n < sizeof(buf) &&
	    send(info->connect_fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		stat_inc(&srv->ctx.stats.errors);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct api_server *srv = cls;
	struct api_conn_req *r = *req_cls;

	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED) {
		stat_inc(&srv->ctx.stats.timeouts);
		if (r && !r->queued)
			send_timeout_reply(srv, c);
	} else if (toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ||
		 toe == MHD_REQUEST_TERMINATED_READ_ERROR ||
		 toe == MHD_REQUEST_TERMINATED_WITH_ERROR)
		stat_inc(&srv->ctx.stats.aborted);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug("api: request ended early (libmicrohttpd code %d)", (int)toe);
	if (!r)
		return;
	if (r->queued)
		__atomic_fetch_sub(&srv->queued, 1, __ATOMIC_RELEASE);
	free(r->body);
	free(r);
	*req_cls = NULL;
}

/* libmicrohttpd's messages (mostly clients going away): debug level only. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) KITE_PRINTF(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	if (log_level < LOG_DEBUG)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_debug("api: %s", buf);
}

/* Refuse a path in use or not a socket; remove a stale socket file. */
static int clear_stale_socket(const char *path, const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		return err_set(-errno, "API socket %s: %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return err_set(-EEXIST, "API socket %s: the path exists and is not a socket",
			       path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(-errno, "API socket: socket(): %s", strerror(errno));
	ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) ? -errno : 0;
	close(fd);
	if (ret == -ECONNREFUSED) {
		log_info("API socket %s: removing a stale socket file", path);
		if (unlink(path) && errno != ENOENT)
			return err_set(-errno, "API socket %s: removing the stale socket: %s",
				       path, strerror(errno));
		return 0;
	}
	if (!ret || ret == -EAGAIN)
		return err_set(-EADDRINUSE, "API socket %s is in use by another process",
			       path);
	return err_set(ret, "API socket %s: probing the existing socket: %s", path,
		       strerror(-ret));
}

/* Create, bind (mode 0600 from the start) and listen. */
static int create_socket(struct api_server *srv, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (!path[0] || strlen(path) >= sizeof(addr.sun_path))
		return err_set(-ENAMETOOLONG, "API socket path '%s' is empty or too long "
			       "(at most %zu bytes)", path, sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, path);
	ret = clear_stale_socket(path, &addr);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(-errno, "API socket: socket(): %s", strerror(errno));
	/* The socket file takes this mode (less the umask) at bind: no window. */
	if (fchmod(fd, 0600) ||
	    bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(fd, SOMAXCONN)) {
		ret = -errno;
		close(fd);
		if (ret == -EADDRINUSE)
			return err_set(ret, "API socket %s is in use by another process", path);
		return err_set(ret, "API socket %s: %s", path, strerror(-ret));
	}
	if (stat(path, &st) || ((st.st_mode & 0077) && chmod(path, 0600))) {
		ret = -errno;
		close(fd);
		unlink(path);
		return err_set(ret, "API socket %s: setting mode 0600: %s", path, strerror(-ret));
	}
	srv->listen_fd = fd;
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	return 0;
}

static int start_daemon(struct api_server *srv)
{
	sigset_t all, old;

	/* The server thread inherits this mask: no signal is ever handled there. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	srv->daemon = mhd.start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
		MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, srv,
		/* First, so that every later message goes through it too. */
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->listen_fd,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)API_CONN_LIMIT,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)API_CONN_MEMORY,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!srv->daemon)
		return err_set(-EIO, "API socket %s: starting the HTTP server failed",
			       srv->path);
	return 0;
}

/* Remove the socket file if it is still the one we created. */
static void remove_socket_file(struct api_server *srv)
{
	struct stat st;

	if (!lstat(srv->path, &st) && st.st_dev == srv->sock_dev &&
	    st.st_ino == srv->sock_ino)
		unlink(srv->path);
}

int api_server_start(struct api_server **out, const char *path, struct vm *vm,
		     struct vm_boot *boot)
{
	struct api_server *srv;
	int ret;

	*out = NULL;
	ret = dynlib_load(&api_mhd_lib);
	if (ret)
		return ret;
	srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->path = strdup(path))) {
		free(srv);
		return err_set(-ENOMEM, "API server: out of memory");
	}
	srv->listen_fd = -1;
	srv->ctx.vm = vm;
	srv->ctx.boot = boot;
	srv->ctx.ops = &kvm_vm_ops;
	ret = create_socket(srv, path);
	if (!ret)
		ret = start_daemon(srv);
	if (ret) {
		if (srv->listen_fd >= 0) {
			close(srv->listen_fd);
			remove_socket_file(srv);
		}
		free(srv->path);
		free(srv);
		return ret;
	}
	*out = srv;
	return 0;
}

void api_server_stop(struct api_server *srv)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	MHD_socket fd;
	int waited;

	if (!srv)
		return;
	/* Stop accepting, let replies already queued (a Shutdown's 204) go out. */
	fd = mhd.quiesce_daemon(srv->daemon);
	for (waited = 0; waited < API_STOP_WAIT_MS &&
	     __atomic_load_n(&srv->queued, __ATOMIC_ACQUIRE); waited += 10)
		nanosleep(&tick, NULL);
	mhd.stop_daemon(srv->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	remove_socket_file(srv);
	free(srv->path);
	free(srv);
}
