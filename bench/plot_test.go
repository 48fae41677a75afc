package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// TestHgrmRoundTrip: what PercentilesPrint writes, ReadHgrm reads back as
// the points the plot would draw from the histogram itself.
func TestHgrmRoundTrip(t *testing.T) {
	h := newHist()
	for v := range int64(10000) {
		h.RecordValue(100 + v*v/1000)
	}
	var buf bytes.Buffer
	if _, err := h.PercentilesPrint(&buf, 5, hgrmScale); err != nil {
		t.Fatal(err)
	}
	got, err := ReadHgrm(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := histPoints(h)
	if len(got) != len(want) {
		t.Fatalf("%d points read, %d in the histogram", len(got), len(want))
	}
	for i := range got {
		if d := got[i].ValueMs - want[i].ValueMs; d > 0.001 || d < -0.001 || got[i].Quantile-want[i].Quantile > 1e-6 {
			t.Fatalf("point %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := ReadHgrm(strings.NewReader("garbage 1 2 3\n")); err == nil {
		t.Error("read garbage as a distribution")
	}
}

// TestWritePlot: the SVG is well-formed XML with one line per series and
// the percentile axis out to the nines the data reaches.
func TestWritePlot(t *testing.T) {
	h := newHist()
	for v := range int64(100000) {
		h.RecordValue(1 + v%5000)
	}
	series := []PlotSeries{{Label: "sluice <round-1>", Points: histPoints(h)}, {Label: "kfake", Points: histPoints(h)}}
	var buf bytes.Buffer
	if err := WritePlot(&buf, "a & b", series); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&buf)
	lines, texts := 0, []string{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local == "polyline" {
				lines++
			}
		case xml.CharData:
			texts = append(texts, string(tok))
		}
	}
	all := strings.Join(texts, "|")
	if lines != 2 || !strings.Contains(all, "99.99%") || !strings.Contains(all, "sluice <round-1>") || !strings.Contains(all, "a & b") {
		t.Fatalf("%d lines, texts %s", lines, all)
	}
}
