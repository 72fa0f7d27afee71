// SPDX-License-Identifier: MIT

package ringcast

/*
#include <errno.h>
#include <stdlib.h>
#include "rcgo.h"

*/
import "C"

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// From is where a subscriber starts.
type From uint32

// Where a subscriber starts (SubOptions.From).
const (
	FromNewest From = C.RINGCAST_FROM_NEWEST // events published from now on
	FromOldest From = C.RINGCAST_FROM_OLDEST // the oldest retained event
	FromSeq    From = C.RINGCAST_FROM_SEQ    // SubOptions.Seq
)

// WaitMode is how a subscriber waits once caught up.
type WaitMode uint32

// How a subscriber waits (SubOptions.Wait).
const (
	WaitSpin  WaitMode = C.RINGCAST_WAIT_SPIN  // spin a little, then sleep
	WaitBusy  WaitMode = C.RINGCAST_WAIT_BUSY  // spin until the timeout
	WaitSleep WaitMode = C.RINGCAST_WAIT_SLEEP // sleep at once
)

// SubOptions says how to subscribe; the zero value (or nil) reads every
// event published from now on, lossy, spinning a little then sleeping.
type SubOptions struct {
	From        From
	Seq         uint64   // the first sequence, with FromSeq
	Types       []uint32 // only these type tags (at most 256); nil: all
	Reliable    bool     // gate the publisher: lose nothing
	Resubscribe bool     // follow a new publisher instead of ErrPublisherDied
	Wait        WaitMode
	Spin        time.Duration // WaitSpin's spin (0: 20 us)
	Liveness    time.Duration // the publisher's liveness check (0: 250 ms)
	DemoteAfter time.Duration // reliable: own, shorter demotion limit
}

// Event is one event as a subscriber sees it.  Data is the subscriber's
// own copy, unless the Event is a Borrowed one's.
type Event struct {
	Seq       uint64 // its sequence number
	Time      uint64 // CLOCK_MONOTONIC nanoseconds, stamped by the publisher
	Type      uint32 // its type tag
	Epoch     uint32 // low 32 bits of its publisher's epoch
	Publisher uint32 // the writer's entry on a multi-publisher ring
	Data      []byte
}

// Subscriber reads a ring at its own pace from a private cursor.
//
// Its methods may be called from any goroutine; calls on one Subscriber
// are serialised (the library's handles are one thread at a time), except
// Close, which wakes a call that waits.  Close it: a reliable subscriber
// left open holds the publisher back until this process exits.
type Subscriber struct {
	handleState
	mu sync.Mutex // serialises the calls on s
	s  *C.struct_ringcast_sub

	imu sync.Mutex // orders the interrupts against the free in Close
	is  *C.struct_ringcast_sub

	first    uint64
	maxEvent int
	borrowed bool

	// C memory the library fills: cgo would move a Go event to the heap
	// at every call.
	cev   *C.struct_ringcast_event
	cevs  *C.struct_ringcast_event
	ncevs int

	// NextBatch copies the payloads straight into Go memory, slab[off:],
	// and hands out slices of it: a slab serves batches until what is
	// left of it is smaller than want (the largest payload of the last
	// batch).  Only the unused tail is ever written again.
	slab []byte
	off  int
	want int
}

// batchMax is the most events one NextBatch call takes.
const batchMax = 256

