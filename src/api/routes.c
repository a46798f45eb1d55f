// SPDX-License-Identifier: MIT
/*
 * routes.c - the control API's paths and handlers.
 *
 *   GET   /vm                               {"state","vcpus","mem_size_mib"}
 *   PATCH /vm                               {"state":"Paused"|"Resumed"}   -> 204
 *   PUT   /actions                          {"action_type":"SendCtrlAltDel"|"Shutdown"} -> 204
 *   GET   /devices                          [{"id","type","state_version","resources"}]
 *   GET   /devices/{id}                     + "attributes" (descriptions), "commands"
 *   GET   /devices/{id}/attributes          [{"name","type","access","value"}]
 *   GET   /devices/{id}/attributes/{name}   {"name","type","access","value"}
 *   PUT   /devices/{id}/attributes/{name}   {"value":V}                    -> 204
 *   PUT   /devices/{id}/commands/{name}     {"arg":"..."} or no body       -> 204
 *   GET   /metrics                          {"vcpus","exits_total","devices","api"}
 *   PUT   /snapshot/create                  {"snapshot_path","mem_file_path",
 *                                            "snapshot_type":"Full"|"Diff"} -> 204 (paused VM)
 *   PUT   /snapshot/load                    {"snapshot_path", "mem_file_path" or
 *                                            "mem_backend":{"backend_type":"File",
 *                                            "backend_path"}, "resume_vm",
 *                                            "keep_identity", "enable_diff_snapshots"}
 *                                           -> 204
 *                                           (a kite started without a VM)
 *
 *   PUT   /migrate                          {"destination":"tcp:H:P"|"unix:P",
 *                                            "downtime_ms","timeout_s","compress":
 *                                            "none"|"zstd","auto_converge"} -> 204
 *   GET   /migrate                          {"state","round","bytes_sent",...}
 *   DELETE /migrate                         cancel it (the source runs on) -> 204
 *
 * While a migration is active it owns pause and resume: PATCH /vm, snapshot
 * create and a second PUT /migrate answer 409.
 *
 * A kite started with only --api-sock has no VM until PUT /snapshot/load
 * built one: until then GET /vm answers {"state":"NotStarted"} and every
 * other path that needs a VM answers 409.
 *
 * Errors carry {"fault_message": "..."}:
 *   400 malformed JSON, unknown or missing field, wrong JSON type, value out
 *       of range, read-only attribute, unknown action or state;
 *   404 unknown path, device, attribute or command;
 *   405 a known path with another method (with an Allow header);
 *   409 the VM's state forbids it now: no VM yet, a VM already loaded, a
 *       state attribute written while the VM
 *       runs, anything that needs a VM that is shutting down, a command the
 *       device cannot take now (input while paused, a full buffer);
 *   413 a body over API_BODY_MAX (server.c);  500 kite itself failed.
 */
#include "api/routes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"

#define PATH_SEGS	4
#define PATH_MAX_LEN	512

struct api_call {
	const struct api_request *req;
	const char *arg[2];		/* the {} segments of the pattern */
};

typedef void (*api_handler)(struct api_ctx *ctx, const struct api_call *call,
			    struct api_reply *rep);

struct api_route {
	const char *pattern;		/* segments; "{}" captures one */
	const char *method;
	api_handler fn;
	bool without_vm;		/* also served before a VM exists */
};

/* ---- replies ---- */

/* @o when every step building it succeeded (@ok), else NULL (and @o freed). */
static struct json_object *built(struct json_object *o, bool ok)
{
	if (ok)
		return o;
	json_object_put(o);
	return NULL;
}

static void reply_fault(struct api_reply *rep, unsigned int status, const char *fmt, ...)
	KITE_PRINTF(3, 4);

static void reply_fault(struct api_reply *rep, unsigned int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(rep->body);
	rep->status = status;
	rep->body = api_json_fault(msg);
}

/* Take @obj (may be NULL after a failed allocation) as the reply. */
static void reply_json(struct api_reply *rep, struct json_object *obj, bool ok)
{
	char *s = ok && obj ? api_json_dup_string(obj) : NULL;

	json_object_put(obj);
	if (!s) {
		reply_fault(rep, 500, "out of memory building the reply");
		return;
	}
	rep->status = 200;
	rep->body = s;
}

static void reply_none(struct api_reply *rep)
{
	rep->status = 204;
	rep->body = NULL;
}

/* The HTTP status for a -errno from the VM or the device model. */
static unsigned int status_of(int err)
{
	switch (-err) {
	case ENOENT:
		return 404;
	case EINVAL:
	case EPERM:
	case ERANGE:
	case E2BIG:
		return 400;
	case EBUSY:
	case EAGAIN:
	case EALREADY:
	case ESHUTDOWN:
	case ENOSPC:
		return 409;
	default:
		return 500;
	}
}

