// SPDX-License-Identifier: MIT

package ringcast

/*
#include <errno.h>
*/
import "C"

import (
	"context"
	"sync/atomic"
	"syscall"
	"time"
)

// handleState is what every handle shares: whether it is being closed,
// and whether its owner asked for an interrupt (Interrupt()), so that a
// stale -EINTR, one the library kept from a cancellation that landed
// after its wait had returned, is told apart and retried.
type handleState struct {
	closing  int32
	userIntr int32
}

func (h *handleState) isClosing() bool {
	return atomic.LoadInt32(&h.closing) != 0
}

// eintr decides what a -EINTR means: the handle is closing, the owner
// interrupted, or it is stale and the call is retried (nil, false).
func (h *handleState) eintr(op string) (error, bool) {
	if h.isClosing() {
		return closedError(op), true
	}
	if atomic.SwapInt32(&h.userIntr, 0) != 0 {
		return &Error{Op: op, Errno: syscall.EINTR}, true
	}
	return nil, false
}

// testHooks let a test act just before and after a wait (a cancellation
// that lands after the wait returned); nil outside the tests.
var testHooks struct {
	beforeWait func()
	afterWait  func() bool
}

// waitCtx runs call, a library call that waits at most its argument in
// nanoseconds (< 0 for ever), under ctx: the remaining time of ctx's
// deadline is the timeout, and ctx's cancellation interrupts the wait
// through interrupt (ringcast_*_interrupt()).  The goroutine that
// interrupts is joined before waitCtx returns, so no interrupt lands on a
// handle after it; one that lands after the wait returned is kept by the
// library and makes the next wait return -EINTR, which is retried here
// unless ctx is done, the handle is closing or its owner interrupted.
//
// It returns call's result, or an error when ctx ended, the handle was
// closed or interrupted.
func waitCtx(ctx context.Context, h *handleState, op string,
	interrupt func(), call func(timeout int64) C.int) (C.int, error) {
	done := ctx.Done()
	if done == nil {
		for {
			r := call(-1)
			if r != -C.EINTR {
				return r, nil
			}
			if err, ok := h.eintr(op); ok {
				return r, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// What is ready needs no interrupter.
	r := call(0)
	if r != -C.EAGAIN && r != -C.EINTR {
		return r, nil
	}
	if r == -C.EINTR {
		if err, ok := h.eintr(op); ok {
			return r, err
		}
	}
	for {
		timeout := int64(-1)
		if dl, ok := ctx.Deadline(); ok {
			rem := time.Until(dl)
			if rem <= 0 {
				return 0, context.DeadlineExceeded
			}
			timeout = int64(rem)
		}
		stop := make(chan struct{})
		fin := make(chan struct{})
		go func() {
			select {
			case <-done:
				interrupt()
			case <-stop:
			}
			close(fin)
		}()
		if testHooks.beforeWait != nil {
			testHooks.beforeWait()
		}
		r = call(timeout)
		if testHooks.afterWait != nil && testHooks.afterWait() {
			<-fin // the interrupter ran: ctx is done, stop is not
		}
		close(stop)
		<-fin
		switch r {
		case -C.EINTR:
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			if err, ok := h.eintr(op); ok {
				return r, err
			}
			continue
		case -C.ETIMEDOUT:
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			return 0, context.DeadlineExceeded
		}
		return r, nil
	}
}
