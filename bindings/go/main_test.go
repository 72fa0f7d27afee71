// SPDX-License-Identifier: MIT

package ringcast

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The test binary runs itself as publisher and subscriber processes: with
// RINGCAST_GO_TEST_ROLE set, TestMain plays that role and exits.
const roleEnv = "RINGCAST_GO_TEST_ROLE"

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role))
	}
	os.Exit(m.Run())
}

func env(k string) string { return os.Getenv("RC_" + k) }

func envInt(k string) int {
	n, err := strconv.Atoi(env(k))
	if err != nil {
		panic("RC_" + k + ": " + err.Error())
	}
	return n
}

// payload is event i's bytes: its index and a pattern, size bytes (at
// least 8).
func payload(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*7 + j)
	}
	copy(b, fmt.Sprintf("%08x", uint32(i)))
	return b
}

func runRole(role string) int {
	switch role {
	case "pub":
		return rolePub()
	case "sub":
		return roleSub()
	case "bench-sub-ring":
		return benchSubRing()
	case "bench-sub-stream":
		return benchSubStream()
	}
	fmt.Fprintln(os.Stderr, "unknown role", role)
	return 3
}

// rolePub publishes RC_N events of RC_SIZE bytes in batches of 64 once
// RC_WAIT subscribers are there, then ends as RC_END says: close, or exit
// without closing (the publisher's death).
func rolePub() int {
	name, n, size := env("NAME"), envInt("N"), envInt("SIZE")
	p, err := NewPublisher(name, &PubOptions{Reopen: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if w := envInt("WAIT"); w > 0 {
		if _, err := p.WaitSubscribers(context.Background(), w); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	base := envInt("BASE")
	msgs := make([]Msg, 0, 64)
	for i := 0; i < n; i++ {
		msgs = append(msgs, Msg{Type: 1, Data: payload(base+i, size)})
		if len(msgs) == cap(msgs) || i == n-1 {
			if _, err := p.PublishBatch(msgs); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			msgs = msgs[:0]
		}
	}
	if env("END") == "exit" {
		return 0 // the lease is left held: the publisher died
	}
	if err := p.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// roleSub reads RC_NAME reliably from the newest until its end and prints
// "COUNT CRC END" (the CRC-32 of every payload, the error that ended it).
func roleSub() int {
	s, err := NewSubscriber(env("NAME"), &SubOptions{Reliable: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	// Attached: say so, so that the parent publishes only now.
	fmt.Println("ready")
	h := crc32.NewIEEE()
	count := 0
	evs := make([]Event, 64)
	for {
		n, err := s.NextBatch(context.Background(), evs)
		if err != nil {
			end := "other"
			if errors.Is(err, ErrEndOfStream) {
				end = "eos"
			}
			fmt.Printf("%d %08x %s\n", count, h.Sum32(), end)
			return 0
		}
		for _, ev := range evs[:n] {
			h.Write(ev.Data)
		}
		count += n
	}
}

// child is a role process of the test binary.
type child struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

func spawn(t testing.TB, role string, vars map[string]string,
	extra ...*os.File) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	for k, v := range vars {
		cmd.Env = append(cmd.Env, "RC_"+k+"="+v)
	}
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = extra
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
	})
	return c
}

func (c *child) line(t testing.TB) string {
	t.Helper()
	s, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	return strings.TrimSuffix(s, "\n")
}

func (c *child) wait(t testing.TB) {
	t.Helper()
	io.Copy(io.Discard, c.out)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}

var seq int64

// ringName is a name no other test or run uses; the ring is removed when
// the test ends, whatever happened.
func ringName(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("gotest-%d-%d-%s", os.Getpid(),
		atomic.AddInt64(&seq, 1), strings.ReplaceAll(t.Name(), "/", "."))
	if len(name) > 200 {
		name = name[:200]
	}
	t.Cleanup(func() { RemoveForce(name) })
	return name
}

func newRing(t testing.TB, o *RingOptions) string {
	t.Helper()
	name := ringName(t)
	if _, err := Create(name, o); err != nil {
		t.Fatal(err)
	}
	return name
}

// skipProcs skips a multi-process test where only the in-process ones run
// (the race detector's run: RINGCAST_GO_INPROC_ONLY=1).
func skipProcs(t testing.TB) {
	if os.Getenv("RINGCAST_GO_INPROC_ONLY") != "" {
		t.Skip("multi-process test; RINGCAST_GO_INPROC_ONLY is set")
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Unused in some builds.
var _ = net.Dial
