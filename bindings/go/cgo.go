// SPDX-License-Identifier: MIT

package ringcast

/*
#cgo LDFLAGS: -lringcast
#include <stdlib.h>
#include "rcgo.h"
*/
import "C"

import (
	"unsafe"
)

// detailBuf receives ringcast_errdetail() from the wrappers above: Go
// memory without Go pointers, which cgo lets C write.
type detailBuf [256]C.char

func (d *detailBuf) ptr() (*C.char, C.size_t) {
	return &d[0], C.size_t(len(d))
}

func (d *detailBuf) String() string {
	return C.GoString(&d[0])
}

// cstring is C.CString with the ring name checked first: a NUL inside a
// Go string would silently cut the name.
func cstring(name string) (*C.char, error) {
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return nil, &Error{Op: "name", Errno: errEINVAL,
				Detail: "the ring name holds a NUL byte"}
		}
	}
	return C.CString(name), nil
}

func cfree(p unsafe.Pointer) {
	C.free(p)
}

// cgoNop crosses into C and back doing nothing of note
// (ringcast_pub_head(NULL) returns 0): what the benchmarks measure a cgo
// call's cost with.
func cgoNop() uint64 {
	return uint64(C.ringcast_pub_head(nil))
}
