// SPDX-License-Identifier: MIT

package ringcast

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"
)

func TestFeed(t *testing.T) {
	f := &Feed{Name: ringName(t), Type: 5}
	ch1, ch2 := make(chan Event, 8), make(chan Event)
	s1, s2 := f.Subscribe(ch1), f.Subscribe(ch2)
	for i := 0; i < 3; i++ {
		n, err := f.Send([]byte{byte(i)})
		if err != nil || n != 2 {
			t.Fatalf("Send = %d, %v; want 2 reached", n, err)
		}
	}
	for i := 0; i < 3; i++ {
		e1, e2 := <-ch1, <-ch2
		if e1.Data[0] != byte(i) || e2.Data[0] != byte(i) || e1.Type != 5 {
			t.Fatalf("event %d: %+v %+v", i, e1, e2)
		}
	}
	s2.Unsubscribe()
	s2.Unsubscribe() // idempotent
	if _, ok := <-s2.Err(); ok {
		t.Fatal("Err not closed by Unsubscribe")
	}
	if n, err := f.Send([]byte{9}); err != nil || n != 1 {
		t.Fatalf("after an Unsubscribe: Send = %d, %v", n, err)
	}
	if ev := <-ch1; ev.Data[0] != 9 {
		t.Fatal(ev)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-s1.Err(); !errors.Is(err, ErrEndOfStream) {
		t.Fatalf("after Close: %v", err)
	}
	s1.Unsubscribe()
	// A subscription that cannot start says why on Err.
	bad := (&Feed{Name: "no/"}).Subscribe(make(chan Event))
	if err := <-bad.Err(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	bad.Unsubscribe()
}

// An Unsubscribe while the delivery waits for a receiver that never
// comes returns, and nothing is sent after it.
func TestFeedUnsubscribeBlocked(t *testing.T) {
	f := &Feed{Name: ringName(t)}
	defer f.Close()
	ch := make(chan Event)
	s := f.Subscribe(ch)
	if _, err := f.Send([]byte("x")); err != nil {
		t.Fatal(err)
	}
	s.Unsubscribe()
	select {
	case ev := <-ch:
		t.Fatalf("delivered after Unsubscribe: %+v", ev)
	default:
	}
}

func TestTypeMux(t *testing.T) {
	name := newRing(t, nil)
	m, err := NewTypeMux(name, &MuxOptions{Reliable: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.Subscribe(1), m.Subscribe(2, 2, 3)
	nums := SubscribeAs(m, 4, func(p []byte) (int, error) {
		return strconv.Atoi(string(p))
	})
	for i := 0; i < 5; i++ {
		for _, typ := range []uint32{1, 2, 3, 4} {
			if err := m.Post(typ, []byte(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := m.Post(4, []byte("not a number")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if ev := <-a.Chan(); ev.Type != 1 || string(ev.Data) != strconv.Itoa(i) {
			t.Fatalf("a: %+v", ev)
		}
		for _, typ := range []uint32{2, 3} {
			if ev := <-b.Chan(); ev.Type != typ {
				t.Fatalf("b: %+v, want type %d", ev, typ)
			}
		}
		if v := <-nums.Chan(); v != i {
			t.Fatalf("typed: %d, want %d", v, i)
		}
	}
	a.Unsubscribe()
	a.Unsubscribe()
	if _, ok := <-a.Chan(); ok {
		t.Fatal("channel open after Unsubscribe")
	}
	// The refused payload is counted; wait for it through a later one.
	if err := m.Post(4, []byte("7")); err != nil {
		t.Fatal(err)
	}
	if v := <-nums.Chan(); v != 7 || nums.DecodeErrors() != 1 ||
		nums.LastError() == nil {
		t.Fatalf("typed: %d, %d errors", v, nums.DecodeErrors())
	}
	m.Stop()
	m.Stop()
	if _, ok := <-b.Chan(); ok {
		t.Fatal("channel open after Stop")
	}
	if _, ok := <-nums.Chan(); ok {
		t.Fatal("typed channel open after Stop")
	}
	nums.Unsubscribe()
	if err := m.Post(1, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Post after Stop: %v", err)
	}
	if _, ok := <-m.Subscribe(1).Chan(); ok {
		t.Fatal("a subscription after Stop is open")
	}
}

// The end of the ring's stream ends the mux: channels closed, Err says
// why.
func TestTypeMuxEnd(t *testing.T) {
	name := newRing(t, nil)
	m, err := NewTypeMux(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	s := m.Subscribe(1)
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Publish(1, []byte("last"))
	p.Close()
	if ev := <-s.Chan(); string(ev.Data) != "last" {
		t.Fatal(ev)
	}
	if _, ok := <-s.Chan(); ok {
		t.Fatal("open after the end")
	}
	select {
	case <-m.Done():
	case <-time.After(time.Minute):
		t.Fatal("mux not done")
	}
	if err := m.Err(); !errors.Is(err, ErrEndOfStream) {
		t.Fatalf("Err = %v", err)
	}
}

var _ = context.Background
var _ = fmt.Sprint
