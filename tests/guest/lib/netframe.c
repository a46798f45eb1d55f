/* SPDX-License-Identifier: MIT */
/* netframe.c - frame building for the virtio-net scenarios (netframe.h). */
#include "lib.h"
#include "netframe.h"

uint16_t inet_csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += be16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void frame_arp(uint8_t *f, uint16_t op, const uint8_t *dst, const uint8_t *mac, uint32_t spa,
	       const uint8_t *tha, uint32_t tpa)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);		/* Ethernet */
	put16(f + 16, 0x0800);		/* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, mac, 6);
	put32(f + 28, spa);
	memcpy(f + 32, tha, 6);
	put32(f + 38, tpa);
}

void frame_ipv4(uint8_t *f, const uint8_t *dst_mac, const uint8_t *mac, uint32_t src,
		uint32_t dst, uint8_t proto, uint16_t id, uint16_t plen)
{
	uint8_t *ip = f + ETH_HLEN;

	memcpy(f, dst_mac, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, 0x0800);
	memset(ip, 0, IPV4_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IPV4_HLEN + plen));
	put16(ip + 4, id);
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, inet_csum(ip, IPV4_HLEN));
}
