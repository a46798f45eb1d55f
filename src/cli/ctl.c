// SPDX-License-Identifier: MIT
/*
 * ctl.c - `kite ctl --api-sock PATH VERB ...`, the control API's client.
 *
 * Each verb is one request (`set` is two: it reads the attribute's type
 * first).  A 2xx reply prints its JSON body (pretty, or compact with --json)
 * and exits 0; an API error prints its fault_message on stderr and exits 1;
 * usage and connection errors exit 2.
 */
#include "cli/ctl.h"
#include "cli/ctl_priv.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define CTL_RESPONSE_MAX	(16u << 20)
#define CTL_BODY_MAX		(16u << 20)
#define CTL_TIMEOUT_DEFAULT	30

struct ctl_verb {
	const char *name;
	int min_args, max_args;
	int (*run)(struct ctl *c, char **args, int nargs);
	const char *args, *help;
};

/* ---- the response parser ---- */

static const char *find_crlf(const char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

static int parse_status_line(const char *p, const char *eol, unsigned int *status)
{
	if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) || !isdigit((unsigned char)p[7]) ||
	    p[8] != ' ' || !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (eol - p > 12 && p[12] != ' '))
		return err_set(-EINVAL, "malformed HTTP status line");
	*status = (unsigned int)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	if (*status < 100)
		return err_set(-EINVAL, "malformed HTTP status %u", *status);
	return 0;
}

/* The value of header @name if the line [p, eol) is that header, else NULL. */
static const char *header_value(const char *p, const char *eol, const char *name)
{
	size_t n = strlen(name);

	if ((size_t)(eol - p) <= n || strncasecmp(p, name, n) || p[n] != ':')
		return NULL;
	for (p += n + 1; p < eol && (*p == ' ' || *p == '\t'); p++)
		;
	return p;
}

static int parse_length(const char *v, const char *eol, size_t *out)
{
	uint64_t n = 0;

	if (v == eol)
		return err_set(-EINVAL, "malformed Content-Length");
	for (; v < eol && isdigit((unsigned char)*v); v++) {
		if (n > (UINT64_MAX - 9) / 10)
			return err_set(-EINVAL, "Content-Length overflows");
		n = n * 10 + (uint64_t)(*v - '0');
	}
	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	if (v != eol || n > SIZE_MAX)
		return err_set(-EINVAL, "malformed Content-Length");
	*out = (size_t)n;
	return 0;
}

int ctl_parse_response(const char *buf, size_t len, struct ctl_response *out)
{
	const char *end = buf + len, *p = buf, *eol, *v;
	bool have_len = false;
	size_t clen = 0;

	eol = find_crlf(p, end);
	if (!eol || parse_status_line(p, eol, &out->status))
		return err_set(-EINVAL, "malformed or truncated HTTP response%s",
			       eol ? " (bad status line)" : "");
	for (p = eol + 2; ; p = eol + 2) {
		eol = find_crlf(p, end);
		if (!eol)
			return err_set(-EINVAL, "truncated HTTP response headers");
		if (eol == p)
			break;				/* the empty line */
		if ((v = header_value(p, eol, "Content-Length"))) {
			if (have_len || parse_length(v, eol, &clen))
				return err_set(-EINVAL, "bad Content-Length in the response");
			have_len = true;
		} else if ((v = header_value(p, eol, "Transfer-Encoding")) &&
			   strncasecmp(v, "identity", 8)) {
			return err_set(-EINVAL, "unsupported Transfer-Encoding in the response");
		}
	}
	p = eol + 2;
	out->body = p;
	out->body_len = (size_t)(end - p);
	if (have_len) {
		if (clen > out->body_len)
			return err_set(-EINVAL, "truncated HTTP response body (%zu of %zu bytes)",
				       out->body_len, clen);
		out->body_len = clen;
	}
	return 0;
}

/* ---- attribute values ---- */

static char *value_u64(const char *text)
{
	unsigned long long v;
	char *end, out[32];
	bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');

	if (!isdigit((unsigned char)text[0]))
		goto bad;
	errno = 0;
	v = strtoull(text, &end, hex ? 16 : 10);
	if (errno || *end || end == text + (hex ? 2 : 0))
		goto bad;
	snprintf(out, sizeof(out), "%llu", v);
	return strdup(out);
bad:
	err_set(-EINVAL, "'%s' is not a u64 (decimal or 0x hex)", text);
	return NULL;
}

