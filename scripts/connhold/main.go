// Command connhold holds N established TCP connections on 127.0.0.1 for
// benchmarks: it listens on enough loopback ports (at most 20,000
// connections each, within the ephemeral range), dials N connections,
// prints "ready N" and waits until its standard input closes or -for
// elapses, then exits. It never reaches beyond 127.0.0.1.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

const perListener = 20000

func main() {
	n := flag.Int("n", 0, "connections to hold (at most 200000)")
	hold := flag.Duration("for", 10*time.Minute, "exit after this long at most")
	flag.Parse()
	if *n < 0 || *n > 200000 {
		fmt.Fprintln(os.Stderr, "connhold: -n must be 0..200000")
		os.Exit(2)
	}
	go func() { time.Sleep(*hold); os.Exit(0) }()

	var mu sync.Mutex
	var keep []net.Conn
	var lns []net.Listener
	for i := 0; i < (*n+perListener-1)/perListener; i++ {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		lns = append(lns, ln)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				keep = append(keep, c)
				mu.Unlock()
			}
		}()
	}
	jobs := make(chan string)
	var wg sync.WaitGroup
	var errOnce sync.Once
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for addr := range jobs {
				c, err := net.Dial("tcp4", addr)
				if err != nil {
					errOnce.Do(func() { fail(err) })
				}
				mu.Lock()
				keep = append(keep, c)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < *n; i++ {
		jobs <- lns[i/perListener].Addr().String()
	}
	close(jobs)
	wg.Wait()
	for { // wait until every connection is accepted
		mu.Lock()
		got := len(keep)
		mu.Unlock()
		if got >= 2**n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("ready %d\n", *n)
	io.Copy(io.Discard, os.Stdin)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "connhold:", err)
	os.Exit(1)
}
