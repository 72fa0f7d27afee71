// SPDX-License-Identifier: MIT

package ringcast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Go process to Go process: the parent publishes b.N events of a size, a
// child (this test binary in a role) reads them all; the time from the
// first event published to the child's count of the last one read.  The
// same run compares ringcast with os.Pipe and a Unix stream socket, each
// written one event per call (a message at a time) and 64 per call.

// benchSubRing reads RC_NAME reliably until the end of the stream and
// prints the number of events and bytes it read.
func benchSubRing() int {
	s, err := NewSubscriber(env("NAME"), &SubOptions{Reliable: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	fmt.Println("ready")
	evs := make([]Event, 256)
	var count, bytes int
	for {
		n, err := s.NextBatch(context.Background(), evs)
		if errors.Is(err, ErrEndOfStream) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, ev := range evs[:n] {
			bytes += len(ev.Data)
		}
		count += n
	}
	fmt.Println(count, bytes)
	return 0
}

// benchSubStream reads fd 3 until EOF and prints the number of RC_SIZE
// events and the bytes it read.
func benchSubStream() int {
	f := os.NewFile(3, "stream")
	size := envInt("SIZE")
	fmt.Println("ready")
	buf := make([]byte, 256<<10)
	var bytes int
	for {
		n, err := f.Read(buf)
		bytes += n
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fmt.Println(bytes/size, bytes)
	return 0
}

func finish(b *testing.B, c *child, start time.Time, size int) {
	line := c.line(b)
	el := time.Since(start)
	b.StopTimer()
	c.wait(b)
	if want := fmt.Sprintf("%d %d", b.N, b.N*size); line != want {
		b.Fatalf("the reader says %q, want %q", line, want)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
}

func benchRing(b *testing.B, size, batch int) {
	name := newRing(b, &RingOptions{Slots: 4096, SlotSize: slotFor(size),
		NoData: true})
	p, err := NewPublisher(name, nil)
	if err != nil {
		b.Fatal(err)
	}
	c := spawn(b, "bench-sub-ring", map[string]string{"NAME": name})
	if c.line(b) != "ready" {
		b.Fatal("child not ready")
	}
	msgs := make([]Msg, batch)
	for i := range msgs {
		msgs[i] = Msg{Type: 1, Data: payload(i, size)}
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += batch {
		n := batch
		if b.N-i < n {
			n = b.N - i
		}
		if batch == 1 {
			_, err = p.Publish(1, msgs[0].Data)
		} else {
			_, err = p.PublishBatch(msgs[:n])
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		b.Fatal(err)
	}
	finish(b, c, start, size)
}

func benchStream(b *testing.B, kind string, size, batch int) {
	var r, w *os.File
	switch kind {
	case "pipe":
		var err error
		if r, w, err = os.Pipe(); err != nil {
			b.Fatal(err)
		}
	case "unix":
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		r, w = os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	}
	c := spawn(b, "bench-sub-stream", map[string]string{"SIZE": strconv.Itoa(size)}, r)
	r.Close()
	if c.line(b) != "ready" {
		b.Fatal("child not ready")
	}
	buf := make([]byte, 0, size*batch)
	for i := 0; i < batch; i++ {
		buf = append(buf, payload(i, size)...)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += batch {
		n := batch
		if b.N-i < n {
			n = b.N - i
		}
		if _, err := w.Write(buf[:n*size]); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
	finish(b, c, start, size)
}

func BenchmarkTransport(b *testing.B) {
	skipProcs(b)
	for _, size := range []int{64, 4096} {
		b.Run(fmt.Sprintf("ringcast-batch64/%d", size), func(b *testing.B) { benchRing(b, size, 64) })
		b.Run(fmt.Sprintf("ringcast-single/%d", size), func(b *testing.B) { benchRing(b, size, 1) })
		b.Run(fmt.Sprintf("pipe/%d", size), func(b *testing.B) { benchStream(b, "pipe", size, 1) })
		b.Run(fmt.Sprintf("pipe-batch64/%d", size), func(b *testing.B) { benchStream(b, "pipe", size, 64) })
		b.Run(fmt.Sprintf("unix/%d", size), func(b *testing.B) { benchStream(b, "unix", size, 1) })
		b.Run(fmt.Sprintf("unix-batch64/%d", size), func(b *testing.B) { benchStream(b, "unix", size, 64) })
	}
}

// The cost of one cgo crossing, and of a publish of 64 B alone and in a
// batch of 64, per event, with no reader.
func BenchmarkCgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cgoNop()
	}
}

func BenchmarkPublish64(b *testing.B) { benchPublish(b, 64) }

// The same at 4 KiB.
func BenchmarkPublish4096(b *testing.B) { benchPublish(b, 4096) }

func benchPublish(b *testing.B, size int) {
	name := newRing(b, &RingOptions{Slots: 4096, SlotSize: slotFor(size),
		NoData: true})
	p, err := NewPublisher(name, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	data := payload(0, size)
	b.Run("single", func(b *testing.B) {
		b.SetBytes(int64(size))
		for i := 0; i < b.N; i++ {
			p.Publish(1, data)
		}
	})
	msgs := make([]Msg, 64)
	for i := range msgs {
		msgs[i] = Msg{Type: 1, Data: payload(i, size)}
	}
	b.Run("batch64", func(b *testing.B) {
		b.SetBytes(int64(size))
		for i := 0; i < b.N; i += 64 {
			p.PublishBatch(msgs)
		}
	})
}

// One goroutine publishes a batch of 64 events and reads them back with a
// reliable subscriber: the CPU cost of both sides per event, without a
// second process (BenchmarkPublish gives the publisher's share).
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{64, 4096} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			name := newRing(b, &RingOptions{Slots: 4096,
				SlotSize: slotFor(size), NoData: true})
			p, err := NewPublisher(name, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			s, err := NewSubscriber(name, &SubOptions{Reliable: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			msgs := make([]Msg, 64)
			for i := range msgs {
				msgs[i] = Msg{Type: 1, Data: payload(i, size)}
			}
			evs := make([]Event, 256)
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i += 64 {
				if _, err := p.PublishBatch(msgs); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < 64; {
					n, err := s.NextBatch(ctx, evs)
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
		})
	}
}

func slotFor(size int) uint32 {
	slot := uint32(128)
	for int(slot)-32 < size {
		slot *= 2
	}
	return slot
}
