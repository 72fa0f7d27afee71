// SPDX-License-Identifier: MIT

package ringcast

/*
#include <ringcast.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// The values errors.Is matches an error of this package against.  Each
// names one of the library's codes (ringcast_errors(3)); the errors
// themselves are *Error or *LappedError values, which also unwrap to the
// syscall.Errno, so errors.Is(err, os.ErrNotExist) and
// errors.Is(err, syscall.EPIPE) work as well.
var (
	ErrEndOfStream   = errors.New("ringcast: end of stream")                         // -EPIPE; also matches io.EOF
	ErrPublisherDied = errors.New("ringcast: publisher died")                        // -EOWNERDEAD
	ErrLapped        = errors.New("ringcast: lapped, events lost")                   // -EOVERFLOW: *LappedError
	ErrDemoted       = errors.New("ringcast: demoted to lossy")                      // -ESTALE
	ErrClosed        = errors.New("ringcast: closed")                                // a closed handle; -ECANCELED, -ESHUTDOWN
	ErrRemoved       = errors.New("ringcast: ring removed")                          // -EIDRM
	ErrNotFound      = errors.New("ringcast: no such ring")                          // -ENOENT
	ErrExists        = errors.New("ringcast: ring exists")                           // -EEXIST
	ErrPermission    = errors.New("ringcast: permission denied")                     // -EACCES
	ErrNoSpace       = errors.New("ringcast: no room in /dev/shm")                   // -ENOSPC
	ErrProtocol      = errors.New("ringcast: not a ringcast ring, or another ABI")   // -EPROTO
	ErrCorrupted     = errors.New("ringcast: ring corrupted")                        // -EBADMSG
	ErrTooLarge      = errors.New("ringcast: payload over the ring's largest event") // -EMSGSIZE
	ErrBusy          = errors.New("ringcast: busy")                                  // -EBUSY
	ErrTableFull     = errors.New("ringcast: subscriber table full")                 // -EUSERS
	ErrWouldBlock    = errors.New("ringcast: nothing ready")                         // -EAGAIN
	ErrTimeout       = errors.New("ringcast: timed out")                             // -ETIMEDOUT
	ErrInterrupted   = errors.New("ringcast: interrupted")                           // -EINTR
	ErrRetired       = errors.New("ringcast: sequence no longer retained")           // -ERANGE
	ErrForked        = errors.New("ringcast: handle inherited across fork")          // -ECHILD
	ErrInvalid       = errors.New("ringcast: invalid argument")                      // -EINVAL
	ErrNoMemory      = errors.New("ringcast: out of memory")                         // -ENOMEM
)

const errEINVAL = syscall.EINVAL

var sentinels = map[syscall.Errno]error{
	syscall.EPIPE:      ErrEndOfStream,
	syscall.EOWNERDEAD: ErrPublisherDied,
	syscall.EOVERFLOW:  ErrLapped,
	syscall.ESTALE:     ErrDemoted,
	syscall.ECANCELED:  ErrClosed,
	syscall.ESHUTDOWN:  ErrClosed,
	syscall.EIDRM:      ErrRemoved,
	syscall.ENOENT:     ErrNotFound,
	syscall.EEXIST:     ErrExists,
	syscall.EACCES:     ErrPermission,
	syscall.ENOSPC:     ErrNoSpace,
	syscall.EPROTO:     ErrProtocol,
	syscall.EBADMSG:    ErrCorrupted,
	syscall.EMSGSIZE:   ErrTooLarge,
	syscall.EBUSY:      ErrBusy,
	syscall.EUSERS:     ErrTableFull,
	syscall.EAGAIN:     ErrWouldBlock,
	syscall.ETIMEDOUT:  ErrTimeout,
	syscall.EINTR:      ErrInterrupted,
	syscall.ERANGE:     ErrRetired,
	syscall.ECHILD:     ErrForked,
	syscall.EINVAL:     ErrInvalid,
	syscall.ENOMEM:     ErrNoMemory,
}

// Error is a failed call of the library: the operation, the errno it
// returned, and what ringcast_errdetail() said about it, where it said
// something.
type Error struct {
	Op     string        // the Go method or function, e.g. "NewSubscriber"
	Errno  syscall.Errno // the positive errno
	Detail string        // ringcast_errdetail(), or a reason of this package
}

func (e *Error) Error() string {
	s := "ringcast: " + e.Op + ": " + C.GoString(C.ringcast_strerror(C.int(e.Errno)))
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Is matches the exported value of e's errno, and io.EOF at the end of
// the stream.
func (e *Error) Is(target error) bool {
	if target == io.EOF {
		return e.Errno == syscall.EPIPE
	}
	s, ok := sentinels[e.Errno]
	return ok && s == target
}

// Unwrap gives the syscall.Errno.
func (e *Error) Unwrap() error { return e.Errno }

// LappedError says that a lossy reader was lapped: Lost events were
// overwritten before it read them.  Reading goes on with the next call.
// errors.Is(err, ErrLapped) is true of it.
type LappedError struct {
	Op   string
	Lost uint64
}

func (e *LappedError) Error() string {
	return fmt.Sprintf("ringcast: %s: lapped, %d events lost", e.Op, e.Lost)
}

// Is matches ErrLapped.
func (e *LappedError) Is(target error) bool { return target == ErrLapped }

// Unwrap gives syscall.EOVERFLOW.
func (e *LappedError) Unwrap() error { return syscall.EOVERFLOW }

// errorOf turns a negative return code into an error; nil for r >= 0.
func errorOf(op string, r C.int, detail string) error {
	if r >= 0 {
		return nil
	}
	return &Error{Op: op, Errno: syscall.Errno(-r), Detail: detail}
}

func closedError(op string) error {
	return &Error{Op: op, Errno: syscall.ECANCELED,
		Detail: "the handle is closed"}
}
