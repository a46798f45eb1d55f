/* SPDX-License-Identifier: MIT */
/*
 * api.h - the control API server: HTTP/1.1 + JSON on a Unix socket.
 *
 * The server runs in one thread of its own (libmicrohttpd's internal polling
 * thread, event driven), so a slow or stalled client never blocks a vCPU or
 * another client, and every call into the VM (vm_control.h) is made from
 * that one thread: requests are handled one at a time, in arrival order.
 * vm_pause() blocks only this thread.  See docs in routes.c for the paths.
 */
#ifndef KITE_API_API_H
#define KITE_API_API_H

#include "core/error.h"

struct api_server;
struct vm;
struct vm_boot;

/**
 * api_server_start() - create the socket at @path and start serving @vm.
 * @out:  the server, for api_server_stop()
 * @path: the Unix socket's path; created with mode 0600.  A stale socket
 *        file (nobody listening) is replaced; a socket somebody serves, or a
 *        path that is not a socket, is refused.
 * @vm:   the VM the API controls; must outlive the server.  NULL on a kite
 *        started without a VM: then @boot builds one (PUT /snapshot/load).
 * @boot: NULL, or how to build the VM (core/vm_boot.h); must outlive the server.
 *
 * Call from the main thread after blocking the signals it handles with a
 * signalfd (the server thread blocks every signal anyway).  The first call
 * loads libmicrohttpd (core/dynlib.h).
 * Return: 0, or a negative errno with a message (err_msg()); -ENOENT or
 * -ELIBBAD when libmicrohttpd cannot be loaded.
 */
int api_server_start(struct api_server **out, const char *path, struct vm *vm,
		     struct vm_boot *boot) KITE_WUR;

/**
 * api_server_stop() - stop serving, close every connection, remove the socket.
 * Waits (at most 1 s) for responses already queued, e.g. the 204 of a
 * Shutdown action, to reach their clients.  NULL is a no-op.
 * Must not be called from the server thread (i.e. from a handler).
 */
void api_server_stop(struct api_server *srv);

#endif
