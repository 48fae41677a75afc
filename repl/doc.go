// Package repl is the home of cluster replication; the code is in its
// subpackages, leaves first:
//
//	repl/meta        the cluster metadata (brokers, topics, assignments,
//	                 leaders, epochs, ISR, configs, producer-id blocks) as a
//	                 deterministic state machine of typed commands
//	repl/raftlog     a voter's durable raft storage over disk/vfs
//	repl/controller  one voter of the metadata raft group: RawNode, storage,
//	                 transport seam, applying commands to meta
//
// Still to come, above these: the inter-broker transport (controller
// messages and data replication over a dedicated connection), the active
// controller's decisions (heartbeat tracking and fencing, ISR and leader
// changes, preferred-leader balancing), and follower replication with the
// high watermark, acks levels and divergence truncation.
//
// Nothing here may import core: dependencies point from core to repl.
package repl