static void reply_err(struct api_reply *rep, int err, const char *what)
{
	const char *m = err_msg();

	if (m[0])
		reply_fault(rep, status_of(err), "%s", m);
	else
		reply_fault(rep, status_of(err), "%s: %s", what, strerror(-err));
}

/* ---- request bodies ---- */

/*
 * Parse the body as an object with only @fields.  An empty body gives
 * *out == NULL when @optional, else an error.  On error the reply is set.
 */
static int body_object(const struct api_call *call, const char *const *fields,
		       bool optional, struct json_object **out, struct api_reply *rep)
{
	const struct api_request *req = call->req;
	int ret;

	*out = NULL;
	if (!req->body_len && optional)
		return 0;
	err_clear();
	ret = api_json_parse_object(req->body, req->body_len, out);
	if (!ret)
		ret = api_json_check_fields(*out, fields);
	if (ret) {
		json_object_put(*out);
		*out = NULL;
		reply_fault(rep, ret == -ENOMEM ? 500 : 400, "%s", err_msg());
	}
	return ret;
}

/* The string member @key of @obj, or NULL with a 400 reply. */
static const char *body_string(struct json_object *obj, const char *key,
			       struct api_reply *rep)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v)) {
		reply_fault(rep, 400, "missing field '%s'", key);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		reply_fault(rep, 400, "field '%s' must be a string, not %s", key,
			    json_type_to_name(json_object_get_type(v)));
		return NULL;
	}
	return json_object_get_string(v);
}

/* ---- /vm and /actions ---- */

/* A migration owns pause and resume while it is active: 409. */
static bool migrating(struct api_ctx *ctx, struct api_reply *rep)
{
	if (!ctx->ops->migrate_active || !ctx->ops->migrate_active(ctx->vm))
		return false;
	reply_fault(rep, 409, "a migration is in progress (GET /migrate; DELETE /migrate "
		    "cancels it)");
	return true;
}

static void vm_get(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	const struct api_vm_ops *ops = ctx->ops;
	struct json_object *o = json_object_new_object();
	bool ok;

	(void)call;
	if (!ctx->vm) {
		ok = api_json_add(o, "state", json_object_new_string("NotStarted"));
		reply_json(rep, o, ok);
		return;
	}
	ok = api_json_add(o, "state",
			  json_object_new_string(ops->state_name(ops->get_state(ctx->vm))));
	ok &= api_json_add(o, "vcpus", json_object_new_int64(ops->nr_vcpus(ctx->vm)));
	ok &= api_json_add(o, "mem_size_mib",
			   json_object_new_uint64(ops->mem_size(ctx->vm) >> 20));
	reply_json(rep, o, ok);
}

static void vm_patch(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	static const char *const fields[] = { "state", NULL };
	const struct api_vm_ops *ops = ctx->ops;
	struct json_object *body;
	enum vm_state cur;
	const char *want;
	int ret;

	if (body_object(call, fields, false, &body, rep))
		return;
	want = body_string(body, "state", rep);
	if (!want)
		goto out;
	cur = ops->get_state(ctx->vm);
	if (strcmp(want, "Paused") && strcmp(want, "Resumed")) {
		reply_fault(rep, 400, "unknown state '%s' (use \"Paused\" or \"Resumed\")", want);
		goto out;
	}
	if (cur == VM_STATE_SHUTTING_DOWN) {
		reply_fault(rep, 409, "the VM is shutting down");
		goto out;
	}
	if (migrating(ctx, rep))
		goto out;
	/* Idempotent: pausing a paused VM (or resuming a running one) is a no-op. */
	err_clear();
	if (!strcmp(want, "Paused"))
		ret = cur == VM_STATE_PAUSED ? 0 : ops->pause(ctx->vm);
	else
		ret = cur == VM_STATE_RUNNING ? 0 : ops->resume(ctx->vm);
	if (ret)
		reply_err(rep, ret, !strcmp(want, "Paused") ? "pausing the VM" : "resuming the VM");
	else
		reply_none(rep);
out:
	json_object_put(body);
}

static void actions_put(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	static const char *const fields[] = { "action_type", NULL };
	struct json_object *body;
	const char *action;
	int ret;

	if (body_object(call, fields, false, &body, rep))
		return;
	action = body_string(body, "action_type", rep);
	if (!action)
		goto out;
	if (ctx->ops->get_state(ctx->vm) == VM_STATE_SHUTTING_DOWN) {
		reply_fault(rep, 409, "the VM is shutting down");
	} else if (!strcmp(action, "Shutdown")) {
		ctx->ops->shutdown(ctx->vm);
		reply_none(rep);
	} else if (!strcmp(action, "SendCtrlAltDel")) {
		err_clear();
		ret = ctx->ops->ctrl_alt_del(ctx->vm);
		if (ret)
			reply_err(rep, ret, "sending Ctrl-Alt-Del");
		else
			reply_none(rep);
	} else {
		reply_fault(rep, 400, "unknown action_type '%s' (use \"SendCtrlAltDel\" or "
			    "\"Shutdown\")", action);
	}
out:
	json_object_put(body);
}

