/* SPDX-License-Identifier: MIT */
/*
 * devspec.h - the device options of `kite run`: "--disk path=F,ro,id=X",
 * "--rng", "--transport mmio|pci" ...  Each parser fills struct vm_config
 * and refuses unknown keys, bad values and too many devices with a message
 * naming the option.
 */
#ifndef KITE_CLI_DEVSPEC_H
#define KITE_CLI_DEVSPEC_H

#include "core/error.h"
#include "core/vm.h"

int devspec_parse_disk(const char *arg, struct vm_config *cfg) KITE_WUR;
int devspec_parse_net(const char *arg, struct vm_config *cfg) KITE_WUR;
/* With --restore: "id=ID[,mac=M][,tap=NAME|user[,hostfwd=..]]" changes the
 * snapshot's network device ID (cfg->net_overrides); the id is checked
 * against the snapshot when it is opened. */
int devspec_parse_net_override(const char *arg, struct vm_config *cfg) KITE_WUR;
int devspec_parse_transport(const char *arg, struct vm_config *cfg) KITE_WUR;
int devspec_parse_console(const char *arg, struct vm_config *cfg) KITE_WUR;

#endif
