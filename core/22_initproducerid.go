package core

// InitProducerId, versions 0-5, for idempotent producers: every call gets a
// new producer id with epoch 0, as Kafka answers a request without a
// transactional id (the KIP-360 ProducerID/ProducerEpoch fields of v3+ are
// ignored for those, as Kafka ignores them). Transactions are not served: a
// transactional id is refused with INVALID_REQUEST (FindCoordinator for
// transactions is not served either, so real transactional clients stop
// before this).

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func handleInitProducerID(r *request, kreq kmsg.Request) {
	req := kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = kerr.InvalidRequest.Code
		r.respond(resp)
		return
	}
	id, err := r.b.producerIDs.allocate()
	if err != nil {
		r.b.log.Error("allocating a producer id", "err", err)
		resp.ErrorCode = errorCode(err)
		r.respond(resp)
		return
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	r.respond(resp)
}
