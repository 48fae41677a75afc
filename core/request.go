package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"sluice/netio"
)

// request is one decoded request on its connection's loop.
type request struct {
	b        *Broker
	c        *netio.Conn
	seq      uint64
	key      int16
	version  int16
	corr     int32
	clientID string
	// flexibleResp: the response header carries tagged fields (v1).
	flexibleResp bool
	start        time.Time // when its frame arrived, for request latency
}

var errBadHeader = errors.New("malformed request header")

// parseHeader reads the request header (v1 or v2, which differ only in the
// trailing tagged fields) and returns the body after it.
func parseHeader(b []byte) (key, version int16, corr int32, clientID string, rest []byte, err error) {
	if len(b) < 10 {
		return 0, 0, 0, "", nil, fmt.Errorf("%w: %d bytes", errBadHeader, len(b))
	}
	key = int16(binary.BigEndian.Uint16(b))
	version = int16(binary.BigEndian.Uint16(b[2:]))
	corr = int32(binary.BigEndian.Uint32(b[4:]))
	n := int16(binary.BigEndian.Uint16(b[8:]))
	rest = b[10:]
	if n > 0 {
		if int(n) > len(rest) {
			return 0, 0, 0, "", nil, fmt.Errorf("%w: client id of %d bytes", errBadHeader, n)
		}
		clientID, rest = string(rest[:n]), rest[n:]
	}
	return key, version, corr, clientID, rest, nil
}

// skipTags skips a tagged-field section (flexible header v2).
func skipTags(b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("%w: tag count", errBadHeader)
	}
	b = b[k:]
	for range n {
		_, k1 := binary.Uvarint(b)
		if k1 <= 0 {
			return nil, fmt.Errorf("%w: tag", errBadHeader)
		}
		size, k2 := binary.Uvarint(b[k1:])
		if k2 <= 0 || size > uint64(len(b)-k1-k2) {
			return nil, fmt.Errorf("%w: tag size", errBadHeader)
		}
		b = b[k1+k2+int(size):]
	}
	return b, nil
}

// maxControlRequestBytes caps every request but Produce. kmsg bounds an
// array's length by the bytes left, but an element can decode into a struct
// many times its wire size, so a large frame of tiny elements could make the
// decoder allocate far more than the frame; no request of these APIs comes
// near the cap.
const maxControlRequestBytes = 1 << 20

// header is a decoded request header.
type header struct {
	key, version int16
	corr         int32
	clientID     string
}

// errUnsupportedApiVersions marks an ApiVersions request of a version we
// do not know, which gets an answer rather than a closed connection.
var errUnsupportedApiVersions = errors.New("unsupported ApiVersions version")

// decode parses a request frame: the header, the API and version checked
// against the table, and the body with kmsg. It touches no broker state.
func decode(apis map[int16]*api, body []byte) (header, kmsg.Request, error) {
	var h header
	key, version, corr, clientID, rest, err := parseHeader(body)
	if err != nil {
		return h, nil, err
	}
	h = header{key: key, version: version, corr: corr, clientID: clientID}
	a := apis[key]
	if a == nil {
		return h, nil, fmt.Errorf("unknown api key %d", key)
	}
	if version < a.minVersion || version > a.maxVersion {
		if key == kmsg.ApiVersions.Int16() {
			return h, nil, errUnsupportedApiVersions
		}
		return h, nil, fmt.Errorf("api key %d version %d not in [%d, %d]", key, version, a.minVersion, a.maxVersion)
	}
	if key != kmsg.Produce.Int16() && len(body) > maxControlRequestBytes {
		return h, nil, fmt.Errorf("api key %d request of %d bytes, limit %d", key, len(body), maxControlRequestBytes)
	}
	req := kmsg.RequestForKey(key)
	req.SetVersion(version)
	if req.IsFlexible() {
		if rest, err = skipTags(rest); err != nil {
			return h, nil, err
		}
	}
	// The decoder copies strings (requests answered later keep their
	// names) but byte fields such as produce records still alias the read
	// buffer, which is reused after this call: handlers copy what they
	// keep (the log copies appended batches itself).
	if err := req.ReadFrom(rest); err != nil {
		return h, nil, fmt.Errorf("api key %d v%d: %w", key, version, err)
	}
	return h, req, nil
}

// Request implements netio.Handler. Runs on the connection's loop.
func (b *Broker) Request(c *netio.Conn, seq uint64, body []byte) {
	start := time.Now()
	h, req, err := decode(b.apis, body)
	r := &request{b: b, c: c, seq: seq, key: h.key, version: h.version, corr: h.corr, clientID: h.clientID, start: start}
	switch {
	case errors.Is(err, errUnsupportedApiVersions):
		// KIP-511: answer with v0 and UNSUPPORTED_VERSION, so the client
		// can retry with a version we have.
		r.version = 0
		resp := apiVersionsResponse(b.apiKeys, 0)
		resp.ErrorCode = errUnsupportedVersion
		r.respond(resp)
		return
	case err != nil:
		r.observe(true)
		b.badRequest(c, err, body)
		return
	}
	r.flexibleResp = req.IsFlexible() && h.key != kmsg.ApiVersions.Int16()
	b.apis[h.key].handle(r, req)
}

// Closed implements netio.Handler.
func (b *Broker) Closed(c *netio.Conn) {}

// badRequest closes a connection whose request cannot be decoded, as Kafka
// does: without a correlation id there is nothing to answer.
func (b *Broker) badRequest(c *netio.Conn, err error, body []byte) {
	b.badInput.warn("closing connection on a malformed request", "peer", c.RemoteAddr(), "err", err, "snippet", fmt.Sprintf("%q", body[:min(len(body), 32)]))
	c.CloseNow()
}

// respond encodes resp with the request's version and header and queues it.
// Runs on the connection's loop.
func (r *request) respond(resp kmsg.Response) {
	r.c.Respond(r.seq, r.encode(resp))
	r.observe(responseFailed(resp))
}

// encode makes the response frame: a size to be filled in, the header and
// resp at the request's version. Safe on any loop.
func (r *request) encode(resp kmsg.Response) []byte {
	resp.SetVersion(r.version)
	buf := make([]byte, 4, 128)
	buf = binary.BigEndian.AppendUint32(buf, uint32(r.corr))
	if r.flexibleResp {
		buf = append(buf, 0)
	}
	return resp.AppendTo(buf)
}

// sendFrom queues an encoded response from loop l: directly when l is the
// connection's loop, posted to it otherwise. failed says whether the
// response carries an error code (responseFailed), for the metrics.
func (r *request) sendFrom(l *netio.Loop, frame []byte, failed bool) {
	if l == r.c.Loop() {
		r.c.Respond(r.seq, frame)
		r.observe(failed)
		return
	}
	r.c.Loop().Post(func() {
		r.c.Respond(r.seq, frame)
		r.observe(failed)
	})
}

// respondFrom answers from any goroutine.
func (r *request) respondFrom(resp kmsg.Response) {
	r.c.Loop().Post(func() { r.respond(resp) })
}
