// SPDX-License-Identifier: MIT

package ringcast

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ringcast/internal/forkprobe"
)

func TestPublishNext(t *testing.T) {
	name := newRing(t, nil)
	s, err := NewSubscriber(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	n, err := p.Publish(7, []byte("hello"))
	if err != nil || n != 1 {
		t.Fatalf("Publish = %d, %v; want 1 subscriber reached", n, err)
	}
	if _, err := p.Publish(8, nil); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Next(context.Background())
	if err != nil || ev.Type != 7 || string(ev.Data) != "hello" ||
		ev.Seq != s.First() {
		t.Fatalf("Next = %+v, %v", ev, err)
	}
	ev, err = s.Next(context.Background())
	if err != nil || ev.Type != 8 || len(ev.Data) != 0 {
		t.Fatalf("Next = %+v, %v", ev, err)
	}
	if _, err := s.TryNext(); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("TryNext on an empty ring: %v", err)
	}
}

// Batches of every size class: empty, in a slot, in the data area.
func TestBatchRoundTrip(t *testing.T) {
	name := newRing(t, &RingOptions{Slots: 64, SlotSize: 256,
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
	sizes := []int{0, 1, 8, 100, 224, 225, 1000, 70000}
	const total = 2000
	var want [][]byte
	for i := 0; i < total; i++ {
		want = append(want, payload(i, sizes[i%len(sizes)]+8)[:sizes[i%len(sizes)]])
	}
	done := make(chan error, 1)
	go func() {
		var msgs []Msg
		for i, w := range want {
			msgs = append(msgs, Msg{Type: uint32(i), Data: w})
			if len(msgs) == 37 || i == total-1 {
				if _, err := p.PublishBatch(msgs); err != nil {
					done <- err
					return
				}
				msgs = nil
			}
		}
		done <- p.Close()
	}()
	evs := make([]Event, 50)
	got := 0
	for {
		n, err := s.NextBatch(context.Background(), evs)
		if errors.Is(err, ErrEndOfStream) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs[:n] {
			if ev.Type != uint32(got) || !bytes.Equal(ev.Data, want[got]) {
				t.Fatalf("event %d: type %d, %d bytes", got,
					ev.Type, len(ev.Data))
			}
			got++
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got != total {
		t.Fatalf("read %d events, want %d", got, total)
	}
}

func TestErrors(t *testing.T) {
	name := newRing(t, &RingOptions{Slots: 4, SlotSize: 64, NoData: true})
	if _, err := NewSubscriber(name+"-missing", nil); !errors.Is(err, ErrNotFound) ||
		!errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing ring: %v", err)
	}
	if _, err := Create(name, &RingOptions{Exclusive: true}); !errors.Is(err, ErrExists) {
		t.Errorf("exclusive create: %v", err)
	}
	if _, err := Create("bad\x00name", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("NUL in a name: %v", err)
	}
	s, err := NewSubscriber(name, &SubOptions{From: FromOldest})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPublisher(name, nil); !errors.Is(err, ErrBusy) {
		t.Errorf("second publisher: %v", err)
	}
	_, err = p.Publish(1, make([]byte, 4096))
	var re *Error
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &re) ||
		re.Errno != syscall.EMSGSIZE {
		t.Errorf("payload over the limit: %v", err)
	}
	if _, err := p.PublishBatch([]Msg{{1, []byte("a")}, {1, make([]byte, 4096)}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("batch over the limit: %v", err)
	}
	// Lapped: 10 events into 4 slots.
	for i := 0; i < 10; i++ {
		if _, err := p.Publish(1, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.Next(context.Background())
	var le *LappedError
	if !errors.Is(err, ErrLapped) || !errors.As(err, &le) || le.Lost == 0 ||
		le.Lost > 8 {
		t.Fatalf("lapped: %v", err)
	}
	ev, err := s.Next(context.Background())
	if err != nil || uint64(ev.Data[0]) != le.Lost {
		t.Fatalf("after the lap of %d: %+v, %v", le.Lost, ev, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i := int(le.Lost) + 1; i < 10; i++ {
		if _, err := s.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.Next(context.Background())
	if !errors.Is(err, ErrEndOfStream) || !errors.Is(err, io.EOF) ||
		!errors.Is(err, syscall.EPIPE) {
		t.Fatalf("end of stream: %v", err)
	}
	// Closed handles: a clear error, no crash.
	if _, err := p.Publish(1, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if _, err := p.PublishBatch([]Msg{{}}); !errors.Is(err, ErrClosed) {
		t.Errorf("PublishBatch after Close: %v", err)
	}
	if err := p.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	if _, err := s.NextBatch(context.Background(), make([]Event, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("NextBatch after Close: %v", err)
	}
	if _, err := s.Stats(); !errors.Is(err, ErrClosed) {
		t.Errorf("Stats after Close: %v", err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if !strings.Contains(err.Error(), "closed") {
		t.Errorf("message %q", err)
	}
}

// The library's detail travels with the error.
func TestErrorDetail(t *testing.T) {
	name := ringName(t)
	if err := os.WriteFile("/dev/shm/ringcast."+name, []byte("not a ring, not at all, not a ring"), 0600); err != nil {
		t.Fatal(err)
	}
	_, err := NewSubscriber(name, nil)
	var re *Error
	if !errors.As(err, &re) || re.Detail == "" ||
		!strings.Contains(err.Error(), re.Detail) {
		t.Fatalf("no detail: %v", err)
	}
	t.Log(err)
}

func TestPublisherDiedAndResubscribe(t *testing.T) {
	name := newRing(t, nil)
	plain, err := NewSubscriber(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	resub, err := NewSubscriber(name, &SubOptions{Resubscribe: true,
		Liveness: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer resub.Close()
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Publish(1, []byte("a"))
	p.Detach() // seen as the publisher's death
	if _, err := plain.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Next(context.Background()); !errors.Is(err, ErrPublisherDied) {
		t.Fatalf("after the death: %v", err)
	}
	if ev, err := resub.Next(context.Background()); err != nil || string(ev.Data) != "a" {
		t.Fatal(ev, err)
	}
	// The resubscriber waits for the next publisher.
	if _, err := resub.Next(ctxTimeout(t, 20*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a new publisher: %v", err)
	}
	p2, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	p2.Publish(1, []byte("b"))
	p2.Close()
	if ev, err := resub.Next(context.Background()); err != nil || string(ev.Data) != "b" {
		t.Fatal(ev, err)
	}
	if _, err := resub.Next(context.Background()); !errors.Is(err, ErrEndOfStream) {
		t.Fatal(err)
	}
}

func TestNextDeadlineAndCancel(t *testing.T) {
	name := newRing(t, nil)
	s, err := NewSubscriber(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Next(ctxTimeout(t, 5*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	res := make(chan error)
	go func() {
		_, err := s.Next(ctx)
		res <- err
	}()
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while waiting: %v", err)
	}
}

// Cancellations racing arrivals: an interrupt that lands after the wait
// returned makes the next wait return -EINTR, which must be retried, and
// no event may be lost or doubled on the way.
func TestCancelRacesEvents(t *testing.T) {
	name := newRing(t, nil)
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
	const n = 300
	go func() {
		for i := 0; i < n; i++ {
			p.Publish(1, []byte{byte(i)})
		}
	}()
	next := 0
	for next < n {
		ctx, cancel := context.WithCancel(context.Background())
		go cancel()
		ev, err := s.Next(ctx)
		cancel()
		if errors.Is(err, context.Canceled) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Data[0] != byte(next) {
			t.Fatalf("event %d: got %d", next, ev.Data[0])
		}
		next++
		// A wait with no deadline after a late interrupt: retried.
		if next%10 == 0 && next < n {
			ev, err = s.Next(context.Background())
			if err != nil || ev.Data[0] != byte(next) {
				t.Fatalf("after a late cancel: %v, %v", ev, err)
			}
			next++
		}
	}
}

// Close with two waiters on one subscriber: its one interrupt goes to the
// first; the second must not then wait for ever.  Repeated, since which
// goroutine gets there first is up to the scheduler.
func TestCloseWakesWaiters(t *testing.T) {
	name := newRing(t, nil)
	for round := 0; round < 200; round++ {
		s, err := NewSubscriber(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		res := make(chan error, 2)
		go func() {
			_, err := s.Next(context.Background())
			res <- err
		}()
		go func() {
			_, err := s.NextBatch(context.Background(), make([]Event, 4))
			res <- err
		}()
		// Whichever waits or has not started yet: both end ErrClosed.
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		for i := 0; i < 3; i++ {
			select {
			case err := <-res:
				if !errors.Is(err, ErrClosed) {
					t.Fatalf("round %d: waiter: %v", round, err)
				}
			case err := <-closed:
				if err != nil {
					t.Fatalf("round %d: Close: %v", round, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: a waiter or Close still waits", round)
			}
		}
	}
}

func TestPublisherInterrupt(t *testing.T) {
	name := newRing(t, &RingOptions{Slots: 2, SlotSize: 64, NoData: true})
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
	res := make(chan error)
	go func() {
		// The reliable subscriber reads nothing: the third waits.
		var err error
		for i := 0; i < 3 && err == nil; i++ {
			_, err = p.Publish(1, []byte{1})
		}
		res <- err
	}()
	p.Interrupt()
	if err := <-res; !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted publish: %v", err)
	}
	if err := p.SetTimeout(0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(1, []byte{1}); !errors.Is(err, ErrWouldBlock) {
		t.Fatalf("no room, no wait: %v", err)
	}
}

func TestWaitSubscribers(t *testing.T) {
	name := newRing(t, nil)
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.WaitSubscribers(ctxTimeout(t, 5*time.Millisecond), 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("nobody there: %v", err)
	}
	// The cancellation above left no interrupt behind: with room, the
	// next publishes succeed.
	if _, err := p.Publish(1, nil); err != nil {
		t.Fatal(err)
	}
	s, err := NewSubscriber(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := p.WaitSubscribers(context.Background(), 1); err != nil || n != 1 {
		t.Fatalf("WaitSubscribers = %d, %v", n, err)
	}
}

func TestBorrow(t *testing.T) {
	name := newRing(t, nil)
	s, err := NewSubscriber(name, &SubOptions{From: FromOldest})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Publish(3, []byte("borrowed"))
	p.Publish(4, []byte("copied"))
	b, err := s.Borrow(context.Background())
	if err != nil || string(b.Data) != "borrowed" || b.Type != 3 {
		t.Fatal(b, err)
	}
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Next while borrowed: %v", err)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second Release: %v", err)
	}
	if ev, err := s.Next(context.Background()); err != nil || string(ev.Data) != "copied" {
		t.Fatal(ev, err)
	}
}

// A handle used in a forked child gets -ECHILD, which is ErrForked.  Go
// cannot fork without exec, so the child is C (internal/forkprobe).
func TestForkedHandle(t *testing.T) {
	name := newRing(t, nil)
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := forkprobe.PublishInChild(p.cptr())
	if r != -int(syscall.ECHILD) {
		t.Fatalf("publish in a forked child returned %d", r)
	}
	if err := errorOf("Publish", -10, ""); !errors.Is(err, ErrForked) {
		t.Fatalf("-ECHILD: %v", err)
	}
	// The parent's handle is intact.
	if _, err := p.Publish(1, nil); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentCalls(t *testing.T) {
	name := newRing(t, nil)
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := p.Publish(1, []byte("x")); err != nil &&
					!errors.Is(err, ErrClosed) {
					t.Error(err)
					return
				}
				p.Head()
			}
		}()
	}
	wg.Wait()
	if h := p.Head(); h != 800 {
		t.Fatalf("head %d, want 800", h)
	}
	p.Close()
}

// An interrupt that lands after a wait returned (a cancellation that lost
// the race) makes the library's next wait return -EINTR at once: Next
// retries it, with or without a context.
func TestStaleInterrupt(t *testing.T) {
	name := newRing(t, nil)
	s, err := NewSubscriber(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// With a deadline, on an empty ring: the wait runs to its end.
	s.interrupt() // as a late cancellation would
	if _, err := s.Next(ctxTimeout(t, 10*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next after a stale interrupt: %v", err)
	}
	// Without a context: it waits for the event.
	s.interrupt()
	res := make(chan error)
	go func() {
		ev, err := s.Next(context.Background())
		if err == nil && string(ev.Data) != "x" {
			err = errors.New("wrong event")
		}
		res <- err
	}()
	p.Publish(1, []byte("x"))
	if err := <-res; err != nil {
		t.Fatalf("Next after a stale interrupt: %v", err)
	}
}

// A cancellation of WaitSubscribers that lands after its wait returned
// leaves no interrupt behind for the next publish that waits for room.
func TestWaitSubscribersLateCancel(t *testing.T) {
	name := newRing(t, &RingOptions{Slots: 2, SlotSize: 64, NoData: true})
	p, err := NewPublisher(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var s *Subscriber
	// Not there at the first look, there for the wait; the
	// cancellation lands once the wait returned.
	testHooks.beforeWait = func() {
		s, err = NewSubscriber(name, &SubOptions{Reliable: true})
	}
	testHooks.afterWait = func() bool { cancel(); return true }
	n, werr := p.WaitSubscribers(ctx, 1)
	testHooks.beforeWait, testHooks.afterWait = nil, nil
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if werr != nil || n != 1 {
		t.Fatalf("WaitSubscribers = %d, %v", n, werr)
	}
	p.SetTimeout(20 * time.Millisecond)
	for i := 0; i < 2; i++ {
		if _, err := p.Publish(1, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The ring is full for the reliable subscriber: the wait times out.
	if _, err := p.Publish(1, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("publish into a full ring: %v", err)
	}
}