/* ---- devices ---- */

static struct device *find_device(struct api_ctx *ctx, const char *id, struct api_reply *rep)
{
	struct device *dev = dev_find(ctx->ops->devices(ctx->vm), id);

	if (!dev)
		reply_fault(rep, 404, "no device '%s'", id);
	return dev;
}

static struct json_object *resources_json(const struct device *dev)
{
	struct json_object *arr = json_object_new_array();
	unsigned int i;

	for (i = 0; arr && i < dev->nr_res; i++) {
		const struct dev_resource *r = &dev->res[i];
		struct json_object *o = json_object_new_object();
		bool ok;

		ok = api_json_add(o, "kind", json_object_new_string(dev_res_kind_name(r->kind)));
		ok &= api_json_add(o, "base", json_object_new_uint64(r->base));
		ok &= api_json_add(o, "len", json_object_new_uint64(r->len));
		if (!api_json_append(arr, built(o, ok))) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

static struct json_object *device_json(const struct device *dev)
{
	struct json_object *o = json_object_new_object();
	bool ok;

	ok = api_json_add(o, "id", json_object_new_string(dev->id));
	ok &= api_json_add(o, "type", json_object_new_string(dev->cls->type));
	ok &= api_json_add(o, "state_version", json_object_new_int64(dev->cls->state_version));
	ok &= api_json_add(o, "resources", resources_json(dev));
	return built(o, ok);
}

static struct json_object *attr_desc_json(const struct dev_attr *a)
{
	struct json_object *o = json_object_new_object();
	bool ok;

	ok = api_json_add(o, "name", json_object_new_string(a->name));
	ok &= api_json_add(o, "type", json_object_new_string(dev_attr_type_name(a->type)));
	ok &= api_json_add(o, "access", json_object_new_string(dev_attr_access_name(a->access)));
	ok &= api_json_add(o, "writable",
			   json_object_new_boolean(a->set && a->access != DEV_ATTR_INFO));
	ok &= api_json_add(o, "doc", json_object_new_string(a->doc ? a->doc : ""));
	return built(o, ok);
}

static struct json_object *cmd_desc_json(const struct dev_cmd *c)
{
	struct json_object *o = json_object_new_object();
	bool ok;

	ok = api_json_add(o, "name", json_object_new_string(c->name));
	ok &= api_json_add(o, "doc", json_object_new_string(c->doc ? c->doc : ""));
	return built(o, ok);
}

static void devices_get(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	struct dev_registry *reg = ctx->ops->devices(ctx->vm);
	struct json_object *arr = json_object_new_array();
	bool ok = arr != NULL;
	unsigned int i;

	(void)call;
	for (i = 0; ok && i < reg->nr; i++)
		ok = api_json_append(arr, device_json(reg->devs[i]));
	reply_json(rep, arr, ok);
}

static void device_get(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	struct device *dev = find_device(ctx, call->arg[0], rep);
	struct json_object *o, *attrs, *cmds;
	unsigned int i;
	bool ok;

	if (!dev)
		return;
	o = device_json(dev);
	attrs = json_object_new_array();
	cmds = json_object_new_array();
	ok = attrs && cmds;
	for (i = 0; ok && i < dev->cls->nr_attrs; i++)
		ok = api_json_append(attrs, attr_desc_json(&dev->cls->attrs[i]));
	for (i = 0; ok && i < dev->cls->nr_cmds; i++)
		ok = api_json_append(cmds, cmd_desc_json(&dev->cls->cmds[i]));
	ok &= api_json_add(o, "attributes", attrs);
	ok &= api_json_add(o, "commands", cmds);
	reply_json(rep, o, ok);
}

/* {"name","type","access","value"} of one attribute, read now. */
static struct json_object *attr_value_json(struct device *dev, const struct dev_attr *a)
{
	struct json_object *o;
	struct dev_value v;
	bool ok;

	if (dev_attr_get(dev, a->name, &v))
		return NULL;
	o = json_object_new_object();
	ok = api_json_add(o, "name", json_object_new_string(a->name));
	ok &= api_json_add(o, "type", json_object_new_string(dev_attr_type_name(a->type)));
	ok &= api_json_add(o, "access", json_object_new_string(dev_attr_access_name(a->access)));
	ok &= api_json_add(o, "value", api_json_from_dev_value(&v));
	dev_value_release(&v);
	return built(o, ok);
}

static void attrs_get(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	struct device *dev = find_device(ctx, call->arg[0], rep);
	struct json_object *arr;
	unsigned int i;
	bool ok;

	if (!dev)
		return;
	arr = json_object_new_array();
	ok = arr != NULL;
	for (i = 0; ok && i < dev->cls->nr_attrs; i++)
		ok = api_json_append(arr, attr_value_json(dev, &dev->cls->attrs[i]));
	reply_json(rep, arr, ok);
}

static const struct dev_attr *find_attr(struct device *dev, const char *name,
					struct api_reply *rep)
{
	const struct dev_attr *a = dev_attr_find(dev, name);

	if (!a)
		reply_fault(rep, 404, "device '%s' has no attribute '%s'", dev->id, name);
	return a;
}

static void attr_get(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	struct device *dev = find_device(ctx, call->arg[0], rep);
	const struct dev_attr *a = dev ? find_attr(dev, call->arg[1], rep) : NULL;

	if (a)
		reply_json(rep, attr_value_json(dev, a), true);
}

static void attr_put(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	static const char *const fields[] = { "value", NULL };
	struct device *dev = find_device(ctx, call->arg[0], rep);
	const struct dev_attr *a = dev ? find_attr(dev, call->arg[1], rep) : NULL;
	struct json_object *body, *jv;
	struct dev_value v;
	char what[64];
	bool paused;
	int ret;

	if (!a || body_object(call, fields, false, &body, rep))
		return;
	snprintf(what, sizeof(what), "the value of '%s'", a->name);
	err_clear();
	if (!json_object_object_get_ex(body, "value", &jv)) {
		reply_fault(rep, 400, "missing field 'value'");
	} else if ((ret = api_json_to_dev_value(jv, a->type, what, &v))) {
		reply_fault(rep, ret == -ENOMEM ? 500 : 400, "%s", err_msg());
	} else {
		paused = ctx->ops->get_state(ctx->vm) == VM_STATE_PAUSED;
		ret = dev_attr_set(dev, a->name, &v, paused);
		dev_value_release(&v);
		if (ret)
			reply_err(rep, ret, "writing the attribute");
		else
			reply_none(rep);
	}
	json_object_put(body);
}

static void cmd_put(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	static const char *const fields[] = { "arg", NULL };
	struct device *dev = find_device(ctx, call->arg[0], rep);
	struct json_object *body = NULL, *jv;
	const char *arg = NULL;
	int ret;

	if (!dev)
		return;
	if (!dev_cmd_find(dev, call->arg[1])) {
		reply_fault(rep, 404, "device '%s' has no command '%s'", dev->id, call->arg[1]);
		return;
	}
	if (body_object(call, fields, true, &body, rep))
		return;
	if (body && json_object_object_get_ex(body, "arg", &jv) &&
	    !json_object_is_type(jv, json_type_null)) {
		if (!json_object_is_type(jv, json_type_string) ||
		    strlen(json_object_get_string(jv)) != (size_t)json_object_get_string_len(jv)) {
			reply_fault(rep, 400, "field 'arg' must be a string without NUL characters");
			goto out;
		}
		arg = json_object_get_string(jv);
	}
	err_clear();
	ret = dev_cmd_run(dev, call->arg[1], arg);
	if (ret == -ENOENT)	/* the command's own "not found", not an unknown path */
		ret = -EINVAL;
	if (ret)
		reply_err(rep, ret, "running the command");
	else
		reply_none(rep);
out:
	json_object_put(body);
}

/* ---- metrics ---- */

/* Exit counts by reason name, of one vCPU or (@vcpu < 0) of all. */
static struct json_object *exits_json(struct api_ctx *ctx, int vcpu)
{
	const struct api_vm_ops *ops = ctx->ops;
	unsigned int nr = ops->nr_vcpus(ctx->vm), r, i;
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	for (r = 0; ok && r < VM_EXIT_REASONS; r++) {
		const char *name = ops->exit_reason_name(r);
		uint64_t n = 0;

		if (!name)
			continue;
		if (vcpu >= 0)
			n = ops->exit_count(ctx->vm, (unsigned int)vcpu, r);
		for (i = 0; vcpu < 0 && i < nr; i++)
			n += ops->exit_count(ctx->vm, i, r);
		ok = api_json_add(o, name, json_object_new_uint64(n));
	}
	return built(o, ok);
}

static struct json_object *vcpus_json(struct api_ctx *ctx)
{
	unsigned int nr = ctx->ops->nr_vcpus(ctx->vm), i;
	struct json_object *arr = json_object_new_array();
	bool ok = arr != NULL;

	for (i = 0; ok && i < nr; i++) {
		struct json_object *o = json_object_new_object();
		bool vok;

		vok = api_json_add(o, "id", json_object_new_int64(i));
		vok &= api_json_add(o, "exits", exits_json(ctx, (int)i));
		ok = api_json_append(arr, built(o, vok));
	}
	return built(arr, ok);
}

/* {id: {info attribute: value}} for every device. */
static struct json_object *device_counters_json(struct api_ctx *ctx)
{
	struct dev_registry *reg = ctx->ops->devices(ctx->vm);
	struct json_object *all = json_object_new_object();
	bool ok = all != NULL;
	unsigned int i, j;

	for (i = 0; ok && i < reg->nr; i++) {
		struct device *dev = reg->devs[i];
		struct json_object *o = json_object_new_object();
		bool dok = o != NULL;

		for (j = 0; dok && j < dev->cls->nr_attrs; j++) {
			const struct dev_attr *a = &dev->cls->attrs[j];
			struct dev_value v;

			if (a->access != DEV_ATTR_INFO)
				continue;
			if (dev_attr_get(dev, a->name, &v)) {
				dok = false;
				break;
			}
			dok = api_json_add(o, a->name, api_json_from_dev_value(&v));
			dev_value_release(&v);
		}
		ok = api_json_add(all, dev->id, built(o, dok));
	}
	return built(all, ok);
}

static struct json_object *api_counters_json(struct api_ctx *ctx)
{
	struct api_stats *st = &ctx->stats;
	struct json_object *o = json_object_new_object();
	bool ok;

	ok = api_json_add(o, "requests",
			  json_object_new_uint64(__atomic_load_n(&st->requests, __ATOMIC_RELAXED)));
	ok &= api_json_add(o, "errors",
			   json_object_new_uint64(__atomic_load_n(&st->errors, __ATOMIC_RELAXED)));
	ok &= api_json_add(o, "timeouts",
			   json_object_new_uint64(__atomic_load_n(&st->timeouts, __ATOMIC_RELAXED)));
	ok &= api_json_add(o, "aborted",
			   json_object_new_uint64(__atomic_load_n(&st->aborted, __ATOMIC_RELAXED)));
	return built(o, ok);
}

static void metrics_get(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	struct json_object *o = json_object_new_object();
	bool ok;

	(void)call;
	ok = api_json_add(o, "vcpus", vcpus_json(ctx));
	ok &= api_json_add(o, "exits_total", exits_json(ctx, -1));
	ok &= api_json_add(o, "devices", device_counters_json(ctx));
	ok &= api_json_add(o, "api", api_counters_json(ctx));
	reply_json(rep, o, ok);
}

/* ---- snapshots ---- */

static void snapshot_create_put(struct api_ctx *ctx, const struct api_call *call,
				struct api_reply *rep)
{
	static const char *const fields[] = { "snapshot_path", "mem_file_path", "snapshot_type",
					      NULL };
	struct json_object *body, *t;
	const char *snap, *mem, *type = "Full";
	int ret;

	if (body_object(call, fields, false, &body, rep))
		return;
	snap = body_string(body, "snapshot_path", rep);
	mem = snap ? body_string(body, "mem_file_path", rep) : NULL;
	if (!mem)
		goto out;
	if (json_object_object_get_ex(body, "snapshot_type", &t)) {
		type = body_string(body, "snapshot_type", rep);
		if (!type)
			goto out;
	}
	if (strcmp(type, "Full") && strcmp(type, "Diff")) {
		reply_fault(rep, 400, "unknown snapshot_type '%s' (use \"Full\" or \"Diff\")", type);
		goto out;
	}
	if (migrating(ctx, rep))
		goto out;
	if (!ctx->ops->snapshot_create) {
		reply_fault(rep, 400, "snapshots are not available here");
		goto out;
	}
	if (ctx->ops->get_state(ctx->vm) != VM_STATE_PAUSED) {
		reply_fault(rep, 409, "the VM must be paused for a snapshot (PATCH /vm "
			    "{\"state\":\"Paused\"})");
		goto out;
	}
	err_clear();
	ret = ctx->ops->snapshot_create(ctx->vm, snap, mem, !strcmp(type, "Diff"));
	/* A path the client named that cannot be written is the client's to fix. */
	if (ret == -ENOENT || ret == -ENOTDIR || ret == -EACCES || ret == -EROFS ||
	    ret == -EISDIR || ret == -ENAMETOOLONG)
		reply_fault(rep, 400, "%s", err_msg());
	else if (ret)
		reply_err(rep, ret, "creating the snapshot");
	else
		reply_none(rep);
out:
	json_object_put(body);
}

/* "mem_backend": {"backend_type": "File", "backend_path": P} (Firecracker's shape). */
static const char *mem_backend_path(struct json_object *body, struct api_reply *rep)
{
	struct json_object *mb, *v;
	const char *type;

	json_object_object_get_ex(body, "mem_backend", &mb);
	if (!json_object_is_type(mb, json_type_object)) {
		reply_fault(rep, 400, "'mem_backend' must be an object");
		return NULL;
	}
	json_object_object_foreach(mb, key, val) {
		(void)val;
		if (strcmp(key, "backend_type") && strcmp(key, "backend_path")) {
			reply_fault(rep, 400, "unknown field 'mem_backend.%s'", key);
			return NULL;
		}
	}
	type = body_string(mb, "backend_type", rep);
	if (!type)
		return NULL;
	if (strcmp(type, "File")) {
		reply_fault(rep, 400, "mem_backend type '%s' is not supported (use \"File\")",
			    type);
		return NULL;
	}
	if (!json_object_object_get_ex(mb, "backend_path", &v)) {
		reply_fault(rep, 400, "missing field 'mem_backend.backend_path'");
		return NULL;
	}
	return body_string(mb, "backend_path", rep);
}

static void snapshot_load_put(struct api_ctx *ctx, const struct api_call *call,
			      struct api_reply *rep)
{
	static const char *const fields[] = { "snapshot_path", "mem_file_path", "mem_backend",
					      "resume_vm", "keep_identity", "enable_diff_snapshots",
					      NULL };
	struct vm_boot_request *req = NULL;
	struct json_object *body, *v;
	const char *snap, *mem = NULL;
	struct vm *vm;
	int err;

	if (body_object(call, fields, false, &body, rep))
		return;
	snap = body_string(body, "snapshot_path", rep);
	if (!snap)
		goto out;
	if (json_object_object_get_ex(body, "mem_file_path", &v) &&
	    json_object_object_get_ex(body, "mem_backend", &v)) {
		reply_fault(rep, 400, "give either 'mem_file_path' or 'mem_backend', not both");
		goto out;
	}
	if (json_object_object_get_ex(body, "mem_file_path", &v) &&
	    !(mem = body_string(body, "mem_file_path", rep)))
		goto out;
	if (json_object_object_get_ex(body, "mem_backend", &v) &&
	    !(mem = mem_backend_path(body, rep)))
		goto out;
	if ((json_object_object_get_ex(body, "resume_vm", &v) &&
	     !json_object_is_type(v, json_type_boolean)) ||
	    (json_object_object_get_ex(body, "keep_identity", &v) &&
	     !json_object_is_type(v, json_type_boolean)) ||
	    (json_object_object_get_ex(body, "enable_diff_snapshots", &v) &&
	     !json_object_is_type(v, json_type_boolean))) {
		reply_fault(rep, 400, "'resume_vm', 'keep_identity' and 'enable_diff_snapshots' "
			    "must be true or false");
		goto out;
	}
	if (ctx->vm) {
		reply_fault(rep, 409, "this kite already runs a VM: a snapshot is loaded only "
			    "into a kite started without one (kite run --api-sock PATH)");
		goto out;
	}
	if (!ctx->boot || !ctx->ops->boot_request) {
		reply_fault(rep, 400, "snapshots cannot be loaded here");
		goto out;
	}
	req = calloc(1, sizeof(*req));
	if (!req) {
		reply_fault(rep, 500, "out of memory");
		goto out;
	}
	if (!snap[0] || strlen(snap) >= sizeof(req->snapshot_path) ||
	    (mem && (!mem[0] || strlen(mem) >= sizeof(req->mem_file_path)))) {
		reply_fault(rep, 400, "empty or too long snapshot_path or memory file path");
		goto out;
	}
	strcpy(req->snapshot_path, snap);
	strcpy(req->mem_file_path, mem ? mem : "");
	req->resume = json_object_object_get_ex(body, "resume_vm", &v) &&
		      json_object_get_boolean(v);
	req->keep_identity = json_object_object_get_ex(body, "keep_identity", &v) &&
			     json_object_get_boolean(v);
	req->diff_snapshots = json_object_object_get_ex(body, "enable_diff_snapshots", &v) &&
			      json_object_get_boolean(v);
	err_clear();
	vm = ctx->ops->boot_request(ctx->boot, req, &err);
	if (vm) {
		ctx->vm = vm;
		reply_none(rep);
	} else if (err == -EALREADY || err == -ESHUTDOWN) {
		reply_fault(rep, 409, "%s", err_msg());
	} else if (err == -ENOMEM || err == -EIO || err == -EMFILE || err == -ENFILE) {
		reply_fault(rep, 500, "loading the snapshot: %s", err_msg());
	} else {
		/* A file that is not there, unreadable, damaged or for another host. */
		reply_fault(rep, 400, "%s", err_msg());
	}
out:
	free(req);
	json_object_put(body);
}

/* ---- migration ---- */

/* An optional unsigned member of @body in [lo, hi]; false with a 400. */
static bool body_uint(struct json_object *body, const char *key, unsigned int lo,
		      unsigned int hi, unsigned int *out, struct api_reply *rep)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(body, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_int)) {
		reply_fault(rep, 400, "'%s' must be an integer", key);
		return false;
	}
	n = json_object_get_int64(v);
	if (n < lo || n > hi) {
		reply_fault(rep, 400, "'%s' must be %u..%u", key, lo, hi);
		return false;
	}
	*out = (unsigned int)n;
	return true;
}

