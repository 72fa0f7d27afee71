// SPDX-License-Identifier: MIT

package ringcast

/*
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include "rcgo.h"
*/
import "C"

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// PubOptions says how to become a ring's publisher; the zero value (or
// nil) for none of these.
type PubOptions struct {
	Reopen   bool // take over a closed ring (RINGCAST_PUB_REOPEN)
	Precise  bool // stamp events with the precise clock
	AnyOwner bool // publish into a ring of another user
}

// Publisher is a ring's publisher: it holds the ring's lease until Close
// (the end of the stream) or Detach (seen by subscribers as its death).
//
// Its methods may be called from any goroutine; calls on one Publisher
// are serialised (the library's handles are one thread at a time), except
// Interrupt and Close, which wake a call that waits.
type Publisher struct {
	handleState
	mu sync.Mutex // serialises the calls on p
	p  *C.struct_ringcast_pub

	imu sync.Mutex // orders Interrupt against the free in Close
	ip  *C.struct_ringcast_pub

	// A batch is reserved in the ring and copied there from Go
	// (reserveBatch), or staged in C memory: cgo forbids C memory holding
	// Go pointers (the msgs' data), and Go 1.19 has no runtime.Pinner.
	stage    unsafe.Pointer
	stageCap int
	cmsgs    *C.struct_ringcast_msg
	cbufs    *unsafe.Pointer // as many as cmsgs: the reserved areas
	cmsgsCap int

	// The ring's geometry at attach, what a reservation may be: at most
	// reserveMax events of at most capacity bytes (0: none).
	capacity   int
	reserveMax int
	reserved   uint64 // batches published by reserveBatch, for the tests
}

// NewPublisher attaches to an existing ring as its publisher.
func NewPublisher(name string, opts *PubOptions) (*Publisher, error) {
	cname, err := cstring(name)
	if err != nil {
		return nil, err
	}
	defer cfree(unsafe.Pointer(cname))
	var flags C.uint
	if opts != nil {
		if opts.Reopen {
			flags |= C.RINGCAST_PUB_REOPEN
		}
		if opts.Precise {
			flags |= C.RINGCAST_PUB_PRECISE
		}
		if opts.AnyOwner {
			flags |= C.RINGCAST_PUB_ANY_OWNER
		}
	}
	var p *C.struct_ringcast_pub
	var d detailBuf
	dp, dn := d.ptr()
	if r := C.rcgo_pub_attach(cname, flags, &p, dp, dn); r < 0 {
		return nil, errorOf("NewPublisher", r, d.String())
	}
	pub := &Publisher{p: p, ip: p}
	// A hint only: a batch the library will not reserve is staged.
	if st, err := Stats(name); err == nil {
		pub.capacity = int(st.Capacity)
		pub.reserveMax = int(st.Slots) - int(st.Slots)/4
	}
	return pub, nil
}

func (p *Publisher) interrupt() {
	p.imu.Lock()
	if p.ip != nil {
		C.ringcast_pub_interrupt(p.ip)
	}
	p.imu.Unlock()
}

// Interrupt makes a Publish or PublishBatch that waits for room (a
// reliable subscriber a whole ring behind) return ErrInterrupted, or the
// next one that waits if none waits now.  Any goroutine.  A batch
// interrupted part-way has its earlier parts published: Head says how far.
func (p *Publisher) Interrupt() {
	atomic.StoreInt32(&p.userIntr, 1)
	p.interrupt()
}

func checkLen(op string, n int) error {
	if uint64(n) > math.MaxUint32 {
		return &Error{Op: op, Errno: syscall.EMSGSIZE,
			Detail: "a payload over 4 GiB"}
	}
	return nil
}

// Publish copies one event into the ring and returns the number of
// registered subscribers, those it reached.  data is not kept.  A payload
// larger than the ring's largest event is ErrTooLarge, nothing written.
// It waits for room only for a reliable subscriber, as long as SetTimeout
// allows (for ever by default).
func (p *Publisher) Publish(typ uint32, data []byte) (int, error) {
	if err := checkLen("Publish", len(data)); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil || p.isClosing() {
		return 0, closedError("Publish")
	}
	var ptr unsafe.Pointer
	if len(data) > 0 {
		// A Go pointer to memory without Go pointers, not kept by C.
		ptr = unsafe.Pointer(&data[0])
	}
	r := C.ringcast_pub_publish(p.p, C.uint32_t(typ), ptr, C.size_t(len(data)))
	return int(r), p.pubError("Publish", r)
}

// pubError maps a publish's result; -EINTR is the owner's Interrupt or
// Close (WaitSubscribers leaves no interrupt of its own behind).
func (p *Publisher) pubError(op string, r C.int) error {
	if r == -C.EINTR {
		if p.isClosing() {
			return closedError(op)
		}
		atomic.StoreInt32(&p.userIntr, 0)
	}
	return errorOf(op, r, "")
}

