// SPDX-License-Identifier: MIT
/*
 * Reliable subscribers across processes (issue 3): a slow subscriber gates
 * the publisher and loses nothing; reliable and lossy subscribers share a
 * ring; a subscriber killed, stopped (and demoted) or detached while it
 * blocks the publisher; publishes that cannot or may not wait; joins racing
 * a publisher; churn of the subscriber table; a full table; fork(); the
 * publisher's death and takeover with reliable subscribers; a filtered
 * reliable subscriber; the table as ringcast_ring_get_subscribers() lists it;
 * durable subscribers, killed and adopted.
 *
 * Every wait is bounded: a bug fails a test, it never hangs one.  The only
 * time bounds asserted are generous ones (seconds where the library's
 * intervals are 100 ms) and lower bounds the library sets itself (a
 * demotion limit).
 *
 * RINGCAST_RELIABLE_EVENTS sets the events of the mixed fan-out (200000;
 * the join race publishes half as many); RINGCAST_RELIABLE_CYCLES the
 * attach/read/detach cycles of each churning process (400).
 */
#include "reliable.h"

/*
 * One suite, a case per file:
 * test-reliable-{gating,stuck,table,death,durable}.c.
 */
static Suite *reliable_suite(void)
{
	Suite *s = suite_create("reliable");

	suite_add_tcase(s, reliable_gating_case());
	suite_add_tcase(s, reliable_stuck_case());
	suite_add_tcase(s, reliable_table_case());
	suite_add_tcase(s, reliable_death_case());
	suite_add_tcase(s, reliable_durable_case());
	return s;
}

int main(void)
{
	return t_main(reliable_suite());
}