char *ctl_value_json(const char *type, const char *text)
{
	static const char *const yes[] = { "true", "1", "on", "yes" };
	static const char *const no[] = { "false", "0", "off", "no" };
	struct json_object *s;
	char *r;
	size_t i;

	if (!strcmp(type, "u64"))
		return value_u64(text);
	if (!strcmp(type, "bool")) {
		for (i = 0; i < 4; i++) {
			if (!strcasecmp(text, yes[i]))
				return strdup("true");
			if (!strcasecmp(text, no[i]))
				return strdup("false");
		}
		err_set(-EINVAL, "'%s' is not a bool (true/false, on/off, yes/no, 1/0)", text);
		return NULL;
	}
	if (!strcmp(type, "bytes")) {
		/* As the API writes them: two hex digits per byte. */
		for (i = 0; isxdigit((unsigned char)text[i]); i++)
			;
		if (text[i] || i % 2) {
			err_set(-EINVAL, "'%.32s' is not bytes (hex digits, two per byte)", text);
			return NULL;
		}
	}
	if (!strcmp(type, "string") || !strcmp(type, "bytes")) {
		s = json_object_new_string(text);
		r = s ? strdup(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE)) : NULL;
		json_object_put(s);
		if (!r)
			err_set(-ENOMEM, "out of memory");
		return r;
	}
	err_set(-EINVAL, "the attribute has an unknown type '%s'", type);
	return NULL;
}

/* ---- the exchange ---- */

static int ctl_connect(const struct ctl *c)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(c->sock) >= sizeof(addr.sun_path))
		return err_set(-ENAMETOOLONG, "API socket path '%s' is too long", c->sock);
	strcpy(addr.sun_path, c->sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(-errno, "socket: %s", strerror(errno));
	if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
		return fd;
	e = errno;
	close(fd);
	if (e == ENOENT)
		return err_set(-e, "no API socket at %s (is kite running with --api-sock?)",
			       c->sock);
	if (e == ECONNREFUSED)
		return err_set(-e, "nobody is listening on %s (has kite exited?)", c->sock);
	return err_set(-e, "connecting to %s: %s", c->sock, strerror(e));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @events on @fd until @deadline (ms, monotonic); *revents if given. */
static int wait_fd(int fd, short events, int64_t deadline, short *revents)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t left = deadline - now_ms();
	int n;

	do {
		n = left > 0 ? poll(&p, 1, (int)left) : 0;
	} while (n < 0 && errno == EINTR && (left = deadline - now_ms()) > 0);
	if (n < 0)
		return err_set(-errno, "poll: %s", strerror(errno));
	if (!n)
		return err_set(-ETIMEDOUT, "no answer from the API within the timeout");
	if (revents)
		*revents = p.revents;
	return 0;
}

/*
 * Send @n bytes.  Stops early, successfully, once the server has something
 * to say: it may refuse a request before reading its body (413) and close.
 */
