// SPDX-License-Identifier: MIT
/*
 * fuzz_api.c - the control API's request handling (routes.c, json.c) on
 * arbitrary requests, against a fake VM and two fake devices through the
 * same struct api_vm_ops that server.c fills with the real VM.
 *
 * Input: up to FUZZ_API_MAX_REQS requests separated by "\n===\n", each
 *   METHOD ' ' PATH '\n' BODY
 * (no space: the whole first line is the method and the path is "/vm"; no
 * newline: no body).  The body is passed with its length, NUL bytes and all,
 * as libmicrohttpd passes it; the method and path are C strings, as
 * libmicrohttpd gives them.  A sequence of requests reaches the handlers
 * that depend on state (pause, then write a state attribute).  The fake VM
 * and the devices are reset before each input, so every run is reproducible.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/routes.h"

#define FUZZ_API_MAX_REQS	8
#define FUZZ_API_SEP		"\n===\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the fake VM ---- */

struct vm {
	enum vm_state state;
	struct dev_registry reg;
};

static enum vm_state fake_state(struct vm *vm)
{
	return vm->state;
}

static const char *fake_state_name(enum vm_state s)
{
	return s == VM_STATE_RUNNING ? "Running" :
	       s == VM_STATE_PAUSED ? "Paused" : "ShuttingDown";
}

static int fake_pause(struct vm *vm)
{
	vm->state = VM_STATE_PAUSED;
	return 0;
}

static int fake_resume(struct vm *vm)
{
	vm->state = VM_STATE_RUNNING;
	return 0;
}

static void fake_shutdown(struct vm *vm)
{
	vm->state = VM_STATE_SHUTTING_DOWN;
}

/* Fails without a message: the handler must make one up. */
static int fake_cad(struct vm *vm)
{
	return vm->state == VM_STATE_PAUSED ? -EAGAIN : 0;
}

static unsigned int fake_nr_vcpus(const struct vm *vm)
{
	(void)vm;
	return 2;
}

static uint64_t fake_mem(const struct vm *vm)
{
	(void)vm;
	return 256ULL << 20;
}

static struct dev_registry *fake_devices(struct vm *vm)
{
	return &vm->reg;
}

static uint64_t fake_exit_count(const struct vm *vm, unsigned int vcpu, unsigned int reason)
{
	(void)vm;
	return reason == 2 ? UINT64_MAX - vcpu : reason;
}

static const char *fake_reason_name(unsigned int reason)
{
	return reason == 2 ? "io" : reason == 29 ? "mmio" : reason == 63 ? "last" : NULL;
}

static const struct api_vm_ops fake_ops = {
	.get_state = fake_state,
	.state_name = fake_state_name,
	.pause = fake_pause,
	.resume = fake_resume,
	.shutdown = fake_shutdown,
	.ctrl_alt_del = fake_cad,
	.nr_vcpus = fake_nr_vcpus,
	.mem_size = fake_mem,
	.devices = fake_devices,
	.exit_count = fake_exit_count,
	.exit_reason_name = fake_reason_name,
};

/* ---- a fake device with every attribute type and command outcome ---- */

struct fake_dev {
	uint64_t scr, count;
	bool enabled;
	char label[DEV_STR_MAX];
	uint8_t blob[32];		/* "blob": layout version 1, then up to 31 bytes */
	size_t blob_len;
};

static struct fake_dev *fake_of(struct device *d)
{
	return d->priv;
}

static void scr_get(struct device *d, struct dev_value *v)
{
	v->u64 = fake_of(d)->scr;
}

static int scr_set(struct device *d, const struct dev_value *v)
{
	if (v->u64 > 0xff)
		return err_set(-EINVAL, "scr: %llu is out of range (at most 255)",
			       (unsigned long long)v->u64);
	fake_of(d)->scr = v->u64;
	return 0;
}

static void en_get(struct device *d, struct dev_value *v)
{
	v->b = fake_of(d)->enabled;
}

static int en_set(struct device *d, const struct dev_value *v)
{
	fake_of(d)->enabled = v->b;
	return 0;
}

/* Copies at most DEV_STR_MAX bytes, with no NUL when the label fills them. */
static void label_get(struct device *d, struct dev_value *v)
{
	memcpy(v->str, fake_of(d)->label, sizeof(v->str));
}

static int label_set(struct device *d, const struct dev_value *v)
{
	memcpy(fake_of(d)->label, v->str, sizeof(v->str));
	return 0;
}

static void count_get(struct device *d, struct dev_value *v)
{
	v->u64 = fake_of(d)->count;
}

/* A BYTES state attribute, decoded as untrusted input like a device's. */
static void blob_get(struct device *d, struct dev_value *v)
{
	struct fake_dev *f = fake_of(d);

	if (dev_value_alloc(v, f->blob_len))
		memcpy(v->bytes, f->blob, f->blob_len);
}

static int blob_set(struct device *d, const struct dev_value *v)
{
	struct fake_dev *f = fake_of(d);

	if (!v->len || v->bytes[0] != 1)
		return err_set(-EINVAL, "blob: layout version %d is not known",
			       v->len ? v->bytes[0] : -1);
	if (v->len > sizeof(f->blob))
		return err_set(-EINVAL, "blob: %zu bytes (at most %zu)", v->len, sizeof(f->blob));
	memcpy(f->blob, v->bytes, v->len);
	f->blob_len = v->len;
	return 0;
}

