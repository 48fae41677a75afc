package admin

import (
	"net/http"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// latencyJSON is one API's latency in /v1/latency: summary percentiles in
// microseconds and the full histogram, which hdrhistogram.Import reads.
type latencyJSON struct {
	API       string                 `json:"api"`
	Key       int16                  `json:"key"`
	Requests  uint64                 `json:"requests"`
	Errors    uint64                 `json:"errors"`
	MinUs     int64                  `json:"min_us"`
	MeanUs    float64                `json:"mean_us"`
	P50Us     int64                  `json:"p50_us"`
	P90Us     int64                  `json:"p90_us"`
	P99Us     int64                  `json:"p99_us"`
	P999Us    int64                  `json:"p999_us"`
	MaxUs     int64                  `json:"max_us"`
	Histogram *hdrhistogram.Snapshot `json:"histogram"`
}

// latency serves the request latency histograms, all APIs as JSON, or one
// API (?api=Produce) as HdrHistogram's .hgrm percentile text with
// ?format=hgrm, in milliseconds as HdrHistogram's plotter expects.
func (s *Server) latency(w http.ResponseWriter, r *http.Request) {
	b := s.broker.Load()
	if b == nil {
		writeError(w, http.StatusServiceUnavailable, "broker starting")
		return
	}
	q := r.URL.Query()
	api, format := q.Get("api"), q.Get("format")
	if format != "" && format != "json" && format != "hgrm" {
		writeError(w, http.StatusBadRequest, "format: want json or hgrm")
		return
	}
	if format == "hgrm" && api == "" {
		writeError(w, http.StatusBadRequest, "format=hgrm needs api=NAME")
		return
	}
	out := []latencyJSON{}
	for _, a := range b.RequestStats() {
		if api != "" && a.Name != api {
			continue
		}
		h := a.Latency
		if format == "hgrm" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			h.PercentilesPrint(w, 5, 1000)
			return
		}
		out = append(out, latencyJSON{API: a.Name, Key: a.Key, Requests: a.Requests, Errors: a.Errors,
			MinUs: h.Min(), MeanUs: h.Mean(), P50Us: h.ValueAtQuantile(50), P90Us: h.ValueAtQuantile(90),
			P99Us: h.ValueAtQuantile(99), P999Us: h.ValueAtQuantile(99.9), MaxUs: h.Max(), Histogram: h.Export()})
	}
	if api != "" && len(out) == 0 {
		writeError(w, http.StatusNotFound, "no requests of api "+api)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"unit": "microseconds", "apis": out})
}