static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	short ev;
	ssize_t w;
	int ret;

	while (n) {
		ret = wait_fd(fd, POLLOUT | POLLIN, deadline, &ev);
		if (ret)
			return ret;
		if (ev & (POLLIN | POLLHUP))
			return 0;
		w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w < 0)
			return err_set(-errno, "sending the request: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make room for more bytes in *buf (capacity *cap, NUL excluded). */
static int grow(char **buf, size_t *cap)
{
	size_t ncap = *buf ? *cap * 2 : 4096;
	char *nb;

	if (*buf && *cap >= CTL_RESPONSE_MAX)
		return err_set(-E2BIG, "the response is larger than %u bytes", CTL_RESPONSE_MAX);
	nb = realloc(*buf, ncap + 1);
	if (!nb)
		return err_set(-ENOMEM, "out of memory");
	*buf = nb;
	*cap = ncap;
	return 0;
}

/* Read until the server closes the connection; *out is malloc'd, NUL-ended. */
static int recv_all(int fd, char **out, size_t *len, int64_t deadline)
{
	size_t cap = 0, n = 0;
	char *buf = NULL;
	ssize_t r;
	int ret;

	for (;;) {
		ret = n == cap ? grow(&buf, &cap) : 0;
		if (!ret)
			ret = wait_fd(fd, POLLIN, deadline, NULL);
		if (ret)
			break;
		r = recv(fd, buf + n, cap - n, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		/* A server that answered before reading all we sent resets: the
		 * answer is complete or not by its Content-Length. */
		if (r < 0 && errno == ECONNRESET && n)
			break;
		if (r < 0)
			ret = err_set(-errno, "receiving the response: %s", strerror(errno));
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Send one request and parse the reply into c->resp. */
static int exchange(struct ctl *c, const char *method, const char *path, const char *body)
{
	int64_t deadline = now_ms() + (int64_t)c->timeout_s * 1000;
	size_t blen = body ? strlen(body) : 0, len;
	char head[2048];
	int fd, n, ret;

	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n"
		     "Connection: close\r\n%sContent-Length: %zu\r\n\r\n",
		     method, path, body ? "Content-Type: application/json\r\n" : "", blen);
	if (n < 0 || (size_t)n >= sizeof(head))
		return err_set(-ENAMETOOLONG, "the request path is too long");
	fd = ctl_connect(c);
	if (fd < 0)
		return fd;
	ret = send_all(fd, head, (size_t)n, deadline);
	if (!ret)
		ret = send_all(fd, body ? body : "", blen, deadline);
	free(c->buf);
	c->buf = NULL;
	/* A server that answers early (413) and closes may make the send fail: read anyway. */
	if (!recv_all(fd, &c->buf, &len, deadline) && len)
		ret = ctl_parse_response(c->buf, len, &c->resp);
	else if (!ret)
		ret = err_msg()[0] ? -EIO : err_set(-EIO, "the API closed the connection "
						     "without answering");
	close(fd);
	return ret;
}

/* ---- output ---- */

static void print_body(const struct ctl *c)
{
	const struct ctl_response *r = &c->resp;
	struct json_tokener *tok;
	struct json_object *o;
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (c->json ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED);

	if (!r->body_len)
		return;
	tok = json_tokener_new();
	o = tok && r->body_len < INT32_MAX ?
	    json_tokener_parse_ex(tok, r->body, (int)r->body_len) : NULL;
	if (o)
		printf("%s\n", json_object_to_json_string_ext(o, flags));
	else	/* not JSON (libmicrohttpd's own error pages): as it came */
		printf("%.*s\n", (int)r->body_len, r->body);
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
}

/* The fault_message of an error reply, or the body itself. */
static void print_fault(const struct ctl *c, const char *method, const char *path)
{
	const struct ctl_response *r = &c->resp;
	struct json_object *o = NULL, *m;
	struct json_tokener *tok = json_tokener_new();

	if (tok && r->body_len < INT32_MAX)
		o = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	if (o && json_object_object_get_ex(o, "fault_message", &m))
		fprintf(stderr, "kite ctl: %s %s: %u: %s\n", method, path, r->status,
			json_object_get_string(m));
	else
		fprintf(stderr, "kite ctl: %s %s: %u: %.*s\n", method, path, r->status,
			(int)(r->body_len > 300 ? 300 : r->body_len), r->body);
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
}

int ctl_request_ex(struct ctl *c, const char *method, const char *path, const char *body,
		   bool print)
{
	err_clear();
	if (exchange(c, method, path, body)) {
		if (!c->quiet_connect)
			fprintf(stderr, "kite ctl: %s %s: %s\n", method, path, err_msg());
		return CTL_EXIT_USAGE;
	}
	if (c->resp.status < 200 || c->resp.status > 299) {
		print_fault(c, method, path);
		return CTL_EXIT_API;
	}
	if (print)
		print_body(c);
	return CTL_EXIT_OK;
}

static int request(struct ctl *c, const char *method, const char *path, const char *body)
{
	return ctl_request_ex(c, method, path, body, true);
}

/* ---- paths ---- */

/* Append "/" and @seg, percent-encoded, to @out (size @cap). */
static int path_add(char *out, size_t cap, const char *seg)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(out);

	if (n + 1 >= cap)
		return err_set(-ENAMETOOLONG, "the request path is too long");
	out[n++] = '/';
	for (; *seg; seg++) {
		unsigned char ch = (unsigned char)*seg;

		if (n + 4 >= cap)
			return err_set(-ENAMETOOLONG, "the request path is too long");
		if (isalnum(ch) || strchr("-._~", ch)) {
			out[n++] = (char)ch;
		} else {
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

/* "/devices/ID[/KIND/NAME]" into @out; exits with a usage error if too long. */
static int device_path(char *out, size_t cap, const char *id, const char *kind,
		       const char *name)
{
	snprintf(out, cap, "/devices");
	if (path_add(out, cap, id) ||
	    (kind && (path_add(out, cap, kind) || path_add(out, cap, name)))) {
		fprintf(stderr, "kite ctl: %s\n", err_msg());
		return -1;
	}
	return 0;
}

/* ---- verbs ---- */

static int verb_state(struct ctl *c, char **a, int n)
{
	(void)a, (void)n;
	return request(c, "GET", "/vm", NULL);
}

static int verb_pause(struct ctl *c, char **a, int n)
{
	(void)a, (void)n;
	return request(c, "PATCH", "/vm", "{\"state\":\"Paused\"}");
}

static int verb_resume(struct ctl *c, char **a, int n)
{
	(void)a, (void)n;
	return request(c, "PATCH", "/vm", "{\"state\":\"Resumed\"}");
}

static int verb_shutdown(struct ctl *c, char **a, int n)
{
	(void)a, (void)n;
	return request(c, "PUT", "/actions", "{\"action_type\":\"Shutdown\"}");
}

static int verb_cad(struct ctl *c, char **a, int n)
{
	(void)a, (void)n;
	return request(c, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}");
}

static int verb_devices(struct ctl *c, char **a, int n)
{
	(void)a, (void)n;
	return request(c, "GET", "/devices", NULL);
}

static int verb_metrics(struct ctl *c, char **a, int n)
{
	(void)a, (void)n;
	return request(c, "GET", "/metrics", NULL);
}

static int verb_device(struct ctl *c, char **a, int n)
{
	char path[1024];

	(void)n;
	if (device_path(path, sizeof(path), a[0], NULL, NULL))
		return CTL_EXIT_USAGE;
	return request(c, "GET", path, NULL);
}

static int verb_get(struct ctl *c, char **a, int n)
{
	char path[1024];

	(void)n;
	if (device_path(path, sizeof(path), a[0], "attributes", a[1]))
		return CTL_EXIT_USAGE;
	return request(c, "GET", path, NULL);
}

/* The "type" of the attribute description in c->resp (NULL if absent). */
static char *reply_type(const struct ctl *c)
{
	struct json_object *o, *t;
	struct json_tokener *tok = json_tokener_new();
	char *r = NULL;

	o = tok ? json_tokener_parse_ex(tok, c->resp.body, (int)c->resp.body_len) : NULL;
	if (o && json_object_object_get_ex(o, "type", &t) &&
	    json_object_is_type(t, json_type_string))
		r = strdup(json_object_get_string(t));
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return r;
}

static int verb_set(struct ctl *c, char **a, int n)
{
	char path[1024], *type, *val, *body;
	int ret;

	(void)n;
	if (device_path(path, sizeof(path), a[0], "attributes", a[1]))
		return CTL_EXIT_USAGE;
	/* The value's JSON type comes from the attribute's own description. */
	ret = ctl_request_ex(c, "GET", path, NULL, false);
	if (ret)
		return ret;
	type = reply_type(c);
	val = type ? ctl_value_json(type, a[2]) : NULL;
	free(type);
	if (!val) {
		fprintf(stderr, "kite ctl: %s\n", err_msg()[0] ? err_msg() :
			"the attribute's description has no type");
		return CTL_EXIT_USAGE;
	}
	ret = asprintf(&body, "{\"value\":%s}", val);
	free(val);
	if (ret < 0)
		return CTL_EXIT_USAGE;
	ret = request(c, "PUT", path, body);
	free(body);
	return ret;
}

static int verb_cmd(struct ctl *c, char **a, int n)
{
	char path[1024], *body = NULL;
	struct json_object *o = NULL;
	int ret;

	if (device_path(path, sizeof(path), a[0], "commands", a[1]))
		return CTL_EXIT_USAGE;
	if (n > 2) {
		o = json_object_new_object();
		if (!o || json_object_object_add(o, "arg", json_object_new_string(a[2])) ||
		    !(body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)))) {
			json_object_put(o);
			fprintf(stderr, "kite ctl: out of memory\n");
			return CTL_EXIT_USAGE;
		}
		json_object_put(o);
	}
	ret = request(c, "PUT", path, body);
	free(body);
	return ret;
}

/* The whole of standard input (for `raw METHOD PATH -`). */
static char *read_stdin(void)
{
	size_t n = 0, cap = 0;
	char *buf = NULL;
	size_t r;

	do {
		if (n == cap && grow(&buf, &cap)) {
			free(buf);
			return NULL;
		}
		r = fread(buf + n, 1, cap - n, stdin);
		n += r;
	} while (r);
	if (ferror(stdin) || memchr(buf, '\0', n)) {
		free(buf);
		err_set(-EINVAL, "cannot read the body from standard input (or it holds NUL bytes)");
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static int verb_raw(struct ctl *c, char **a, int n)
{
	char *body = NULL;
	int ret;

	if (a[1][0] != '/' || strpbrk(a[0], " \r\n") || strpbrk(a[1], " \r\n")) {
		fprintf(stderr, "kite ctl: raw: the path must start with '/' and neither it nor "
			"the method may hold spaces or line breaks\n");
		return CTL_EXIT_USAGE;
	}
	if (n > 2 && !strcmp(a[2], "-")) {
		body = read_stdin();
		if (!body) {
			fprintf(stderr, "kite ctl: %s\n", err_msg());
			return CTL_EXIT_USAGE;
		}
	}
	ret = request(c, a[0], a[1], body ? body : n > 2 ? a[2] : NULL);
	free(body);
	return ret;
}

char *ctl_json_body(const char *const *kv, size_t n, const bool *is_bool)
{
	struct json_object *o = json_object_new_object();
	char *body = NULL;
	size_t i;
	bool ok = o != NULL;

	for (i = 0; ok && i + 1 < n; i += 2) {
		struct json_object *v;

		if (!kv[i + 1])
			continue;
		v = is_bool[i / 2] ? json_object_new_boolean(!strcmp(kv[i + 1], "true"))
				   : json_object_new_string(kv[i + 1]);
		ok = v && !json_object_object_add(o, kv[i], v);
	}
	if (ok)
		body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (!body)
		fprintf(stderr, "kite ctl: out of memory\n");
	return body;
}

/*
 * snapshot create SNAPSHOT MEMFILE [--diff]
 * snapshot load SNAPSHOT [MEMFILE] [--resume]
 */
static int verb_snapshot(struct ctl *c, char **a, int n)
{
	const char *flag = NULL, *pos[2] = { NULL, NULL };
	bool is_bool[3] = { false, false, false };
	const char *kv[6];
	char *body;
	int i, npos = 0, ret;
	bool create = !strcmp(a[0], "create");

	for (i = 1; i < n; i++) {
		if (a[i][0] == '-' && a[i][1] == '-' && !flag)
			flag = a[i];
		else if (npos < 2)
			pos[npos++] = a[i];
		else
			goto usage;
	}
	if (create) {
		if (npos != 2 || (flag && strcmp(flag, "--diff")))
			goto usage;
		kv[0] = "snapshot_path", kv[1] = pos[0];
		kv[2] = "mem_file_path", kv[3] = pos[1];
		kv[4] = "snapshot_type", kv[5] = flag ? "Diff" : "Full";
	} else if (!strcmp(a[0], "load")) {
		if (npos < 1 || (flag && strcmp(flag, "--resume")))
			goto usage;
		kv[0] = "snapshot_path", kv[1] = pos[0];
		kv[2] = "mem_file_path", kv[3] = pos[1];
		kv[4] = "resume_vm", kv[5] = flag ? "true" : "false";
		is_bool[2] = true;
	} else {
		goto usage;
	}
	body = ctl_json_body(kv, 6, is_bool);
	if (!body)
		return CTL_EXIT_USAGE;
	ret = request(c, "PUT", create ? "/snapshot/create" : "/snapshot/load", body);
	free(body);
	return ret;
usage:
	fprintf(stderr, "kite ctl: usage: kite ctl snapshot create SNAPSHOT MEMFILE [--diff]\n"
		"       kite ctl snapshot load SNAPSHOT [MEMFILE] [--resume]\n");
	return CTL_EXIT_USAGE;
}

static const struct ctl_verb verbs[] = {
	{ "state", 0, 0, verb_state, "", "the VM's state, vCPUs and memory" },
	{ "pause", 0, 0, verb_pause, "", "pause every vCPU and device" },
	{ "resume", 0, 0, verb_resume, "", "continue exactly where they were" },
	{ "shutdown", 0, 0, verb_shutdown, "", "stop the VM (kite exits with status 0)" },
	{ "ctrl-alt-del", 0, 0, verb_cad, "", "press Ctrl-Alt-Del on the guest's keyboard" },
	{ "devices", 0, 0, verb_devices, "", "list the devices" },
	{ "device", 1, 1, verb_device, "ID", "a device, its attributes and commands" },
	{ "get", 2, 2, verb_get, "ID ATTR", "read an attribute" },
	{ "set", 3, 3, verb_set, "ID ATTR VALUE", "write an attribute (state ones: pause first)" },
	{ "cmd", 2, 3, verb_cmd, "ID NAME [ARG]", "run a device command" },
	{ "metrics", 0, 0, verb_metrics, "", "exit counts, device and API counters" },
	{ "snapshot", 2, 4, verb_snapshot, "create SNAP MEM [--diff]",
	  "save the paused VM (--diff: pages changed since the last one)" },
	{ "snapshot", 2, 4, verb_snapshot, "load SNAP [MEM] [--resume]",
	  "build the VM of a kite started with only --api-sock" },
	{ "migrate", 1, 12, ctl_verb_migrate, "URI|status|cancel [OPTIONS]",
	  "live-migrate the VM (kite ctl migrate --help)" },
	{ "raw", 2, 3, verb_raw, "METHOD PATH [BODY]", "any request (BODY '-': standard input)" },
};

#define NR_VERBS (sizeof(verbs) / sizeof(verbs[0]))

static void ctl_usage(FILE *out)
{
	size_t i;

	fputs("Usage: kite ctl [--api-sock PATH] [--json] [--timeout SEC] VERB [ARGS]\n"
	      "\n"
	      "Control a running kite through its API socket (kite run --api-sock PATH).\n"
	      "\n"
	      "  --api-sock PATH   the API socket (default: $KITE_API_SOCK)\n"
	      "  --json            compact JSON output, for scripts (default: pretty)\n"
	      "  --timeout SEC     give up after SEC seconds (default 30)\n"
	      "\n"
	      "Verbs:\n", out);
	for (i = 0; i < NR_VERBS; i++) {
		char both[64];

		snprintf(both, sizeof(both), "%s %s", verbs[i].name, verbs[i].args);
		if (strlen(both) > 24)
			fprintf(out, "  %s\n  %-24s %s\n", both, "", verbs[i].help);
		else
			fprintf(out, "  %-24s %s\n", both, verbs[i].help);
	}
	fputs("\nExit status: 0 success, 1 the API refused (its fault_message is printed),\n"
	      "2 usage or connection error.\n", out);
}

/* Parse the options before the verb; returns -1 to go on, else an exit status. */
static int parse_options(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-sock", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long t;
	int o;

	optind = 0;	/* a full reset: main may have used getopt */
	opterr = 0;
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 's': c->sock = optarg; break;
		case 'j': c->json = true; break;
		case 'h': ctl_usage(stdout); return CTL_EXIT_OK;
		case 't':
			errno = 0;
			t = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || t < 1 || t > 3600) {
				fprintf(stderr, "kite ctl: --timeout '%s' is not 1..3600 seconds\n",
					optarg);
				return CTL_EXIT_USAGE;
			}
			c->timeout_s = (int)t;
			break;
		default:
			if (optopt)
				fprintf(stderr, "kite ctl: option '-%c' is unknown or needs a value\n",
					optopt);
			else
				fprintf(stderr, "kite ctl: unknown option or missing value: '%s'\n",
					argv[optind - 1]);
			return CTL_EXIT_USAGE;
		}
	}
	return -1;
}

int ctl_main(int argc, char **argv)
{
	struct ctl c = { .timeout_s = CTL_TIMEOUT_DEFAULT };
	const struct ctl_verb *v = NULL;
	int ret, nargs;
	size_t i;

	ret = parse_options(&c, argc, argv);
	if (ret >= 0)
		return ret;
	if (!c.sock)
		c.sock = getenv("KITE_API_SOCK");
	if (optind >= argc) {
		fprintf(stderr, "kite ctl: no verb given (kite ctl --help lists them)\n");
		return CTL_EXIT_USAGE;
	}
	for (i = 0; i < NR_VERBS && !v; i++)
		if (!strcmp(verbs[i].name, argv[optind]))
			v = &verbs[i];
	if (!v) {
		fprintf(stderr, "kite ctl: unknown verb '%s' (kite ctl --help lists them)\n",
			argv[optind]);
		return CTL_EXIT_USAGE;
	}
	nargs = argc - optind - 1;
	if (nargs < v->min_args || nargs > v->max_args) {
		fprintf(stderr, "kite ctl: usage: kite ctl [options] %s %s\n", v->name, v->args);
		return CTL_EXIT_USAGE;
	}
	if (!c.sock || !c.sock[0]) {
		fprintf(stderr, "kite ctl: no API socket: use --api-sock PATH or set "
			"KITE_API_SOCK\n");
		return CTL_EXIT_USAGE;
	}
	ret = v->run(&c, argv + optind + 1, nargs);
	free(c.buf);
	return ret;
}