static void migrate_put(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	static const char *const fields[] = { "destination", "downtime_ms", "timeout_s",
					      "compress", "auto_converge", NULL };
	struct mig_params p = { .downtime_ms = MIG_DOWNTIME_DEFAULT_MS,
				.timeout_s = MIG_TIMEOUT_DEFAULT_S, .auto_converge = true };
	struct json_object *body, *v;
	const char *dest, *comp;
	int ret;

	if (body_object(call, fields, false, &body, rep))
		return;
	dest = body_string(body, "destination", rep);
	if (!dest || !body_uint(body, "downtime_ms", 1, 60000, &p.downtime_ms, rep) ||
	    !body_uint(body, "timeout_s", 1, 86400, &p.timeout_s, rep))
		goto out;
	if (strlen(dest) >= sizeof(p.destination)) {
		reply_fault(rep, 400, "'destination' is too long");
		goto out;
	}
	strcpy(p.destination, dest);
	if (json_object_object_get_ex(body, "compress", &v)) {
		comp = body_string(body, "compress", rep);
		if (!comp)
			goto out;
		if (strcmp(comp, "none") && strcmp(comp, "zstd")) {
			reply_fault(rep, 400, "unknown compress '%s' (use \"none\" or \"zstd\")",
				    comp);
			goto out;
		}
		p.zstd = !strcmp(comp, "zstd");
	}
	if (json_object_object_get_ex(body, "auto_converge", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			reply_fault(rep, 400, "'auto_converge' must be true or false");
			goto out;
		}
		p.auto_converge = json_object_get_boolean(v);
	}
	if (!ctx->ops->migrate_start) {
		reply_fault(rep, 400, "migration is not available here");
		goto out;
	}
	err_clear();
	ret = ctx->ops->migrate_start(ctx->vm, &p);
	if (!ret)
		reply_none(rep);
	else if (ret == -EBUSY || ret == -ESHUTDOWN)
		reply_fault(rep, 409, "%s", err_msg());
	else if (ret == -ENOMEM)
		reply_fault(rep, 500, "%s", err_msg());
	else	/* a bad address, or a destination that cannot be reached */
		reply_fault(rep, 400, "%s", err_msg());
out:
	json_object_put(body);
}

