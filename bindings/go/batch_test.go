// SPDX-License-Identifier: MIT

package ringcast

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
)

// readAll reads n events with NextBatch, at most max a call, and keeps
// them all: what a later call wrote must not show in an earlier event.
func readAll(t *testing.T, s *Subscriber, n, max int) []Event {
	t.Helper()
	var got []Event
	evs := make([]Event, max)
	for len(got) < n {
		k, err := s.NextBatch(ctxTimeout(t, 10e9), evs)
		if err != nil {
			t.Fatalf("NextBatch after %d events: %v", len(got), err)
		}
		got = append(got, evs[:k]...)
	}
	return got
}

func checkEvents(t *testing.T, got []Event, msgs []Msg, first uint64) {
	t.Helper()
	if len(got) != len(msgs) {
		t.Fatalf("%d events, want %d", len(got), len(msgs))
	}
	for i, ev := range got {
		if ev.Seq != first+uint64(i) || ev.Type != msgs[i].Type ||
			!bytes.Equal(ev.Data, msgs[i].Data) {
			t.Fatalf("event %d: seq %d type %d, %d bytes; want seq %d "+
				"type %d, %d bytes (equal bytes: %v)", i, ev.Seq,
				ev.Type, len(ev.Data), first+uint64(i), msgs[i].Type,
				len(msgs[i].Data), bytes.Equal(ev.Data, msgs[i].Data))
		}
	}
}

