// SPDX-License-Identifier: MIT

// Command ringcast-go is a small ringcast publisher and subscriber in Go,
// for the tests that check the Go package against the C tool and the
// other bindings.
//
//	ringcast-go pub NAME
//	ringcast-go sub NAME [--from oldest|newest|SEQ] [--count N]
//
// pub publishes each line of standard input, without its newline, as an
// event of type 1, creating the ring with the defaults if it is missing,
// and closes the ring at the end of the input.  sub prints each event's
// payload as a line and exits 0 at the end of the stream or after N
// events; lost events are reported on standard error, as "lost N events".
// Exit status: 0 success, 1 error, 2 usage.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"ringcast"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: ringcast-go pub NAME")
	fmt.Fprintln(os.Stderr, "       ringcast-go sub NAME [--from oldest|newest|SEQ] [--count N]")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "ringcast-go:", err)
	os.Exit(1)
}

func pub(name string) {
	if _, err := ringcast.Create(name, nil); err != nil {
		fail(err)
	}
	p, err := ringcast.NewPublisher(name, nil)
	if err != nil {
		fail(err)
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	for {
		line, err := in.ReadBytes('\n')
		if err != nil && err != io.EOF {
			p.Close()
			fail(err)
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		if _, perr := p.Publish(1, line); perr != nil {
			p.Close()
			fail(perr)
		}
		if err == io.EOF {
			break
		}
	}
	if err := p.Close(); err != nil {
		fail(err)
	}
}

func sub(name string, args []string) {
	fs := flag.NewFlagSet("sub", flag.ContinueOnError)
	from := fs.String("from", "newest", "oldest, newest or a sequence")
	count := fs.Uint64("count", 0, "stop after N events (0: no limit)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		usage()
	}
	var o ringcast.SubOptions
	switch *from {
	case "oldest":
		o.From = ringcast.FromOldest
	case "newest":
		o.From = ringcast.FromNewest
	default:
		seq, err := strconv.ParseUint(*from, 10, 64)
		if err != nil {
			usage()
		}
		o.From, o.Seq = ringcast.FromSeq, seq
	}
	s, err := ringcast.NewSubscriber(name, &o)
	if err != nil {
		fail(err)
	}
	defer s.Close()
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	evs := make([]ringcast.Event, 64)
	var seen uint64
	for *count == 0 || seen < *count {
		max := len(evs)
		if *count != 0 && *count-seen < uint64(max) {
			max = int(*count - seen)
		}
		n, err := s.NextBatch(context.Background(), evs[:max])
		var le *ringcast.LappedError
		switch {
		case errors.As(err, &le):
			out.Flush()
			fmt.Fprintf(os.Stderr, "lost %d events\n", le.Lost)
			continue
		case errors.Is(err, ringcast.ErrDemoted):
			continue
		case errors.Is(err, ringcast.ErrEndOfStream):
			if ferr := out.Flush(); ferr != nil {
				fail(ferr)
			}
			return
		case err != nil:
			out.Flush()
			fail(err)
		}
		for _, ev := range evs[:n] {
			out.Write(ev.Data)
			out.WriteByte('\n')
		}
		seen += uint64(n)
	}
	if err := out.Flush(); err != nil {
		fail(err)
	}
}

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	switch os.Args[1] {
	case "pub":
		if len(os.Args) != 3 {
			usage()
		}
		pub(os.Args[2])
	case "sub":
		sub(os.Args[2], os.Args[3:])
	default:
		usage()
	}
}
