// SPDX-License-Identifier: MIT

package ringcast

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// TypeMux reads one ring in this process and hands each event to the
// subscriptions of its type tag, shaped as go-ethereum's event.TypeMux:
// Post publishes, Subscribe(types...) receives on a channel.
//
// It is built in Go over a Subscriber, not over the library's
// ringcast_mux_*: one goroutine reads batches (one cgo call for up to 64
// events) and delivers on Go channels, which select, range and the race
// detector understand; the C mux would deliver either through callbacks
// from its own thread into Go (a cgo callback per event, from a thread Go
// did not start) or through one blocking cgo call per event and
// subscription.
//
// Delivery waits for a subscription's receiver (as event.TypeMux's Post
// does): a subscription that is not drained holds the others back, and on
// a reliable mux the ring's publisher too.
type TypeMux struct {
	name string
	sub  *Subscriber

	pubMu sync.Mutex
	pub   *Publisher

	mu      sync.RWMutex
	subs    map[uint32][]*TypeMuxSubscription // copied on write
	stopped bool

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	err    error // why the dispatch ended; set before done is closed
	lost   uint64
	once   sync.Once
}

// MuxOptions says how a TypeMux reads its ring.
type MuxOptions struct {
	From        From   // where the reader starts (FromNewest by default)
	Seq         uint64 // with FromSeq
	Reliable    bool   // the reader gates the publisher: nothing lost
	Resubscribe bool   // follow a new publisher after the old one died
}

// NewTypeMux starts a TypeMux on an existing ring.
func NewTypeMux(name string, opts *MuxOptions) (*TypeMux, error) {
	var so SubOptions
	if opts != nil {
		so.From, so.Seq = opts.From, opts.Seq
		so.Reliable, so.Resubscribe = opts.Reliable, opts.Resubscribe
	}
	s, err := NewSubscriber(name, &so)
	if err != nil {
		return nil, err
	}
	m := &TypeMux{name: name, sub: s,
		subs: make(map[uint32][]*TypeMuxSubscription),
		done: make(chan struct{})}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	go m.dispatch()
	return m, nil
}

func (m *TypeMux) dispatch() {
	defer close(m.done)
	evs := make([]Event, 64)
	for {
		n, err := m.sub.NextBatch(m.ctx, evs)
		if err != nil {
			var le *LappedError
			if errors.As(err, &le) {
				atomic.AddUint64(&m.lost, le.Lost)
				continue
			}
			if errors.Is(err, ErrDemoted) {
				continue
			}
			if m.ctx.Err() == nil {
				m.err = err
			}
			m.closeAll()
			return
		}
		for i := 0; i < n; i++ {
			m.mu.RLock()
			subs := m.subs[evs[i].Type]
			m.mu.RUnlock()
			for _, s := range subs {
				s.deliver(m.ctx, evs[i])
			}
		}
	}
}

func (m *TypeMux) closeAll() {
	m.mu.Lock()
	m.stopped = true
	all := m.subs
	m.subs = map[uint32][]*TypeMuxSubscription{}
	m.mu.Unlock()
	for _, subs := range all {
		for _, s := range subs {
			s.close()
		}
	}
}

// Subscribe returns a subscription to the events of the given type tags
// read from now on.  After Stop, or once the ring's stream ended, its
// channel is closed at once.  Repeated tags count once.
func (m *TypeMux) Subscribe(types ...uint32) *TypeMuxSubscription {
	s := &TypeMuxSubscription{mux: m, ch: make(chan Event, 16),
		closing: make(chan struct{})}
	s.readC = s.ch
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		s.close()
		return s
	}
	seen := map[uint32]bool{}
	for _, t := range types {
		if seen[t] {
			continue
		}
		seen[t] = true
		s.types = append(s.types, t)
		old := m.subs[t]
		subs := make([]*TypeMuxSubscription, len(old), len(old)+1)
		copy(subs, old)
		m.subs[t] = append(subs, s)
	}
	m.mu.Unlock()
	return s
}

func (m *TypeMux) remove(s *TypeMuxSubscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range s.types {
		old := m.subs[t]
		subs := make([]*TypeMuxSubscription, 0, len(old))
		for _, o := range old {
			if o != s {
				subs = append(subs, o)
			}
		}
		if len(subs) == 0 {
			delete(m.subs, t)
		} else {
			m.subs[t] = subs
		}
	}
}

