// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: the NATS bridge's frame decoder (tools/bridge/frame.c) on
 * arbitrary bytes, as a frame from the network would come.
 *
 * bridge_frame_open() must return 0, -EBADMSG or -EPROTONOSUPPORT; when it
 * accepts a frame, bridge_frame_next() must yield exactly the events its
 * header announces, each inside the input (ASan sees every byte read), and
 * encoding what was decoded must give back the input byte for byte: the
 * decoder accepts nothing the encoder would not write.  The input is
 * copied into a buffer of its exact size, so that a read past its end is
 * a finding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../tools/bridge/frame.h"

static const int open_ok[] = { -EBADMSG, -EPROTONOSUPPORT, 0 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bridge_frame_reader r;
	struct bridge_frame_writer w;
	struct bridge_frame_event ev;
	struct bridge_frame_hdr h;
	uint8_t *in, *out;
	uint64_t sum = 0;
	uint32_t n = 0;
	int ret;

	in = malloc(size ? size : 1);
	out = malloc(size ? size : 1);
	if (!in || !out)
		fz_fail("out of memory");
	memcpy(in, data, size);

	ret = bridge_frame_open(&r, in, size, &h);
	fz_expect("bridge_frame_open", ret, 0, open_ok);
	if (ret)
		goto out_free;
	if (!h.nevents || h.host_len > BRIDGE_FRAME_HOST_MAX)
		fz_fail("accepted a frame of %u events, host of %zu bytes",
			h.nevents, h.host_len);
	ret = bridge_frame_begin(&w, out, size, &h);
	if (ret)
		fz_fail("cannot encode the header of a frame it read: %d", ret);
	while (bridge_frame_next(&r, &ev) == 1) {
		const uint8_t *d = ev.data;

		if (d < in || d + ev.len > in + size)
			fz_fail("event %u outside the input", n);
		if (ev.len)
			sum += d[0] + d[ev.len - 1];
		ret = bridge_frame_add(&w, &ev);
		if (ret)
			fz_fail("cannot encode event %u it read: %d", n, ret);
		n++;
	}
	if (n != h.nevents)
		fz_fail("%u events of %u announced", n, h.nevents);
	if (bridge_frame_next(&r, &ev) != 0)
		fz_fail("an event after the last");
	if (bridge_frame_finish(&w) != size || memcmp(in, out, size))
		fz_fail("re-encoded frame differs from the input");
	if (sum == 1)
		fprintf(stderr, "\n"); /* keeps the reads of the payload */
out_free:
	free(out);
	free(in);
	return 0;
}