// Msg is one event of a batch.
type Msg struct {
	Type uint32
	Data []byte
}

// msgArrays makes room for n events in the C arrays.
func (p *Publisher) msgArrays(n int) error {
	if n <= p.cmsgsCap {
		return nil
	}
	c := n
	if c < 64 {
		c = 64
	}
	m := C.realloc(unsafe.Pointer(p.cmsgs),
		C.size_t(c)*C.sizeof_struct_ringcast_msg)
	if m == nil {
		return &Error{Op: "PublishBatch", Errno: syscall.ENOMEM}
	}
	p.cmsgs = (*C.struct_ringcast_msg)(m)
	b := C.realloc(unsafe.Pointer(p.cbufs), C.size_t(c)*C.size_t(unsafe.Sizeof(unsafe.Pointer(nil))))
	if b == nil {
		return &Error{Op: "PublishBatch", Errno: syscall.ENOMEM}
	}
	p.cbufs, p.cmsgsCap = (*unsafe.Pointer)(b), c
	return nil
}

// stageBatch copies the payloads into C memory and points the C msgs at
// them, for ringcast_pub_publish_batch().
func (p *Publisher) stageBatch(msgs []Msg, total int) error {
	if total > p.stageCap {
		c := 2 * p.stageCap
		if c < total {
			c = total
		}
		if c < 4096 {
			c = 4096
		}
		s := C.realloc(p.stage, C.size_t(c))
		if s == nil {
			return &Error{Op: "PublishBatch", Errno: syscall.ENOMEM}
		}
		p.stage, p.stageCap = s, c
	}
	cm := unsafe.Slice(p.cmsgs, p.cmsgsCap)
	var st []byte
	if p.stageCap > 0 {
		st = unsafe.Slice((*byte)(p.stage), p.stageCap)
	}
	off := 0
	for i := range msgs {
		n := len(msgs[i].Data)
		cm[i]._type = C.uint32_t(msgs[i].Type)
		cm[i].len = C.uint32_t(n)
		cm[i].data = nil
		if n > 0 {
			copy(st[off:], msgs[i].Data)
			cm[i].data = unsafe.Add(p.stage, off)
		}
		off += (n + 7) &^ 7
	}
	return nil
}

// reserveBatch publishes msgs with one copy, from the Go slices straight
// into the ring: ringcast_pub_reserve_batch() of len(msgs) slots of
// maxLen bytes, the copies, ringcast_pub_commit_batch(); all or nothing,
// one timestamp, as ringcast_pub_publish_batch() of a batch in one part.
// ok is false, nothing done, when the library refuses the reservation
// (-EINVAL: the ring is not what the hints said): stage it then.
func (p *Publisher) reserveBatch(msgs []Msg, maxLen int) (r C.int, ok bool) {
	n := C.uint(len(msgs))
	r = C.ringcast_pub_reserve_batch(p.p, n, C.size_t(maxLen), p.cbufs)
	if r == -C.EINVAL {
		return 0, false
	}
	if r < 0 {
		return r, true
	}
	bufs := unsafe.Slice(p.cbufs, len(msgs))
	cm := unsafe.Slice(p.cmsgs, len(msgs))
	for i := range msgs {
		d := msgs[i].Data
		if len(d) > 0 {
			copy(unsafe.Slice((*byte)(bufs[i]), len(d)), d)
		}
		cm[i]._type = C.uint32_t(msgs[i].Type)
		cm[i].len = C.uint32_t(len(d))
		cm[i].data = nil
	}
	return C.ringcast_pub_commit_batch(p.p, p.cmsgs, n), true
}

// reserveMin is the smallest payload, on average, that a batch is
// reserved for: below it, staging and one cgo call are cheaper (measured
// with 64 events of 128 B to 1 KiB).
const reserveMin = 128