// NewSubscriber subscribes to an existing ring.
func NewSubscriber(name string, opts *SubOptions) (*Subscriber, error) {
	cname, err := cstring(name)
	if err != nil {
		return nil, err
	}
	defer cfree(unsafe.Pointer(cname))
	var o C.struct_ringcast_sub_opts
	if opts != nil {
		o.from = C.uint32_t(opts.From)
		o.wait = C.uint32_t(opts.Wait)
		o.seq = C.uint64_t(opts.Seq)
		if opts.Spin < 0 || opts.Liveness < 0 || opts.DemoteAfter < 0 {
			return nil, &Error{Op: "NewSubscriber",
				Errno: syscall.EINVAL, Detail: "a negative duration"}
		}
		o.spin_ns = C.uint64_t(opts.Spin)
		o.liveness_ns = C.uint64_t(opts.Liveness)
		o.demote_ns = C.uint64_t(opts.DemoteAfter)
		if opts.Reliable {
			o.flags |= C.RINGCAST_SUB_RELIABLE
		}
		if opts.Resubscribe {
			o.flags |= C.RINGCAST_SUB_RESUBSCRIBE
		}
		if n := len(opts.Types); n > 0 {
			if n > C.RINGCAST_MAX_TYPES {
				return nil, &Error{Op: "NewSubscriber",
					Errno:  syscall.EINVAL,
					Detail: "more than 256 types"}
			}
			// The options hold a pointer: the types go in C memory.
			t := (*C.uint32_t)(C.malloc(C.size_t(n) * 4))
			if t == nil {
				return nil, &Error{Op: "NewSubscriber",
					Errno: syscall.ENOMEM}
			}
			defer C.free(unsafe.Pointer(t))
			ts := unsafe.Slice(t, n)
			for i, v := range opts.Types {
				ts[i] = C.uint32_t(v)
			}
			o.types, o.ntypes = t, C.uint32_t(n)
		}
	}
	st, err := Stats(name)
	if err != nil {
		err.(*Error).Op = "NewSubscriber"
		return nil, err
	}
	cev := (*C.struct_ringcast_event)(C.calloc(1, C.sizeof_struct_ringcast_event))
	if cev == nil {
		return nil, &Error{Op: "NewSubscriber", Errno: syscall.ENOMEM}
	}
	var s *C.struct_ringcast_sub
	var first C.uint64_t
	var d detailBuf
	dp, dn := d.ptr()
	if r := C.rcgo_sub_attach(cname, &o, &s, &first, dp, dn); r < 0 {
		C.free(unsafe.Pointer(cev))
		return nil, errorOf("NewSubscriber", r, d.String())
	}
	return &Subscriber{s: s, is: s, first: uint64(first), cev: cev,
		maxEvent: int(st.MaxEvent)}, nil
}

// First is the first sequence the subscriber reads.
func (s *Subscriber) First() uint64 { return s.first }

func (s *Subscriber) interrupt() {
	s.imu.Lock()
	if s.is != nil {
		C.ringcast_sub_interrupt(s.is)
	}
	s.imu.Unlock()
}

func eventOf(ce *C.struct_ringcast_event, data []byte) Event {
	return Event{Seq: uint64(ce.seq), Time: uint64(ce.ts),
		Type: uint32(ce._type), Epoch: uint32(ce.epoch),
		Publisher: uint32(ce.publisher), Data: data}
}

func (s *Subscriber) codeError(op string, r C.int, ce *C.struct_ringcast_event) error {
	switch r {
	case -C.EOVERFLOW:
		return &LappedError{Op: op, Lost: uint64(ce.lost)}
	case -C.EINVAL:
		if s.borrowed {
			return &Error{Op: op, Errno: syscall.EINVAL,
				Detail: "an event is borrowed: Release it first"}
		}
	}
	return errorOf(op, r, "")
}

// begin takes the handle for a call; the caller unlocks s.mu.
func (s *Subscriber) begin(op string) error {
	s.mu.Lock()
	// Closing: Close's one interrupt may have gone to the call before
	// this one, and this one would then wait for ever.
	if s.s == nil || s.isClosing() {
		return closedError(op)
	}
	if s.borrowed {
		return &Error{Op: op, Errno: syscall.EINVAL,
			Detail: "an event is borrowed: Release it first"}
	}
	return nil
}

// Next returns the next event, a copy, waiting until one comes or ctx is
// done (ctx's error is returned then: context.Canceled or
// context.DeadlineExceeded).  A lapped lossy subscriber gets a
// *LappedError (errors.Is ErrLapped) with the count lost, a demoted
// reliable one ErrDemoted: call again to read on.  Once everything was
// read: ErrEndOfStream, ErrPublisherDied or ErrRemoved.
//
// One cgo call per event: NextBatch amortises it.
func (s *Subscriber) Next(ctx context.Context) (Event, error) {
	defer s.mu.Unlock()
	if err := s.begin("Next"); err != nil {
		return Event{}, err
	}
	r, err := waitCtx(ctx, &s.handleState, "Next", s.interrupt,
		func(t int64) C.int {
			return C.ringcast_sub_next(s.s, s.cev, C.int64_t(t))
		})
	if err != nil {
		return Event{}, err
	}
	if r < 0 {
		return Event{}, s.codeError("Next", r, s.cev)
	}
	var data []byte
	if n := int(s.cev.len); n > 0 {
		data = C.GoBytes(s.cev.data, C.int(n))
	}
	return eventOf(s.cev, data), nil
}