// PublishBatch's two paths: reserved in the ring (payloads in their slots,
// 128 B or more on average) and staged in C memory (the others), each
// with mixed sizes and empty payloads, read back byte-identical in order,
// every event of a batch with the batch's one timestamp.
func TestPublishBatchPaths(t *testing.T) {
	name := newRing(t, &RingOptions{Slots: 64, SlotSize: 1024,
		DataSize: 1 << 20})
	st, err := Stats(name)
	if err != nil {
		t.Fatal(err)
	}
	c := int(st.Capacity)
	s, err := NewSubscriber(name, &SubOptions{Reliable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetTimeout(0); err != nil {
		t.Fatal(err)
	}
	mk := func(sizes ...int) []Msg {
		m := make([]Msg, len(sizes))
		for i, n := range sizes {
			m[i] = Msg{Type: uint32(100 + i), Data: payload(i, n+8)[:n]}
		}
		return m
	}
	for _, tc := range []struct {
		what    string
		msgs    []Msg
		reserve bool
	}{
		{"in slots, mixed", mk(0, c, 1, 300, 0, c-1, 7, 500), true},
		{"in slots, one", mk(c), true},
		{"in slots, all empty but one", mk(0, 0, 0, c), true},
		{"small", mk(0, 1, 64, 0, 100, 8), false},
		{"data area", mk(10, c+1, 0, 5000, c), false},
		{"over 3/4 of the slots", mk(make([]int, 49)...), false},
		{"over 3/4 of the slots, in slots", mk(func() []int {
			n := make([]int, 49)
			for i := range n {
				n[i] = 200 + i
			}
			return n
		}()...), false},
	} {
		before := p.reserved
		first := p.Head()
		if _, err := p.PublishBatch(tc.msgs); err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		if got := p.reserved - before; got != map[bool]uint64{false: 0, true: 1}[tc.reserve] {
			t.Errorf("%s: reserved %d batches, want reserved: %v",
				tc.what, got, tc.reserve)
		}
		got := readAll(t, s, len(tc.msgs), 256)
		checkEvents(t, got, tc.msgs, first)
		for _, ev := range got {
			if ev.Time != got[0].Time {
				t.Errorf("%s: timestamps %d and %d in one batch",
					tc.what, got[0].Time, ev.Time)
				break
			}
		}
	}
}

// A reservation the library refuses (-EINVAL: more than 3/4 of the slots,
// though the hints said otherwise) is published staged instead; one over
// the largest event is ErrTooLarge with nothing written, on either path.
func TestPublishBatchFallback(t *testing.T) {
	name := newRing(t, &RingOptions{Slots: 16, SlotSize: 1024,
		NoData: true})
	s, err := NewSubscriber(name, &SubOptions{Reliable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetTimeout(0); err != nil {
		t.Fatal(err)
	}
	p.reserveMax = 1 << 20
	msgs := make([]Msg, 14)
	for i := range msgs {
		msgs[i] = Msg{Type: 1, Data: payload(i, 500+i)}
	}
	first := p.Head()
	if _, err := p.PublishBatch(msgs); err != nil {
		t.Fatal(err)
	}
	if p.reserved != 0 {
		t.Errorf("reserved %d batches of 14 in a ring of 16", p.reserved)
	}
	checkEvents(t, readAll(t, s, len(msgs), 256), msgs, first)

	for _, big := range [][]Msg{
		{{1, payload(0, 500)}, {1, make([]byte, 1024)}},
		{{1, make([]byte, 10)}, {1, make([]byte, 1024)}},
	} {
		head := p.Head()
		if _, err := p.PublishBatch(big); !errors.Is(err, ErrTooLarge) {
			t.Errorf("a batch over the limit: %v", err)
		}
		if p.Head() != head {
			t.Errorf("a batch over the limit moved the head %d -> %d",
				head, p.Head())
		}
	}
	if _, err := s.TryNext(); !errors.Is(err, ErrWouldBlock) {
		t.Errorf("after batches over the limit: %v", err)
	}
}

// NextBatch's slabs: batches that straddle a slab's end (what is left is
// smaller than the next payload), payloads larger than a slab, empty
// ones; every event read stays as it was while later calls fill the rest
// of its slab, and an append to one does not write into its neighbour.
func TestNextBatchSlabs(t *testing.T) {
	name := newRing(t, &RingOptions{Slots: 512, SlotSize: 8192,
		DataSize: 8 << 20})
	s, err := NewSubscriber(name, &SubOptions{Reliable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// 29 of 1000 B leave 3768 B of a 32 KiB slab: the 5000 B one after
	// them does not fit (-ENOBUFS, a new slab); then mixed sizes, some
	// over a slab, some empty.
	var msgs []Msg
	add := func(n int) {
		i := len(msgs)
		msgs = append(msgs, Msg{Type: uint32(i),
			Data: payload(i, n+8)[:n]})
	}
	for i := 0; i < 29; i++ {
		add(1000)
	}
	add(5000)
	for i := 0; i < 220; i++ {
		add([]int{0, 1, 7, 8, 9, 3000, 8000, 0, 40000, 100, 33000}[i%11])
	}
	// All of them fit: nothing waits for the reader.
	if err := p.SetTimeout(0); err != nil {
		t.Fatal(err)
	}
	first := p.Head()
	for _, m := range msgs {
		if _, err := p.Publish(m.Type, m.Data); err != nil {
			t.Fatal(err)
		}
	}
	var got []Event
	for _, max := range []int{29, 1, 3, 256} {
		n := len(msgs) - len(got)
		if max < n && max != 256 {
			n = max
		}
		got = append(got, readAll(t, s, n, max)...)
	}
	checkEvents(t, got, msgs, first)
	for i := 1; i+1 < len(got); i++ {
		next := append([]byte(nil), got[i+1].Data...)
		got[i].Data = append(got[i].Data, 0xff, 0xfe, 0xfd)
		if !bytes.Equal(got[i+1].Data, next) {
			t.Fatalf("an append to event %d wrote into event %d", i, i+1)
		}
	}
}

// Events of every size through NextBatch at random cuts, against
// payloads published in batches of every size.
func TestBatchesAnySize(t *testing.T) {
	name := newRing(t, &RingOptions{Slots: 128, SlotSize: 512,
		DataSize: 1 << 20})
	s, err := NewSubscriber(name, &SubOptions{Reliable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 480, 481, 130, 4096, 1, 300, 20000, 64, 256}
	var msgs []Msg
	for i := 0; i < 3000; i++ {
		n := sizes[(i*7+i/13)%len(sizes)]
		msgs = append(msgs, Msg{Type: uint32(i % 5),
			Data: payload(i, n+8)[:n]})
	}
	first := p.Head()
	done := make(chan error, 1)
	go func() {
		for i, k := 0, 1; i < len(msgs); k = k%50 + 1 {
			j := i + k
			if j > len(msgs) {
				j = len(msgs)
			}
			if _, err := p.PublishBatch(msgs[i:j]); err != nil {
				done <- fmt.Errorf("batch at %d: %w", i, err)
				return
			}
			i = j
		}
		done <- nil
	}()
	got := readAll(t, s, len(msgs), 77)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, got, msgs, first)
	if _, err := s.NextBatch(context.Background(), make([]Event, 4)); !errors.Is(err, ErrEndOfStream) {
		t.Fatalf("after the last event: %v", err)
	}
}