// PublishBatch publishes msgs in order, with consecutive sequences, in one
// call of the library: one wake check for them all.  A batch of at most
// 3/4 of the ring's slots whose payloads all fit in a slot, 128 B or more
// on average, is reserved in the ring and copied there from the slices
// (two cgo calls, one copy); others are copied into C memory first and
// published by ringcast_pub_publish_batch() (one cgo call, two copies).  It returns
// the number of registered subscribers.  A wait that
// fails part-way returns its error with the earlier events published:
// Head says how far.
func (p *Publisher) PublishBatch(msgs []Msg) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if uint64(len(msgs)) > math.MaxInt32 {
		return 0, &Error{Op: "PublishBatch", Errno: syscall.EINVAL,
			Detail: "too many events in one batch"}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil || p.isClosing() {
		return 0, closedError("PublishBatch")
	}
	total, maxLen := 0, 0
	for i := range msgs {
		n := len(msgs[i].Data)
		if err := checkLen("PublishBatch", n); err != nil {
			return 0, err
		}
		total += (n + 7) &^ 7
		if n > maxLen {
			maxLen = n
		}
	}
	if err := p.msgArrays(len(msgs)); err != nil {
		return 0, err
	}
	if len(msgs) <= p.reserveMax && maxLen <= p.capacity &&
		total >= reserveMin*len(msgs) {
		if r, ok := p.reserveBatch(msgs, maxLen); ok {
			if r >= 0 {
				p.reserved++
			}
			return int(r), p.pubError("PublishBatch", r)
		}
	}
	if err := p.stageBatch(msgs, total); err != nil {
		return 0, err
	}
	r := C.ringcast_pub_publish_batch(p.p, p.cmsgs, C.uint(len(msgs)))
	return int(r), p.pubError("PublishBatch", r)
}

// Head is the next sequence this publisher writes; 0 once closed.
func (p *Publisher) Head() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil || p.isClosing() {
		return 0
	}
	return uint64(C.ringcast_pub_head(p.p))
}

// SetTimeout bounds a publish's wait for room: < 0 for ever (the
// default), 0 never wait (ErrWouldBlock), else at most d (ErrTimeout).
func (p *Publisher) SetTimeout(d time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil || p.isClosing() {
		return closedError("SetTimeout")
	}
	return errorOf("SetTimeout",
		C.ringcast_pub_set_timeout(p.p, C.int64_t(d.Nanoseconds())), "")
}

// Subscribers counts the ring's live registered subscribers.
func (p *Publisher) Subscribers() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil || p.isClosing() {
		return 0, closedError("Subscribers")
	}
	r := C.ringcast_pub_subscribers(p.p)
	return int(r), errorOf("Subscribers", r, "")
}

// WaitSubscribers waits until at least n subscribers are registered, or
// ctx is done; it returns their count.
func (p *Publisher) WaitSubscribers(ctx context.Context, n int) (int, error) {
	if n < 0 || uint64(n) > math.MaxUint32 {
		return 0, &Error{Op: "WaitSubscribers", Errno: syscall.EINVAL}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p == nil || p.isClosing() {
		return 0, closedError("WaitSubscribers")
	}
	fired := false
	r, err := waitCtx(ctx, &p.handleState, "WaitSubscribers",
		func() { fired = true; p.interrupt() },
		func(t int64) C.int {
			return C.ringcast_pub_wait_subscribers(p.p, C.uint(n),
				C.int64_t(t))
		})
	if fired {
		// A cancellation that landed after the wait returned would
		// make the next publish that waits return -EINTR: take it
		// back (a check that cannot be met, once, consumes it).
		C.ringcast_pub_wait_subscribers(p.p, C.UINT_MAX, 0)
	}
	if err != nil {
		return 0, err
	}
	return int(r), errorOf("WaitSubscribers", r, "")
}

// free releases the handle with fn (close or detach); the caller won the
// closing flag.
func (p *Publisher) free(fn func(*C.struct_ringcast_pub) C.int) C.int {
	p.interrupt()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.imu.Lock()
	r := fn(p.p)
	p.p, p.ip = nil, nil
	p.imu.Unlock()
	C.free(p.stage)
	C.free(unsafe.Pointer(p.cmsgs))
	C.free(unsafe.Pointer(p.cbufs))
	p.stage, p.stageCap, p.cmsgs, p.cbufs, p.cmsgsCap = nil, 0, nil, nil, 0
	return r
}

// Close ends the stream (subscribers read what was published, then
// ErrEndOfStream), releases the lease and frees the handle.  A call
// waiting on the publisher returns ErrClosed.  Closing again is
// ErrClosed.
func (p *Publisher) Close() error {
	if !atomic.CompareAndSwapInt32(&p.closing, 0, 1) {
		return closedError("Close")
	}
	return errorOf("Close", p.free(func(c *C.struct_ringcast_pub) C.int {
		return C.ringcast_pub_close(c)
	}), "")
}

// Detach releases the lease without ending the stream and frees the
// handle: subscribers see the publisher's death (ErrPublisherDied), or,
// resubscribing, wait for the next one.
func (p *Publisher) Detach() error {
	if !atomic.CompareAndSwapInt32(&p.closing, 0, 1) {
		return closedError("Detach")
	}
	p.free(func(c *C.struct_ringcast_pub) C.int {
		C.ringcast_pub_detach(c)
		return 0
	})
	return nil
}

// cptr is the C handle, for the tests' fork probe; nil once closed.
func (p *Publisher) cptr() unsafe.Pointer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return unsafe.Pointer(p.p)
}