// TryNext is Next without waiting: ErrWouldBlock when nothing is ready.
func (s *Subscriber) TryNext() (Event, error) {
	defer s.mu.Unlock()
	if err := s.begin("TryNext"); err != nil {
		return Event{}, err
	}
	r := C.ringcast_sub_next(s.s, s.cev, 0)
	if r == -C.EINTR && s.isClosing() {
		return Event{}, closedError("TryNext")
	}
	if r < 0 {
		return Event{}, s.codeError("TryNext", r, s.cev)
	}
	var data []byte
	if n := int(s.cev.len); n > 0 {
		data = C.GoBytes(s.cev.data, C.int(n))
	}
	return eventOf(s.cev, data), nil
}

func (s *Subscriber) batchBuffers() error {
	if s.cevs == nil {
		p := C.calloc(batchMax, C.sizeof_struct_ringcast_event)
		if p == nil {
			return &Error{Op: "NextBatch", Errno: syscall.ENOMEM}
		}
		s.cevs, s.ncevs = (*C.struct_ringcast_event)(p), batchMax
	}
	return nil
}

// slabSize is a slab's size, unless one payload needs more.
var slabSize = 32 << 10

// room makes sure that at least need bytes are left of the slab.
func (s *Subscriber) room(need int) {
	if len(s.slab)-s.off >= need {
		return
	}
	n := slabSize
	if need > n {
		n = (need + 7) &^ 7
	}
	s.slab, s.off = make([]byte, n), 0
}

// NextBatch fills evs[:n] with the next n events, 1 <= n <= len(evs) (at
// most 256 a call), in one cgo call: it waits for the first as Next does,
// then takes what is ready without waiting.  The payloads are copies the
// caller keeps, valid after the next call, copied by the library straight
// into a 32 KiB slab of Go memory (larger for a larger payload) that
// later batches fill on: keeping one keeps its slab alive.  What ended a
// batch early (a lap, the end of the stream, the end of the slab) is
// returned by the next call, nothing lost; the errors are Next's.
func (s *Subscriber) NextBatch(ctx context.Context, evs []Event) (int, error) {
	defer s.mu.Unlock()
	if err := s.begin("NextBatch"); err != nil {
		return 0, err
	}
	if len(evs) == 0 {
		return 0, &Error{Op: "NextBatch", Errno: syscall.EINVAL,
			Detail: "no room for an event"}
	}
	if err := s.batchBuffers(); err != nil {
		return 0, err
	}
	max := len(evs)
	if max > s.ncevs {
		max = s.ncevs
	}
	need := s.want
	if need < 8 {
		need = 8
	}
	for {
		s.room(need)
		buf := s.slab[s.off:]
		r, err := waitCtx(ctx, &s.handleState, "NextBatch", s.interrupt,
			func(t int64) C.int {
				// Go memory without Go pointers, not kept
				// by C: the helper leaves offsets in s.cevs.
				return C.rcgo_sub_next_batch(s.s, s.cevs,
					C.uint(max), unsafe.Pointer(&buf[0]),
					C.size_t(len(buf)), C.int64_t(t))
			})
		if err != nil {
			return 0, err
		}
		if r == -C.ENOBUFS {
			// The next event is larger than what is left: on a
			// new slab, unless the ring's largest was too small.
			l := int(s.cevs.len)
			if l > len(buf) && l <= s.maxEvent {
				need = l
				continue
			}
			// Larger than the largest event the ring said it
			// takes: the ring's geometry is not what it was at
			// attach.
			return 0, &Error{Op: "NextBatch", Errno: syscall.EBADMSG,
				Detail: "an event larger than the ring's largest"}
		}
		if r == -C.EFAULT || int(r) > max {
			return 0, &Error{Op: "NextBatch", Errno: syscall.EBADMSG,
				Detail: "a batch outside its buffer"}
		}
		if r < 0 {
			return 0, s.codeError("NextBatch", r, s.cevs)
		}
		return s.carve(evs, int(r), buf), nil
	}
}

// carve hands out the n events just read into buf, and moves the slab's
// offset past their payloads.
func (s *Subscriber) carve(evs []Event, n int, buf []byte) int {
	ces := unsafe.Slice(s.cevs, n)
	end, want := 0, 0
	for i := range ces {
		var data []byte
		if l := int(ces[i].len); l > 0 {
			// rcgo_sub_next_batch() left the offset in buf.
			off := int(*(*uintptr)(unsafe.Pointer(&ces[i].data)))
			data = buf[off : off+l : off+l]
			if off+l > end {
				end = off + l
			}
			if l > want {
				want = l
			}
		}
		evs[i] = eventOf(&ces[i], data)
	}
	s.off += (end + 7) &^ 7
	if s.off > len(s.slab) {
		s.off = len(s.slab)
	}
	s.want = want
	return n
}

