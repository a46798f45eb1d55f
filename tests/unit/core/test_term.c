// SPDX-License-Identifier: MIT
/* Unit tests of the console escape filter (Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A). */
#include <stdbool.h>
#include <stdint.h>

#include "core/term.h"
#include "harness.h"

#define CTRL_A 0x01

static void plain_bytes_pass_through_unchanged(void)
{
	struct term_escape st = { 0 };
	uint8_t buf[] = { 'l', 's', '\r', 0x00, 0x7f, 0xff, 0x02, 'x' };
	const uint8_t want[] = { 'l', 's', '\r', 0x00, 0x7f, 0xff, 0x02, 'x' };
	bool quit = true;

	CHECK_EQ(term_filter_input(&st, buf, sizeof(buf), &quit), sizeof(want));
	CHECK(!quit);
	CHECK(memcmp(buf, want, sizeof(want)) == 0);
	CHECK(!st.pending);
}

static void empty_input_gives_nothing_and_no_quit(void)
{
	struct term_escape st = { 0 };
	uint8_t buf[1] = { 'a' };
	bool quit = true;

	CHECK_EQ(term_filter_input(&st, buf, 0, &quit), 0);
	CHECK(!quit);
}

static void ctrl_a_x_quits_and_drops_the_rest(void)
{
	struct term_escape st = { 0 };
	uint8_t buf[] = { 'a', 'b', CTRL_A, 'x', 'c', 'd' };
	bool quit = false;

	CHECK_EQ(term_filter_input(&st, buf, sizeof(buf), &quit), 2);
	CHECK(quit);
	CHECK_EQ(buf[0], 'a');
	CHECK_EQ(buf[1], 'b');
	CHECK(!st.pending);
}

static void ctrl_a_capital_x_quits_too(void)
{
	struct term_escape st = { 0 };
	uint8_t buf[] = { CTRL_A, 'X' };
	bool quit = false;

	CHECK_EQ(term_filter_input(&st, buf, sizeof(buf), &quit), 0);
	CHECK(quit);
}

static void ctrl_a_ctrl_a_sends_one_ctrl_a(void)
{
	struct term_escape st = { 0 };
	uint8_t buf[] = { 'a', CTRL_A, CTRL_A, 'b' };
	bool quit = true;

	CHECK_EQ(term_filter_input(&st, buf, sizeof(buf), &quit), 3);
	CHECK(!quit);
	CHECK_EQ(buf[0], 'a');
	CHECK_EQ(buf[1], CTRL_A);
	CHECK_EQ(buf[2], 'b');
	CHECK(!st.pending);
}

static void ctrl_a_then_another_key_swallows_both(void)
{
	struct term_escape st = { 0 };
	uint8_t buf[] = { 'a', CTRL_A, 'q', 'b', CTRL_A, 'c', 'd' };
	bool quit = true;

	CHECK_EQ(term_filter_input(&st, buf, sizeof(buf), &quit), 3);
	CHECK(!quit);
	CHECK_EQ(buf[0], 'a');
	CHECK_EQ(buf[1], 'b');
	CHECK_EQ(buf[2], 'd');
}

static void escape_split_across_two_reads_still_quits(void)
{
	struct term_escape st = { 0 };
	uint8_t first[] = { 'h', 'i', CTRL_A };
	uint8_t second[] = { 'x', 'z' };
	bool quit = true;

	CHECK_EQ(term_filter_input(&st, first, sizeof(first), &quit), 2);
	CHECK(!quit);
	CHECK(st.pending);
	CHECK_EQ(term_filter_input(&st, second, sizeof(second), &quit), 0);
	CHECK(quit);
}

static void ctrl_a_ctrl_a_split_across_two_reads_sends_one_ctrl_a(void)
{
	struct term_escape st = { 0 };
	uint8_t first[] = { CTRL_A };
	uint8_t second[] = { CTRL_A, 'y' };
	bool quit = true;

	CHECK_EQ(term_filter_input(&st, first, sizeof(first), &quit), 0);
	CHECK(!quit);
	CHECK_EQ(term_filter_input(&st, second, sizeof(second), &quit), 2);
	CHECK(!quit);
	CHECK_EQ(second[0], CTRL_A);
	CHECK_EQ(second[1], 'y');
}

static void quit_flag_is_cleared_on_the_next_call(void)
{
	struct term_escape st = { 0 };
	uint8_t a[] = { CTRL_A, 'x' };
	uint8_t b[] = { 'k' };
	bool quit = false;

	CHECK_EQ(term_filter_input(&st, a, sizeof(a), &quit), 0);
	CHECK(quit);
	CHECK_EQ(term_filter_input(&st, b, sizeof(b), &quit), 1);
	CHECK(!quit);
	CHECK_EQ(b[0], 'k');
}

int main(void)
{
	RUN(plain_bytes_pass_through_unchanged);
	RUN(empty_input_gives_nothing_and_no_quit);
	RUN(ctrl_a_x_quits_and_drops_the_rest);
	RUN(ctrl_a_capital_x_quits_too);
	RUN(ctrl_a_ctrl_a_sends_one_ctrl_a);
	RUN(ctrl_a_then_another_key_swallows_both);
	RUN(escape_split_across_two_reads_still_quits);
	RUN(ctrl_a_ctrl_a_split_across_two_reads_sends_one_ctrl_a);
	RUN(quit_flag_is_cleared_on_the_next_call);
	return harness_done();
}