// Post publishes an event of type typ through this process's publisher
// of the ring, taken at the first Post (ErrBusy while another holds it).
func (m *TypeMux) Post(typ uint32, data []byte) error {
	m.pubMu.Lock()
	defer m.pubMu.Unlock()
	m.mu.RLock()
	stopped := m.stopped
	m.mu.RUnlock()
	if stopped {
		return closedError("Post")
	}
	if m.pub == nil {
		p, err := NewPublisher(m.name, nil)
		if err != nil {
			return err
		}
		m.pub = p
	}
	_, err := m.pub.Publish(typ, data)
	return err
}

// Stop ends the dispatch, closes every subscription's channel and, if
// this mux posted, ends the ring's stream.  Idempotent.
func (m *TypeMux) Stop() {
	m.once.Do(func() {
		m.cancel()
		<-m.done
		m.closeAll()
		m.sub.Close()
		m.pubMu.Lock()
		if m.pub != nil {
			m.pub.Close()
		}
		m.pubMu.Unlock()
	})
}

// Err says why the dispatch ended by itself (ErrEndOfStream,
// ErrPublisherDied, ...); nil while it runs or after Stop.
func (m *TypeMux) Err() error {
	select {
	case <-m.done:
		return m.err
	default:
		return nil
	}
}

// Done is closed when the dispatch ended, by Stop or by itself.
func (m *TypeMux) Done() <-chan struct{} { return m.done }

// Lost counts the events the reader lost to laps (a lossy mux).
func (m *TypeMux) Lost() uint64 { return atomic.LoadUint64(&m.lost) }

// TypeMuxSubscription receives a TypeMux's events of some types.
type TypeMuxSubscription struct {
	mux     *TypeMux
	types   []uint32
	ch      chan Event
	readC   <-chan Event
	closing chan struct{}
	once    sync.Once
	postMu  sync.RWMutex // delivery against the close of ch
	closed  bool
}

// Chan is where the events come, in ring order; closed by Unsubscribe,
// Stop or the end of the ring's stream.
func (s *TypeMuxSubscription) Chan() <-chan Event { return s.readC }

func (s *TypeMuxSubscription) deliver(ctx context.Context, ev Event) {
	s.postMu.RLock()
	defer s.postMu.RUnlock()
	if s.closed {
		return
	}
	select {
	case s.ch <- ev:
	case <-s.closing:
	case <-ctx.Done():
	}
}

func (s *TypeMuxSubscription) close() {
	s.once.Do(func() {
		close(s.closing)
		s.postMu.Lock()
		s.closed = true
		close(s.ch)
		s.postMu.Unlock()
	})
}

// Unsubscribe stops the deliveries and closes the channel; once it
// returns none is sent.  Idempotent; any goroutine.
func (s *TypeMuxSubscription) Unsubscribe() {
	s.mux.remove(s)
	s.close()
}

// TypedSubscription receives a TypeMux's events of one type tag decoded
// into values of type T.
type TypedSubscription[T any] struct {
	sub    *TypeMuxSubscription
	ch     chan T
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once
	errs   uint64
	errMu  sync.Mutex
	lastEr error
}

// SubscribeAs subscribes to the events of type typ and delivers each
// decoded by decode.  An event decode refuses is not delivered: it is
// counted (DecodeErrors) and its error kept (LastError).
func SubscribeAs[T any](m *TypeMux, typ uint32,
	decode func([]byte) (T, error)) *TypedSubscription[T] {
	ts := &TypedSubscription[T]{sub: m.Subscribe(typ), ch: make(chan T),
		quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(ts.done)
		defer close(ts.ch)
		for ev := range ts.sub.Chan() {
			v, err := decode(ev.Data)
			if err != nil {
				atomic.AddUint64(&ts.errs, 1)
				ts.errMu.Lock()
				ts.lastEr = err
				ts.errMu.Unlock()
				continue
			}
			select {
			case ts.ch <- v:
			case <-ts.quit:
				return
			}
		}
	}()
	return ts
}

// Chan is where the decoded values come; closed as the underlying
// subscription's channel is.
func (ts *TypedSubscription[T]) Chan() <-chan T { return ts.ch }

// Unsubscribe stops the deliveries and closes the channel.  Idempotent.
func (ts *TypedSubscription[T]) Unsubscribe() {
	ts.once.Do(func() {
		ts.sub.Unsubscribe()
		close(ts.quit)
		<-ts.done
	})
}

// DecodeErrors counts the events decode refused.
func (ts *TypedSubscription[T]) DecodeErrors() uint64 {
	return atomic.LoadUint64(&ts.errs)
}

// LastError is decode's last refusal, nil if none.
func (ts *TypedSubscription[T]) LastError() error {
	ts.errMu.Lock()
	defer ts.errMu.Unlock()
	return ts.lastEr
}
