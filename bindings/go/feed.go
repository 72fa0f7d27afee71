// SPDX-License-Identifier: MIT

package ringcast

import (
	"context"
	"errors"
	"sync"
)

// Subscription is a stream of events delivered to a channel, as
// go-ethereum's event.Subscription: Err reports a failure once, then is
// closed; Unsubscribe stops the deliveries and closes Err.
type Subscription interface {
	// Err is sent the error that ended the subscription (at most one;
	// ErrEndOfStream once the publisher closed), then closed.
	// Unsubscribe closes it too.
	Err() <-chan error
	// Unsubscribe stops the deliveries; once it returns, none is sent.
	// Idempotent; any goroutine.
	Unsubscribe()
}

// Feed is one ring seen as a one-to-many stream of events of one type,
// shaped as go-ethereum's event.Feed: Send publishes to every
// subscription, in this process or another, and Subscribe delivers into
// a channel.  The zero value with a Name is ready; the ring is created
// (Ring's geometry, or the defaults) when first sent to or subscribed.
//
// A Feed's subscriptions are reliable: like event.Feed's Send, a Send
// waits while a subscriber's channel is not drained a whole ring behind
// (ringcast_sub(3), RINGCAST_SUB_RELIABLE), unless the ring was created
// with DemoteAfter.  So do not Send from the goroutine that receives.
type Feed struct {
	Name string
	Type uint32       // the type tag of its events (0 by default)
	Ring *RingOptions // the geometry, if this Feed creates the ring

	mu  sync.Mutex
	pub *Publisher
}

func (f *Feed) create() error {
	var o RingOptions
	if f.Ring != nil {
		o = *f.Ring
	}
	o.Exclusive = false
	_, err := Create(f.Name, &o)
	return err
}

// Send publishes data as one event and returns the number of subscribers
// it reached (the ring's registered subscribers).  The first Send takes
// the ring's publisher lease: ErrBusy while another publisher holds it.
func (f *Feed) Send(data []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pub == nil {
		if err := f.create(); err != nil {
			return 0, err
		}
		p, err := NewPublisher(f.Name, &PubOptions{Reopen: true})
		if err != nil {
			return 0, err
		}
		f.pub = p
	}
	return f.pub.Publish(f.Type, data)
}

// Close ends the stream if this Feed sent anything: its subscriptions,
// here and elsewhere, deliver what was sent, then report ErrEndOfStream.
func (f *Feed) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pub == nil {
		return nil
	}
	err := f.pub.Close()
	f.pub = nil
	return err
}

// Subscribe delivers the events sent from now on into ch until
// Unsubscribe, the end of the stream or a failure, which Err reports.
// A failure to subscribe is reported the same way.
func (f *Feed) Subscribe(ch chan<- Event) Subscription {
	return f.SubscribeWith(ch, nil)
}

// SubscribeWith is Subscribe with options: Resubscribe to follow the
// publisher's restarts instead of ending with ErrPublisherDied, From to
// start elsewhere.  The subscription is always reliable and reads the
// Feed's Type only.
func (f *Feed) SubscribeWith(ch chan<- Event, opts *SubOptions) Subscription {
	var o SubOptions
	if opts != nil {
		o = *opts
	}
	o.Reliable = true
	o.Types = []uint32{f.Type}
	fs := &feedSub{errc: make(chan error, 1), done: make(chan struct{})}
	if err := f.create(); err != nil {
		fs.fail(err)
		return fs
	}
	s, err := NewSubscriber(f.Name, &o)
	if err != nil {
		fs.fail(err)
		return fs
	}
	fs.sub = s
	fs.ctx, fs.cancel = context.WithCancel(context.Background())
	go fs.run(ch)
	return fs
}

type feedSub struct {
	sub    *Subscriber
	ctx    context.Context
	cancel context.CancelFunc
	errc   chan error
	done   chan struct{}
	once   sync.Once
}

func (fs *feedSub) fail(err error) {
	fs.errc <- err
	close(fs.errc)
	close(fs.done)
}

func (fs *feedSub) run(ch chan<- Event) {
	defer close(fs.done)
	defer close(fs.errc)
	evs := make([]Event, 64)
	for {
		n, err := fs.sub.NextBatch(fs.ctx, evs)
		if err != nil {
			if errors.Is(err, ErrLapped) || errors.Is(err, ErrDemoted) {
				continue
			}
			if fs.ctx.Err() == nil {
				fs.errc <- err
			}
			return
		}
		for i := 0; i < n; i++ {
			select {
			case ch <- evs[i]:
			case <-fs.ctx.Done():
				return
			}
		}
	}
}

func (fs *feedSub) Err() <-chan error { return fs.errc }

func (fs *feedSub) Unsubscribe() {
	fs.once.Do(func() {
		if fs.cancel != nil {
			fs.cancel()
		}
		<-fs.done
		if fs.sub != nil {
			fs.sub.Close()
		}
	})
}