static void migrate_get(struct api_ctx *ctx, const struct api_call *call, struct api_reply *rep)
{
	struct json_object *o = json_object_new_object();
	struct mig_status s;
	bool ok;

	(void)call;
	if (ctx->ops->migrate_status)
		ctx->ops->migrate_status(ctx->vm, &s);
	else
		memset(&s, 0, sizeof(s));
	ok = api_json_add(o, "state", json_object_new_string(mig_state_name(s.state)));
	if (s.state != MIG_NONE) {
		ok &= api_json_add(o, "destination", json_object_new_string(s.destination));
		ok &= api_json_add(o, "round", json_object_new_int64(s.round));
		ok &= api_json_add(o, "ram_bytes", json_object_new_uint64(s.ram_bytes));
		ok &= api_json_add(o, "bytes_sent", json_object_new_uint64(s.bytes_sent));
		ok &= api_json_add(o, "pages_sent", json_object_new_uint64(s.pages_sent));
		ok &= api_json_add(o, "zero_pages_skipped", json_object_new_uint64(s.pages_skipped));
		ok &= api_json_add(o, "dirty_pages", json_object_new_uint64(s.dirty_pages));
		ok &= api_json_add(o, "dirty_rate_bps", json_object_new_uint64(s.dirty_rate_bps));
		ok &= api_json_add(o, "bandwidth_bps", json_object_new_uint64(s.bandwidth_bps));
		ok &= api_json_add(o, "expected_downtime_ms",
				   json_object_new_uint64(s.expected_downtime_ms));
		ok &= api_json_add(o, "downtime_target_ms",
				   json_object_new_uint64(s.downtime_target_ms));
		ok &= api_json_add(o, "throttle_pct", json_object_new_int64(s.throttle_pct));
		ok &= api_json_add(o, "elapsed_ms", json_object_new_uint64(s.elapsed_ms));
	}
	if (s.state == MIG_COMPLETED)
		ok &= api_json_add(o, "downtime_ms", json_object_new_uint64(s.downtime_ms));
	if (s.state == MIG_FAILED || s.state == MIG_CANCELLED) {
		ok &= api_json_add(o, "error", json_object_new_string(s.error));
		ok &= api_json_add(o, "source_paused", json_object_new_boolean(s.source_paused));
	}
	reply_json(rep, o, ok);
}

