package core

// DescribeCluster, versions 0-2. This node is the whole cluster: the only
// broker (never fenced) and the controller. ClusterAuthorizedOperations is
// Kafka's "not requested" value unless asked for, and then every cluster
// operation, as Kafka reports without an authorizer. Difference from Apache
// Kafka: EndpointType 2 (controllers) is answered with this node too,
// since its one listener serves both roles; Kafka's brokers refuse it with
// UNSUPPORTED_ENDPOINT_TYPE, as Sluice does other types.

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// clusterOperations is the bit field of the ACL operations that apply to
// the cluster (Kafka's AclEntry.supportedOperations(CLUSTER)), by their
// codes: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS
// 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
const clusterOperations = 1<<5 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12

func handleDescribeCluster(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	b := r.b
	resp.EndpointType = req.EndpointType
	if req.EndpointType != 1 && req.EndpointType != 2 {
		msg := fmt.Sprintf("endpoint type %d is not supported", req.EndpointType)
		resp.ErrorCode, resp.ErrorMessage = kerr.UnsupportedEndpointType.Code, &msg
		r.respond(resp)
		return
	}
	resp.ClusterID, resp.ControllerID = b.clusterID, b.cfg.NodeID
	broker := kmsg.NewDescribeClusterResponseBroker()
	broker.NodeID, broker.Host, broker.Port = b.cfg.NodeID, b.host, b.port
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{broker}
	resp.ClusterAuthorizedOperations = math.MinInt32
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = clusterOperations
	}
	r.respond(resp)
}
