package bench

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// PlotSeries is one line of a percentile plot.
type PlotSeries struct {
	Label  string
	Points []PlotPoint
}

// PlotPoint is a latency at a percentile.
type PlotPoint struct {
	Quantile float64 // 0 <= q < 1
	ValueMs  float64
}

// histPoints samples h as .hgrm files do (5 ticks per half distance).
func histPoints(h *hdrhistogram.Histogram) []PlotPoint {
	var ps []PlotPoint
	for _, b := range h.CumulativeDistributionWithTicks(5) {
		if q := b.Quantile / 100; q < 1 {
			ps = append(ps, PlotPoint{q, float64(b.ValueAt) / hgrmScale})
		}
	}
	return ps
}

// ReadHgrm reads a percentile distribution as HdrHistogram writes it
// (outputPercentileDistribution, or PercentilesPrint): lines of value,
// percentile (0..1), total count and 1/(1-percentile). The value's unit is
// the file's; this package writes milliseconds. The 100th percentile
// cannot sit on a 1/(1-p) axis and is left out.
func ReadHgrm(r io.Reader) ([]PlotPoint, error) {
	var ps []PlotPoint
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || strings.HasPrefix(f[0], "#") || f[0] == "Value" {
			continue
		}
		v, err1 := strconv.ParseFloat(f[0], 64)
		q, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil || q < 0 || q > 1 || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("hgrm line %d: %q is not value, percentile, count, 1/(1-p)", line, sc.Text())
		}
		if q < 1 {
			ps = append(ps, PlotPoint{q, v})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("hgrm: no percentiles")
	}
	return ps, nil
}

// Plot geometry, in SVG user units.
const (
	plotW, plotH                       = 860, 520
	padLeft, padRight, padTop, padBott = 72, 24, 48, 64
	maxDecades                         = 6 // 99.9999%
)

var plotColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

// WritePlot draws latency against percentile on the usual 1/(1-p) axis
// (each decade one more nine), one line per series, as SVG.
func WritePlot(w io.Writer, title string, series []PlotSeries) error {
	decades, yMax := 2, 0.0
	for _, s := range series {
		for _, p := range s.Points {
			x := -math.Log10(1 - p.Quantile)
			decades = max(decades, min(maxDecades, int(math.Ceil(x-1e-9))))
		}
	}
	for _, s := range series {
		for _, p := range s.Points {
			if -math.Log10(1-p.Quantile) <= float64(decades) {
				yMax = max(yMax, p.ValueMs)
			}
		}
	}
	yStep := niceStep(yMax / 5)
	yTop := yStep * math.Ceil(yMax/yStep)
	if yTop == 0 {
		yTop = yStep
	}
	iw, ih := float64(plotW-padLeft-padRight), float64(plotH-padTop-padBott)
	px := func(q float64) float64 {
		return padLeft + iw*min(-math.Log10(1-q), float64(decades))/float64(decades)
	}
	py := func(v float64) float64 { return padTop + ih*(1-min(v, yTop)/yTop) }

	b := &strings.Builder{}
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotW, plotH)
	fmt.Fprintf(b, `<text x="%d" y="24" font-size="15" text-anchor="middle">%s</text>`+"\n", plotW/2, esc(title))
	// Grid and axis labels.
	for d := 0; d <= decades; d++ {
		x := padLeft + iw*float64(d)/float64(decades)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x, padTop, x, padTop+ih)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, padTop+ih+18, percentileLabel(d))
	}
	for v := 0.0; v <= yTop+yStep/2; v += yStep {
		y := py(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", padLeft, y, padLeft+iw, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padLeft-6, y+4, strconv.FormatFloat(v, 'f', -1, 64))
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#444"/>`+"\n", padLeft, padTop, iw, ih)
	fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">percentile</text>`+"\n", padLeft+iw/2, plotH-16)
	fmt.Fprintf(b, `<text x="18" y="%.1f" text-anchor="middle" transform="rotate(-90 18 %.1f)">latency (ms)</text>`+"\n", padTop+ih/2, padTop+ih/2)
	// Lines, then the legend over them.
	for i, s := range series {
		var pts strings.Builder
		for _, p := range s.Points {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(p.Quantile), py(p.ValueMs))
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"/>`+"\n", plotColors[i%len(plotColors)], strings.TrimSpace(pts.String()))
	}
	for i, s := range series {
		y := padTop + 16 + 16*i
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", padLeft+12, y-4, padLeft+32, y-4, plotColors[i%len(plotColors)])
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", padLeft+38, y, esc(s.Label))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// percentileLabel names decade d of the axis: 0%, 90%, 99%, 99.9%, ...
func percentileLabel(d int) string {
	switch d {
	case 0:
		return "0%"
	case 1:
		return "90%"
	case 2:
		return "99%"
	}
	return "99." + strings.Repeat("9", d-2) + "%"
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
