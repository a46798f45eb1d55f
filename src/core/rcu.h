/* SPDX-License-Identifier: MIT */
/*
 * rcu.h - kite's one RCU domain (liburcu, memb flavour), shared by every
 * lock-free structure: the guest address space and the PIO/MMIO buses.
 *
 * Readers: krcu_read_lock()/krcu_read_unlock() around every use of an
 * RCU-published pointer.  A thread that reads often registers once
 * (krcu_register(), nestable); an unregistered thread is registered on its
 * first read lock and unregistered when it exits.
 * Writers: publish the new pointer with a release store, then
 * krcu_synchronize() before freeing what only the old one referenced.
 */
#ifndef KITE_CORE_RCU_H
#define KITE_CORE_RCU_H

void krcu_register(void);
void krcu_unregister(void);
void krcu_read_lock(void);
void krcu_read_unlock(void);
/* Wait until every read-side section that began before the call has ended. */
void krcu_synchronize(void);

#endif