static void migrate_delete(struct api_ctx *ctx, const struct api_call *call,
			   struct api_reply *rep)
{
	int ret;

	(void)call;
	if (!ctx->ops->migrate_cancel) {
		reply_fault(rep, 400, "migration is not available here");
		return;
	}
	err_clear();
	ret = ctx->ops->migrate_cancel(ctx->vm);
	if (!ret)
		reply_none(rep);
	else
		reply_fault(rep, 409, "%s", err_msg());
}

/* ---- routing ---- */

static const struct api_route routes[] = {
	{ "vm",				"GET",		vm_get, true },
	{ "vm",				"PATCH",	vm_patch },
	{ "actions",			"PUT",		actions_put },
	{ "devices",			"GET",		devices_get },
	{ "devices/{}",			"GET",		device_get },
	{ "devices/{}/attributes",	"GET",		attrs_get },
	{ "devices/{}/attributes/{}",	"GET",		attr_get },
	{ "devices/{}/attributes/{}",	"PUT",		attr_put },
	{ "devices/{}/commands/{}",	"PUT",		cmd_put },
	{ "metrics",			"GET",		metrics_get },
	{ "snapshot/create",		"PUT",		snapshot_create_put },
	{ "snapshot/load",		"PUT",		snapshot_load_put, true },
	{ "migrate",			"PUT",		migrate_put },
	{ "migrate",			"GET",		migrate_get },
	{ "migrate",			"DELETE",	migrate_delete },
};

