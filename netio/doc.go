// Package netio runs the broker's network edge: one epoll event loop per
// shard, each on its own locked OS thread with its own SO_REUSEPORT
// listener, reading length-prefixed request frames and writing responses
// back in request order.
//
// Where the kernel allows it (Config.Steering auto, the default), an eBPF
// sk_reuseport program built with cilium/ebpf's asm package hands each new
// connection to the shard numbered after the CPU that received it (CPU id
// modulo shards); otherwise the kernel's SO_REUSEPORT hash spreads them,
// and the log says which.
//
// It owns sockets, connection state, frame splitting, write queues and
// backpressure. It knows nothing of Kafka beyond the 4-byte big-endian size
// that prefixes every frame, and it must not block: handlers are called on
// the loop and answer later through Conn.Respond, from the loop, after a
// Loop.Post from any goroutine.
//
// A frame on the wire:
//
//	+-----------+---------------------------+
//	| size int32| size bytes of request     |
//	+-----------+---------------------------+
//
// A negative size or one over MaxFrameBytes loses the framing: the
// connection is closed. A connection stops being read while it has
// MaxInFlight requests unanswered or more than MaxQueuedBytes of responses
// unwritten, so a client that does not read its responses cannot make the
// broker buffer without bound. A connection's read buffer grows with the
// bytes that arrive, never to a frame's declared size up front, and the
// idle timeout (connections.max.idle.ms) counts only writes, completed
// requests and the first byte of a frame: unlike Kafka, a client that
// trickles a frame a byte at a time is closed like an idle one.
package netio
