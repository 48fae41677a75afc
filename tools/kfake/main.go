// Command kfake serves franz-go's in-memory fake Kafka cluster (kfake) on
// 127.0.0.1: the comparison broker of tools/bench/suite.sh. It keeps every
// record in memory and fsyncs nothing, so it measures a Kafka-compatible
// request path with no storage under it; BENCHMARKS.md says so wherever
// it appears.
//
//	go run ./tools/kfake --port 9192
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 9192, "port to listen on, on 127.0.0.1 (0: any)")
	brokers := flag.Int("brokers", 1, "brokers in the fake cluster (ports from --port up)")
	flag.Parse()
	if *brokers < 1 || *brokers > 16 {
		fmt.Fprintln(os.Stderr, "kfake: --brokers must be 1..16")
		os.Exit(2)
	}
	opts := []kfake.Opt{kfake.NumBrokers(*brokers), kfake.ClusterID("kfake-bench")}
	if *port != 0 {
		ports := make([]int, *brokers)
		for i := range ports {
			ports[i] = *port + i
		}
		opts = append(opts, kfake.Ports(ports...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
	fmt.Println("kfake listening on", c.ListenAddrs())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	c.Close()
}
