/* SPDX-License-Identifier: MIT */
/*
 * netframe.h - Ethernet frames the virtio-net scenarios send and parse:
 * big-endian fields, the Internet checksum, ARP and IPv4 headers.  Only
 * bytes: sending and receiving stay with each scenario.
 */
#ifndef GUEST_NETFRAME_H
#define GUEST_NETFRAME_H

#include <stddef.h>
#include <stdint.h>

#define ETH_HLEN	14
#define ETH_ZLEN	60	/* shortest frame (without FCS) */
#define ARP_FRAME_LEN	42
#define IPV4_HLEN	20

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The Internet checksum (RFC 1071) of @n bytes, odd lengths padded. */
uint16_t inet_csum(const uint8_t *p, size_t n);
/* An ARP frame (ARP_FRAME_LEN bytes) from @mac/@spa to @dst (Ethernet) with
 * operation @op (1 request, 2 reply), target @tha/@tpa. */
void frame_arp(uint8_t *f, uint16_t op, const uint8_t *dst, const uint8_t *mac, uint32_t spa,
	       const uint8_t *tha, uint32_t tpa);
/* Ethernet and IPv4 headers (ETH_HLEN + IPV4_HLEN bytes, checksum included)
 * for @plen bytes of protocol @proto from @mac/@src to @dst_mac/@dst; the
 * payload goes after them. */
void frame_ipv4(uint8_t *f, const uint8_t *dst_mac, const uint8_t *mac, uint32_t src,
		uint32_t dst, uint8_t proto, uint16_t id, uint16_t plen);

#endif
