// SPDX-License-Identifier: MIT

package ringcast

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Two subscriber processes read what this process publishes, in batches:
// every event, in order, byte for byte.
func TestProcPubSub(t *testing.T) {
	skipProcs(t)
	name := newRing(t, &RingOptions{Slots: 256, SlotSize: 128})
	const n, size = 20000, 100
	var subs []*child
	for i := 0; i < 2; i++ {
		c := spawn(t, "sub", map[string]string{"NAME": name})
		if c.line(t) != "ready" {
			t.Fatal("subscriber not ready")
		}
		subs = append(subs, c)
	}
	c := spawn(t, "pub", map[string]string{"NAME": name, "N": strconv.Itoa(n),
		"SIZE": strconv.Itoa(size), "WAIT": "2", "BASE": "0", "END": "close"})
	c.wait(t)
	h := crc32.NewIEEE()
	for i := 0; i < n; i++ {
		h.Write(payload(i, size))
	}
	want := fmt.Sprintf("%d %08x eos", n, h.Sum32())
	for i, s := range subs {
		if got := s.line(t); got != want {
			t.Errorf("subscriber %d: %q, want %q", i, got, want)
		}
		s.wait(t)
	}
}

// A publisher process that exits without closing: this subscriber reads
// what it published, then ErrPublisherDied; a resubscribing one follows
// the next publisher process to its end of stream.
func TestProcPublisherRestart(t *testing.T) {
	skipProcs(t)
	name := newRing(t, nil)
	plain, err := NewSubscriber(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	resub, err := NewSubscriber(name, &SubOptions{Resubscribe: true})
	if err != nil {
		t.Fatal(err)
	}
	defer resub.Close()
	spawn(t, "pub", map[string]string{"NAME": name, "N": "5", "SIZE": "16",
		"WAIT": "0", "BASE": "0", "END": "exit"}).wait(t)
	for i := 0; i < 5; i++ {
		ev, err := plain.Next(context.Background())
		if err != nil || string(ev.Data) != string(payload(i, 16)) {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if _, err := plain.Next(context.Background()); !errors.Is(err, ErrPublisherDied) {
		t.Fatalf("after the publisher's death: %v", err)
	}
	spawn(t, "pub", map[string]string{"NAME": name, "N": "5", "SIZE": "16",
		"WAIT": "0", "BASE": "5", "END": "close"}).wait(t)
	for i := 0; i < 10; i++ {
		ev, err := resub.Next(context.Background())
		if err != nil || string(ev.Data) != string(payload(i, 16)) {
			t.Fatalf("resubscriber, event %d: %v", i, err)
		}
	}
	if _, err := resub.Next(context.Background()); !errors.Is(err, ErrEndOfStream) {
		t.Fatalf("resubscriber's end: %v", err)
	}
}

// Interop with the C tool (RINGCAST_TOOL, build/tools/ringcast): lines
// published by ringcast-go read by "ringcast sub", and the other way
// round, byte-identical.  Lines of every size class: empty, in a slot,
// in the data area.
func interopLines() string {
	var b strings.Builder
	b.WriteString("first\n\nthird, after an empty one\n")
	b.WriteString("tab\there, unicode: \u00e9\u4e2d\n")
	b.WriteString(strings.Repeat("x", 3000) + "\n")
	b.WriteString(strings.Repeat("0123456789", 10000) + "\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	return b.String()
}

func tools(t *testing.T) (ctool, gotool string) {
	skipProcs(t)
	ctool = os.Getenv("RINGCAST_TOOL")
	if ctool == "" {
		t.Skip("RINGCAST_TOOL not set (run through bindings/go/go.sh or meson test)")
	}
	gotool = os.Getenv("RINGCAST_GO_CMD")
	if gotool == "" {
		gotool = filepath.Join(t.TempDir(), "ringcast-go")
		out, err := exec.Command("go", "build", "-o", gotool,
			"./cmd/ringcast-go").CombinedOutput()
		if err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	return ctool, gotool
}

func run(t *testing.T, stdin string, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", prog, args, err)
	}
	return string(out)
}

func TestInteropGoPubCSub(t *testing.T) {
	ctool, gotool := tools(t)
	name := ringName(t)
	lines := interopLines()
	run(t, lines, gotool, "pub", name)
	if got := run(t, "", ctool, "sub", name, "--from", "oldest"); got != lines {
		t.Fatalf("ringcast sub read %d bytes, want %d identical", len(got), len(lines))
	}
}

func TestInteropCPubGoSub(t *testing.T) {
	ctool, gotool := tools(t)
	name := ringName(t)
	lines := interopLines()
	run(t, lines, ctool, "pub", name, "--type", "1")
	if got := run(t, "", gotool, "sub", name, "--from", "oldest"); got != lines {
		t.Fatalf("ringcast-go sub read %d bytes, want %d identical", len(got), len(lines))
	}
	// --count stops early; the package sees the types the tool wrote.
	if got := run(t, "", gotool, "sub", name, "--from", "oldest", "--count", "2"); got != "first\n\n" {
		t.Fatalf("--count 2: %q", got)
	}
	s, err := NewSubscriber(name, &SubOptions{From: FromOldest})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ev, err := s.Next(context.Background()); err != nil || ev.Type != 1 {
		t.Fatalf("%+v, %v", ev, err)
	}
}
