// SPDX-License-Identifier: MIT

package ringcast_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"ringcast"
)

func exampleName(what string) string {
	return fmt.Sprintf("goexample-%d-%s", os.Getpid(), what)
}

func ExampleFeed() {
	feed := &ringcast.Feed{Name: exampleName("feed")}
	defer ringcast.RemoveForce(feed.Name)

	ch := make(chan ringcast.Event, 4)
	sub := feed.Subscribe(ch)
	defer sub.Unsubscribe()

	n, _ := feed.Send([]byte("hello"))
	fmt.Println("reached", n)
	fmt.Println(string((<-ch).Data))
	feed.Close()
	fmt.Println(errors.Is(<-sub.Err(), ringcast.ErrEndOfStream))
	// Output:
	// reached 1
	// hello
	// true
}

func ExamplePublisher_PublishBatch() {
	name := exampleName("batch")
	ringcast.Create(name, nil)
	defer ringcast.RemoveForce(name)
	sub, _ := ringcast.NewSubscriber(name, nil)
	defer sub.Close()

	pub, _ := ringcast.NewPublisher(name, nil)
	pub.PublishBatch([]ringcast.Msg{
		{Type: 1, Data: []byte("one")},
		{Type: 2, Data: []byte("two")},
	})
	pub.Close()

	evs := make([]ringcast.Event, 16)
	n, _ := sub.NextBatch(context.Background(), evs)
	for _, ev := range evs[:n] {
		fmt.Println(ev.Type, string(ev.Data))
	}
	_, err := sub.NextBatch(context.Background(), evs)
	fmt.Println(errors.Is(err, ringcast.ErrEndOfStream))
	// Output:
	// 1 one
	// 2 two
	// true
}

func ExampleSubscriber_Next() {
	name := exampleName("next")
	ringcast.Create(name, nil)
	defer ringcast.RemoveForce(name)
	pub, _ := ringcast.NewPublisher(name, nil)
	pub.Publish(1, []byte("a"))
	pub.Publish(1, []byte("b"))
	pub.Close()

	sub, _ := ringcast.NewSubscriber(name,
		&ringcast.SubOptions{From: ringcast.FromOldest})
	defer sub.Close()
	for {
		ev, err := sub.Next(context.Background())
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(ev.Seq, string(ev.Data))
	}
	// Output:
	// 0 a
	// 1 b
	// ringcast: Next: the ring is closed
}

func ExampleTypeMux() {
	name := exampleName("mux")
	ringcast.Create(name, nil)
	defer ringcast.RemoveForce(name)
	mux, _ := ringcast.NewTypeMux(name, &ringcast.MuxOptions{Reliable: true})
	defer mux.Stop()

	greetings := mux.Subscribe(1)
	mux.Post(2, []byte("not for us"))
	mux.Post(1, []byte("hi"))
	ev := <-greetings.Chan()
	fmt.Println(ev.Type, string(ev.Data))
	// Output:
	// 1 hi
}
