/* SPDX-License-Identifier: MIT */
/* cmdline.c - the kernel command line: space separated words, name=value. */
#include "lib.h"

static const char *cmdline_str = "";

void cmdline_set(const char *s)
{
	cmdline_str = s ? s : "";
}

const char *cmdline(void)
{
	return cmdline_str;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char *cmdline_next_word(const char *p, size_t *len)
{
	size_t n = 0;

	while (*p && is_space(*p))
		p++;
	if (!*p)
		return NULL;
	while (p[n] && !is_space(p[n]))
		n++;
	*len = n;
	return p;
}

bool cmdline_get(const char *name, char *buf, size_t size)
{
	size_t nlen = strlen(name), len;
	const char *w;

	for (w = cmdline_str; (w = cmdline_next_word(w, &len)); w += len) {
		if (len > nlen && w[nlen] == '=' && !strncmp(w, name, nlen)) {
			size_t vlen = len - nlen - 1;

			if (size == 0)
				return true;
			if (vlen >= size)
				vlen = size - 1;
			memcpy(buf, w + nlen + 1, vlen);
			buf[vlen] = 0;
			return true;
		}
	}
	return false;
}

bool parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t r = 0;
	unsigned int base = 10;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i >= len)
		return false;
	for (; i < len; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		r = r * base + d;
	}
	*v = r;
	return true;
}

bool parse_size(const char *s, size_t len, uint64_t *v)
{
	unsigned int shift = 0;

	if (len == 0)
		return false;
	switch (s[len - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift)
		len--;
	if (!parse_u64(s, len, v))
		return false;
	*v <<= shift;
	return true;
}

bool cmdline_get_u64(const char *name, uint64_t *v)
{
	char buf[32];

	return cmdline_get(name, buf, sizeof(buf)) && parse_u64(buf, strlen(buf), v);
}

bool cmdline_get_size(const char *name, uint64_t *v)
{
	char buf[32];

	return cmdline_get(name, buf, sizeof(buf)) && parse_size(buf, strlen(buf), v);
}
