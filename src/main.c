// SPDX-License-Identifier: MIT
#include <stdio.h>

int main(void)
{
	puts("kite " KITE_VERSION);
	return 0;
}