/* Split "/a/b/c" (one trailing '/' allowed) into @segs; -1 if it cannot match. */
static int split_path(char *buf, char **segs)
{
	size_t len = strlen(buf);
	int n = 0;
	char *p;

	if (buf[0] != '/')
		return -1;
	if (len > 1 && buf[len - 1] == '/')
		buf[len - 1] = '\0';
	for (p = buf + 1; ; p++) {
		char *slash = strchr(p, '/');

		if (n == PATH_SEGS || !*p || p == slash)
			return -1;	/* too deep, or an empty segment */
		segs[n++] = p;
		if (!slash)
			return n;
		*slash = '\0';
		p = slash;
	}
}

/* Does @pattern match @segs?  Captures go to call->arg. */
static bool match(const char *pattern, char **segs, int nsegs, struct api_call *call)
{
	const char *p = pattern;
	int i, nargs = 0;

	for (i = 0; i < nsegs; i++) {
		size_t n = strcspn(p, "/");

		if (!n)
			return false;		/* the pattern is shorter */
		if (n == 2 && !memcmp(p, "{}", 2))
			call->arg[nargs++] = segs[i];
		else if (strlen(segs[i]) != n || memcmp(p, segs[i], n))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return !*p;
}

void api_handle(struct api_ctx *ctx, const struct api_request *req, struct api_reply *rep)
{
	char buf[PATH_MAX_LEN], *segs[PATH_SEGS];
	struct api_call call = { .req = req };
	bool path_known = false;
	size_t i;
	int n;

	memset(rep, 0, sizeof(*rep));
	if (strlen(req->path) >= sizeof(buf)) {
		reply_fault(rep, 404, "no such path (too long)");
		return;
	}
	strcpy(buf, req->path);
	n = split_path(buf, segs);
	for (i = 0; n > 0 && i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, segs, n, &call))
			continue;
		if (!strcmp(routes[i].method, req->method)) {
			if (!ctx->vm && !routes[i].without_vm)
				reply_fault(rep, 409, "no VM yet: load one first (PUT "
					    "/snapshot/load)");
			else
				routes[i].fn(ctx, &call, rep);
			return;
		}
		if (path_known)
			strcat(rep->allow, ", ");
		strcat(rep->allow, routes[i].method);
		path_known = true;
	}
	if (path_known)
		reply_fault(rep, 405, "method %s is not allowed on %s (allowed: %s)",
			    req->method, req->path, rep->allow);
	else
		reply_fault(rep, 404, "no such path: %s", req->path);
}

void api_reply_free(struct api_reply *rep)
{
	free(rep->body);
	rep->body = NULL;
}
