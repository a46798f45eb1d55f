// SPDX-License-Identifier: MIT
/*
 * ctl_migrate.c - `kite ctl migrate`: start a live migration and follow it.
 *
 *   kite ctl migrate URI [--downtime-ms N] [--timeout-s N] [--compress zstd]
 *                        [--no-auto-converge] [--no-wait]
 *   kite ctl migrate status        GET /migrate
 *   kite ctl migrate cancel        DELETE /migrate
 *
 * Without --no-wait it polls GET /migrate and draws a progress line on
 * standard error (redrawn in place on a terminal, one line per second
 * otherwise) until the migration ends; exit 0 when it completed, 1 when it
 * failed or was cancelled (its error printed).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/ctl_priv.h"

#define POLL_MS		200
#define BAR_WIDTH	30

static void usage(void)
{
	fprintf(stderr,
		"usage: kite ctl migrate URI [--downtime-ms N] [--timeout-s N] [--compress zstd]\n"
		"                            [--no-auto-converge] [--no-wait]\n"
		"       kite ctl migrate status | cancel\n"
		"URI: tcp:HOST:PORT or unix:PATH of `kite run --incoming URI`\n");
}

static uint64_t jget_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

static const char *jget_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* One progress line from a GET /migrate reply. */
static void draw(struct json_object *o, bool tty)
{
	uint64_t ram = jget_u64(o, "ram_bytes"), sent = jget_u64(o, "bytes_sent");
	uint64_t skipped = jget_u64(o, "zero_pages_skipped") * 4096;
	unsigned int pct = ram ? (unsigned int)((sent + skipped) * 100 / ram) : 0, i;
	char bar[BAR_WIDTH + 1];

	if (pct > 100)
		pct = 100;	/* later rounds send pages again */
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < pct * BAR_WIDTH / 100 ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "%s[%s] %3u%% round %llu, %llu MiB sent, %llu MB/s, dirty %llu MB/s, "
		"expected downtime %llu ms%s%s%s", tty ? "\r" : "", bar, pct,
		(unsigned long long)jget_u64(o, "round"), (unsigned long long)(sent >> 20),
		(unsigned long long)(jget_u64(o, "bandwidth_bps") / 1000000),
		(unsigned long long)(jget_u64(o, "dirty_rate_bps") / 1000000),
		(unsigned long long)jget_u64(o, "expected_downtime_ms"),
		jget_u64(o, "throttle_pct") ? ", throttled " : "",
		jget_u64(o, "throttle_pct") ? jget_str(o, "throttle_pct") : "",
		jget_u64(o, "throttle_pct") ? "%" : "");
	fputs(tty ? "\033[K" : "\n", stderr);
}

static struct json_object *parse_reply(const struct ctl *c)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL;

	if (tok && c->resp.body_len < INT32_MAX)
		o = json_tokener_parse_ex(tok, c->resp.body, (int)c->resp.body_len);
	if (tok)
		json_tokener_free(tok);
	return o;
}

/* Poll until the migration ends; the exit status. */
static int follow(struct ctl *c)
{
	struct timespec tick = { 0, POLL_MS * 1000000L };
	bool tty = isatty(STDERR_FILENO), stopping = false;
	unsigned int n = 0;
	int ret;

	for (;;) {
		struct json_object *o;
		const char *st;

		c->quiet_connect = stopping;
		ret = ctl_request_ex(c, "GET", "/migrate", NULL, false);
		c->quiet_connect = false;
		if (ret == CTL_EXIT_USAGE && stopping) {
			/* In the last phase the guest is paused: the source kite exits only
			 * once the destination confirmed that it runs the guest. */
			fprintf(stderr, "%smigrated: the source kite exited after the destination "
				"took over\n", tty ? "\n" : "");
			return CTL_EXIT_OK;
		}
		if (ret) {
			fprintf(stderr, "kite ctl: lost the source's API; the migration's "
				"outcome is unknown here (the destination knows)\n");
			return ret;
		}
		o = parse_reply(c);
		st = jget_str(o, "state");
		if (!strcmp(st, "Completed")) {
			if (tty)
				draw(o, tty);
			fprintf(stderr, "%smigrated in %llu ms, downtime %llu ms\n", tty ? "\n" : "",
				(unsigned long long)jget_u64(o, "elapsed_ms"),
				(unsigned long long)jget_u64(o, "downtime_ms"));
			json_object_put(o);
			return CTL_EXIT_OK;
		}
		stopping = !strcmp(st, "Stopping");
		if (strcmp(st, "Active") && !stopping) {
			fprintf(stderr, "%skite ctl: migration %s: %s\n", tty ? "\n" : "",
				st[0] ? st : "state unknown", jget_str(o, "error"));
			json_object_put(o);
			return CTL_EXIT_API;
		}
		if (tty || n++ % (1000 / POLL_MS) == 0)
			draw(o, tty);
		json_object_put(o);
		nanosleep(&tick, NULL);
	}
}