static int reset_run(struct device *d, const char *arg)
{
	struct fake_dev *f = fake_of(d);

	f->count++;
	f->scr = 0;
	if (arg)
		snprintf(f->label, sizeof(f->label), "%s", arg);
	return 0;
}

static int busy_run(struct device *d, const char *arg)
{
	(void)d;
	(void)arg;
	return -EBUSY;
}

static int fail_run(struct device *d, const char *arg)
{
	(void)d;
	return err_set(arg ? -ENOENT : -EIO, "fail: %s", arg ? arg : "no argument");
}

static const struct dev_attr fake_attrs[] = {
	{ "scr", DEV_ATTR_U64, DEV_ATTR_STATE, "scratch", scr_get, scr_set },
	{ "enabled", DEV_ATTR_BOOL, DEV_ATTR_CONFIG, "on/off", en_get, en_set },
	{ "label", DEV_ATTR_STR, DEV_ATTR_CONFIG, "a label", label_get, label_set },
	{ "count", DEV_ATTR_U64, DEV_ATTR_INFO, "a counter", count_get, NULL },
	{ "frozen", DEV_ATTR_U64, DEV_ATTR_STATE, NULL, count_get, NULL },
	{ "blob", DEV_ATTR_BYTES, DEV_ATTR_STATE, "opaque state", blob_get, blob_set },
};

static const struct dev_cmd fake_cmds[] = {
	{ "reset", "reset it", reset_run },
	{ "busy", NULL, busy_run },
	{ "fail", "fails", fail_run },
};

static const struct dev_class fake_class = {
	.type = "fake", .state_version = 3,
	.attrs = fake_attrs, .nr_attrs = sizeof(fake_attrs) / sizeof(fake_attrs[0]),
	.cmds = fake_cmds, .nr_cmds = sizeof(fake_cmds) / sizeof(fake_cmds[0]),
};

/* A device with nothing to show. */
static const struct dev_class empty_class = { .type = "empty" };

static struct fake_dev fake0;
static struct device dev0, dev1;
static struct vm vm;
static struct api_ctx ctx;

static void fake_reset(void)
{
	memset(&fake0, 0, sizeof(fake0));
	memset(&dev0, 0, sizeof(dev0));
	memset(&dev1, 0, sizeof(dev1));
	memset(&vm, 0, sizeof(vm));
	strcpy(dev0.id, "fake0");
	dev0.cls = &fake_class;
	dev0.priv = &fake0;
	dev_add_resource(&dev0, DEV_RES_PIO, 0x3f8, 8);
	dev_add_resource(&dev0, DEV_RES_IRQ, 4, 1);
	strcpy(dev1.id, "e");
	dev1.cls = &empty_class;
	dev_add_resource(&dev1, DEV_RES_MMIO, UINT64_MAX - 0xfff, 0x1000);
	vm.reg.devs[0] = &dev0;
	vm.reg.devs[1] = &dev1;
	vm.reg.nr = 2;
	vm.state = VM_STATE_RUNNING;
	ctx = (struct api_ctx){ .vm = &vm, .ops = &fake_ops };
}

/* ---- one request ---- */

/* A reply must be a 2xx/4xx/5xx; a 4xx/5xx carries one JSON fault_message. */
static void check_reply(const struct api_reply *rep)
{
	struct json_object *j, *m;

	if (rep->status < 200 || rep->status > 599)
		abort();
	if (rep->status == 204) {
		if (rep->body)
			abort();
		return;
	}
	if (!rep->body)
		abort();
	j = json_tokener_parse(rep->body);
	if (!j)
		abort();
	if (rep->status >= 400 && (!json_object_object_get_ex(j, "fault_message", &m) ||
				   !json_object_is_type(m, json_type_string)))
		abort();
	json_object_put(j);
}

static void run_one(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t line = nl ? (size_t)(nl - data) : size;
	const uint8_t *sp = memchr(data, ' ', line);
	char *method, *path;
	struct api_request req;
	struct api_reply rep;

	method = strndup((const char *)data, sp ? (size_t)(sp - data) : line);
	path = sp ? strndup((const char *)sp + 1, line - (size_t)(sp - data) - 1) : strdup("/vm");
	if (!method || !path)
		abort();
	req = (struct api_request){
		.method = method,
		.path = path,
		.body = nl && nl + 1 < data + size ? (const char *)nl + 1 : NULL,
		.body_len = nl ? size - line - 1 : 0,
	};
	/* An exact-size copy, so that any read past the body is caught. */
	if (req.body) {
		char *b = malloc(req.body_len);

		if (!b)
			abort();
		memcpy(b, req.body, req.body_len);
		req.body = b;
	}
	api_handle(&ctx, &req, &rep);
	check_reply(&rep);
	api_reply_free(&rep);
	free((char *)req.body);
	free(method);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t seplen = strlen(FUZZ_API_SEP);
	int i;

	fake_reset();
	for (i = 0; i < FUZZ_API_MAX_REQS; i++) {
		const uint8_t *sep = memmem(data, size, FUZZ_API_SEP, seplen);
		size_t n = sep ? (size_t)(sep - data) : size;

		run_one(data, n);
		if (!sep)
			break;
		data = sep + seplen;
		size -= n + seplen;
	}
	return 0;
}
