package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sluice/core"
)

// DefaultListen is where the admin server listens unless told otherwise.
const DefaultListen = "127.0.0.1:9644"

// Config is the admin server's configuration.
type Config struct {
	Listen string // host:port; port 0 picks one
	// Level is the logger's level, read and set by /v1/loglevel; nil
	// disables the endpoint.
	Level  *slog.LevelVar
	Logger *slog.Logger
	// SnapshotTimeout bounds how long a scrape or /v1/cluster waits for
	// the shards' partition state (default 2 s).
	SnapshotTimeout time.Duration
}

// Server is a running admin HTTP server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	http   *http.Server
	broker atomic.Pointer[core.Broker] // nil until SetBroker: live but not ready
}

// Listen binds cfg.Listen and starts serving. The broker is attached
// later with SetBroker, so that health answers during recovery.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SnapshotTimeout <= 0 {
		cfg.SnapshotTimeout = 2 * time.Second
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, ln: ln}
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin server stopped", "err", err)
		}
	}()
	return s, nil
}

// SetBroker attaches the broker once it has started.
func (s *Server) SetBroker(b *core.Broker) { s.broker.Store(b) }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops the server, waiting for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newBrokerCollector(s),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogErrorLog{s.log}}))
	mux.HandleFunc("GET /v1/latency", s.latency)
	mux.HandleFunc("GET /v1/health/live", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "live"})
	})
	mux.HandleFunc("GET /v1/health/ready", s.ready)
	mux.HandleFunc("GET /v1/cluster", s.cluster)
	mux.HandleFunc("GET /v1/loglevel", s.getLevel)
	mux.HandleFunc("PUT /v1/loglevel", s.putLevel)
	return mux
}

type slogErrorLog struct{ log *slog.Logger }

func (l slogErrorLog) Println(v ...any) { l.log.Warn("metrics", "err", v) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	b := s.broker.Load()
	switch {
	case b == nil:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
	case !b.Ready():
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}

type clusterJSON struct {
	ClusterID string         `json:"cluster_id"`
	NodeID    int32          `json:"node_id"`
	Listeners []listenerJSON `json:"listeners"`
	Admin     string         `json:"admin"`
	Topics    []topicJSON    `json:"topics"`
	Groups    int            `json:"groups"`
}

type listenerJSON struct {
	Name       string `json:"name"`
	Address    string `json:"address"`
	Advertised string `json:"advertised"`
}

type topicJSON struct {
	Name       string          `json:"name"`
	Partitions []partitionJSON `json:"partitions"`
}

type partitionJSON struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	LogEndOffset   int64   `json:"log_end_offset"`
	HighWatermark  int64   `json:"high_watermark"`
	SizeBytes      int64   `json:"size_bytes"`
}

func (s *Server) cluster(w http.ResponseWriter, r *http.Request) {
	b := s.broker.Load()
	if b == nil {
		writeError(w, http.StatusServiceUnavailable, "broker starting")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.SnapshotTimeout)
	defer cancel()
	snap, err := b.Snapshot(ctx)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	info := b.ClusterInfo()
	out := clusterJSON{ClusterID: info.ClusterID, NodeID: info.NodeID, Admin: s.Addr(), Groups: len(snap.Groups), Topics: []topicJSON{},
		Listeners: []listenerJSON{{Name: "PLAINTEXT", Address: info.Listen, Advertised: info.Advertised}}}
	for _, p := range snap.Partitions {
		if n := len(out.Topics); n == 0 || out.Topics[n-1].Name != p.Topic {
			out.Topics = append(out.Topics, topicJSON{Name: p.Topic})
		}
		t := &out.Topics[len(out.Topics)-1]
		t.Partitions = append(t.Partitions, partitionJSON{Partition: p.Partition, Leader: info.NodeID, ISR: []int32{info.NodeID},
			LogStartOffset: p.LogStartOffset, LogEndOffset: p.LogEndOffset, HighWatermark: p.HighWatermark, SizeBytes: p.SizeBytes})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getLevel(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Level == nil {
		writeError(w, http.StatusNotFound, "log level is not adjustable")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"level": s.cfg.Level.Level().String()})
}

// maxLevelBody bounds a PUT /v1/loglevel body.
const maxLevelBody = 1 << 10

func (s *Server) putLevel(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Level == nil {
		writeError(w, http.StatusNotFound, "log level is not adjustable")
		return
	}
	var buf [maxLevelBody + 1]byte
	n, _ := readFull(r, buf[:])
	if n > maxLevelBody {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	text := strings.TrimSpace(string(buf[:n]))
	var body struct{ Level string }
	if strings.HasPrefix(text, "{") {
		if err := json.Unmarshal([]byte(text), &body); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		text = body.Level
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(text)); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	old := s.cfg.Level.Level()
	s.cfg.Level.Set(lvl)
	s.log.Info("log level changed", "from", old.String(), "to", lvl.String())
	writeJSON(w, http.StatusOK, map[string]string{"level": lvl.String()})
}

func readFull(r *http.Request, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Body.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