// Borrowed is an event read in place, without a copy: Data points into
// the ring's shared memory, valid only until Release (or Close).  After
// that the slice reads whatever the publisher wrote there since, or
// unmapped memory after Close (a fault): never keep it.  A lossy
// subscriber's borrowed data may be overwritten while it is looked at:
// trust what was read only once Release returned nil.
type Borrowed struct {
	Event
	s    *Subscriber
	done bool
}

// Borrow waits for the next event as Next does and returns it in place.
// No other read of the subscriber is allowed until its Release.
func (s *Subscriber) Borrow(ctx context.Context) (*Borrowed, error) {
	defer s.mu.Unlock()
	if err := s.begin("Borrow"); err != nil {
		return nil, err
	}
	r, err := waitCtx(ctx, &s.handleState, "Borrow", s.interrupt,
		func(t int64) C.int {
			return C.ringcast_sub_borrow(s.s, s.cev, C.int64_t(t))
		})
	if err != nil {
		return nil, err
	}
	if r < 0 {
		return nil, s.codeError("Borrow", r, s.cev)
	}
	var data []byte
	if n := int(s.cev.len); n > 0 {
		data = unsafe.Slice((*byte)(s.cev.data), n)
	}
	s.borrowed = true
	return &Borrowed{Event: eventOf(s.cev, data), s: s}, nil
}

// Release ends the borrow.  nil: the event was not overwritten while
// borrowed; a *LappedError or ErrDemoted: it was, discard what was read.
// Releasing twice is ErrInvalid; after Close, ErrClosed.
func (b *Borrowed) Release() error {
	s := b.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil {
		return closedError("Release")
	}
	if b.done || !s.borrowed {
		return &Error{Op: "Release", Errno: syscall.EINVAL,
			Detail: "released already"}
	}
	b.done = true
	s.borrowed = false
	b.Data = nil
	r := C.ringcast_sub_release(s.s, s.cev)
	if r < 0 {
		return s.codeError("Release", r, s.cev)
	}
	return nil
}

// ReadAt reads the event of sequence seq, a copy, without moving the
// cursor: ErrRetired when it is no longer retained, ErrWouldBlock when it
// is not published yet.
func (s *Subscriber) ReadAt(seq uint64) (Event, error) {
	defer s.mu.Unlock()
	if err := s.begin("ReadAt"); err != nil {
		return Event{}, err
	}
	r := C.ringcast_sub_read_at(s.s, C.uint64_t(seq), s.cev)
	if r < 0 {
		return Event{}, s.codeError("ReadAt", r, s.cev)
	}
	var data []byte
	if n := int(s.cev.len); n > 0 {
		data = C.GoBytes(s.cev.data, C.int(n))
	}
	return eventOf(s.cev, data), nil
}

// SubStats is a subscriber's accounting (ringcast_sub_get_stats()).
type SubStats struct {
	First, Cursor, Delivered, Skipped, Lost, Laps, Aborted uint64
	Reliable                                               bool
	Demoted                                                bool
}

// Stats reads the subscriber's accounting.
func (s *Subscriber) Stats() (SubStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil {
		return SubStats{}, closedError("Stats")
	}
	var st C.struct_ringcast_sub_stats
	C.ringcast_sub_get_stats(s.s, &st)
	return SubStats{First: uint64(st.first), Cursor: uint64(st.cursor),
		Delivered: uint64(st.delivered), Skipped: uint64(st.skipped),
		Lost: uint64(st.lost), Laps: uint64(st.laps),
		Aborted: uint64(st.aborted), Reliable: st.reliable != 0,
		Demoted: st.demoted != 0}, nil
}

// Close leaves the ring and frees the subscriber.  A call waiting on it
// returns ErrClosed; a borrowed event's Data is unmapped.  Closing again
// is ErrClosed.
func (s *Subscriber) Close() error {
	if !atomic.CompareAndSwapInt32(&s.closing, 0, 1) {
		return closedError("Close")
	}
	s.interrupt()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.imu.Lock()
	C.ringcast_sub_detach(s.s)
	s.s, s.is = nil, nil
	s.imu.Unlock()
	C.free(unsafe.Pointer(s.cev))
	C.free(unsafe.Pointer(s.cevs))
	s.cev, s.cevs, s.slab = nil, nil, nil
	return nil
}
