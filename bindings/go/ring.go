// SPDX-License-Identifier: MIT

package ringcast

/*
#include "rcgo.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// RingOptions is the geometry of a new ring; a zero field takes the
// library's default (ringcast_ring(3)).
type RingOptions struct {
	Slots          uint32        // a power of two (0: 4096)
	SlotSize       uint32        // a power of two, 64 B to 16 MiB (0: 256)
	MaxSubscribers uint32        // 1 to 4096 (0: 64)
	Mode           uint32        // permission bits (0: 0600)
	DemoteAfter    time.Duration // demote stuck reliable subscribers (0: never)
	DataSize       uint64        // the data area for large events (0: 4 MiB)
	NoData         bool          // no data area: every event fits a slot
	Exclusive      bool          // fail with ErrExists if the ring exists
	MultiPub       bool          // several publishers at once
}

// Create creates a ring, or accepts a matching one unless
// opts.Exclusive.  It returns true when it created the ring.
func Create(name string, opts *RingOptions) (bool, error) {
	cname, err := cstring(name)
	if err != nil {
		return false, err
	}
	defer cfree(unsafe.Pointer(cname))
	var o C.struct_ringcast_ring_opts
	var po *C.struct_ringcast_ring_opts
	var flags C.uint
	if opts != nil {
		o.slots = C.uint32_t(opts.Slots)
		o.slot_size = C.uint32_t(opts.SlotSize)
		o.max_subscribers = C.uint32_t(opts.MaxSubscribers)
		o.mode = C.uint32_t(opts.Mode)
		o.demote_ns = C.uint64_t(opts.DemoteAfter.Nanoseconds())
		o.data_size = C.uint64_t(opts.DataSize)
		po = &o
		if opts.Exclusive {
			flags |= C.RINGCAST_CREATE_EXCL
		}
		if opts.MultiPub {
			flags |= C.RINGCAST_CREATE_MULTI_PUB
		}
		if opts.NoData {
			flags |= C.RINGCAST_CREATE_NO_DATA
		}
	}
	var d detailBuf
	dp, dn := d.ptr()
	r := C.rcgo_ring_create(cname, po, flags, dp, dn)
	if r < 0 {
		return false, errorOf("Create", r, d.String())
	}
	return r == 0, nil
}

// Remove unlinks a ring nobody uses; ErrBusy while a live participant
// holds it.
func Remove(name string) error {
	return remove("Remove", name, 0)
}

// RemoveForce unlinks a ring even while it is in use: its readers get
// ErrRemoved.
func RemoveForce(name string) error {
	return remove("RemoveForce", name, 1)
}

func remove(op, name string, force C.int) error {
	cname, err := cstring(name)
	if err != nil {
		return err
	}
	defer cfree(unsafe.Pointer(cname))
	var d detailBuf
	dp, dn := d.ptr()
	return errorOf(op, C.rcgo_ring_remove(cname, force, dp, dn), d.String())
}

// CloseRing ends a ring's stream from outside its publisher.
func CloseRing(name string) error {
	cname, err := cstring(name)
	if err != nil {
		return err
	}
	defer cfree(unsafe.Pointer(cname))
	var d detailBuf
	dp, dn := d.ptr()
	return errorOf("CloseRing", C.rcgo_ring_close(cname, dp, dn), d.String())
}

// RingStats is a snapshot of a ring (ringcast_ring_get_stats()); each
// field is consistent on its own, not with the others.
type RingStats struct {
	Slots, SlotSize, Capacity, MaxSubscribers uint32
	State                                     uint32 // 0 created, 1 live, 2 closed, 3 abandoned, 4 removed
	Epoch, Head, Oldest, Published, Refused   uint64
	PublisherPID                              int32
	Subscribers, Reliable                     uint32
	DataSize                                  uint64
	MaxEvent                                  uint32 // the largest payload
}

// Ring states (RingStats.State).
const (
	StateCreated   = C.RINGCAST_STATE_CREATED
	StateLive      = C.RINGCAST_STATE_LIVE
	StateClosed    = C.RINGCAST_STATE_CLOSED
	StateAbandoned = C.RINGCAST_STATE_ABANDONED
	StateRemoved   = C.RINGCAST_STATE_REMOVED
)

// Stats validates a ring and takes a snapshot of it.
func Stats(name string) (RingStats, error) {
	cname, err := cstring(name)
	if err != nil {
		return RingStats{}, err
	}
	defer cfree(unsafe.Pointer(cname))
	var st C.struct_ringcast_ring_stats
	var d detailBuf
	dp, dn := d.ptr()
	if r := C.rcgo_ring_get_stats(cname, &st, dp, dn); r < 0 {
		return RingStats{}, errorOf("Stats", r, d.String())
	}
	return RingStats{
		Slots: uint32(st.slots), SlotSize: uint32(st.slot_size),
		Capacity: uint32(st.capacity), MaxSubscribers: uint32(st.max_subscribers),
		State: uint32(st.state), Epoch: uint64(st.epoch),
		Head: uint64(st.head), Oldest: uint64(st.oldest),
		Published: uint64(st.published), Refused: uint64(st.refused),
		PublisherPID: int32(st.publisher_pid),
		Subscribers:  uint32(st.subscribers), Reliable: uint32(st.reliable),
		DataSize: uint64(st.data_size), MaxEvent: uint32(st.max_event),
	}, nil
}