static bool parse_uint(const char *opt, const char *arg, unsigned long max, const char **out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = arg ? strtoul(arg, &end, 10) : 0;
	if (!arg || errno || *end || end == arg || v < 1 || v > max) {
		fprintf(stderr, "kite ctl: %s needs a number 1..%lu\n", opt, max);
		return false;
	}
	*out = arg;
	return true;
}

int ctl_verb_migrate(struct ctl *c, char **a, int n)
{
	const char *downtime = NULL, *timeout = NULL, *compress = NULL, *auto_conv = NULL;
	static const bool is_bool[3] = { false, false, true };
	bool wait = true;
	const char *kv[6];
	char body[1024], *json;
	int i, ret;

	if (!strcmp(a[0], "status") && n == 1)
		return ctl_request_ex(c, "GET", "/migrate", NULL, true);
	if (!strcmp(a[0], "cancel") && n == 1)
		return ctl_request_ex(c, "DELETE", "/migrate", NULL, true);
	if (!strcmp(a[0], "--help") || a[0][0] == '-') {
		usage();
		return CTL_EXIT_USAGE;
	}
	for (i = 1; i < n; i++) {
		const char *arg = i + 1 < n ? a[i + 1] : NULL;

		if (!strcmp(a[i], "--downtime-ms")) {
			if (!parse_uint(a[i], arg, 60000, &downtime))
				return CTL_EXIT_USAGE;
			i++;
		} else if (!strcmp(a[i], "--timeout-s")) {
			if (!parse_uint(a[i], arg, 86400, &timeout))
				return CTL_EXIT_USAGE;
			i++;
		} else if (!strcmp(a[i], "--compress") && arg &&
			   (!strcmp(arg, "zstd") || !strcmp(arg, "none"))) {
			compress = arg;
			i++;
		} else if (!strcmp(a[i], "--no-auto-converge")) {
			auto_conv = "false";
		} else if (!strcmp(a[i], "--no-wait")) {
			wait = false;
		} else {
			fprintf(stderr, "kite ctl: migrate: unknown option or missing value: '%s'\n",
				a[i]);
			usage();
			return CTL_EXIT_USAGE;
		}
	}
	kv[0] = "destination", kv[1] = a[0];
	kv[2] = "compress", kv[3] = compress;
	kv[4] = "auto_converge", kv[5] = auto_conv;
	json = ctl_json_body(kv, 6, is_bool);
	if (!json)
		return CTL_EXIT_USAGE;
	/* The numbers go in as JSON numbers. */
	snprintf(body, sizeof(body), "%.*s%s%s%s%s%s}", (int)strlen(json) - 1, json,
		 downtime ? ",\"downtime_ms\":" : "", downtime ? downtime : "",
		 timeout ? ",\"timeout_s\":" : "", timeout ? timeout : "", "");
	free(json);
	ret = ctl_request_ex(c, "PUT", "/migrate", body, false);
	if (ret || !wait)
		return ret;
	return follow(c);
}
