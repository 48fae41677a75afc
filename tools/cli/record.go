package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// printer writes consumed records in one of consume's formats.
type printer interface {
	print(r *kgo.Record) error
	flush() error // ends a block: a table aligns the rows of one poll
}

// newPrinter picks the printer for a --format value: table, json, or a
// template (anything with a % in it).
func newPrinter(w io.Writer, format string) (printer, error) {
	switch {
	case format == "table":
		return &tablePrinter{w: w}, nil
	case format == "json":
		return &jsonPrinter{enc: json.NewEncoder(w)}, nil
	case strings.Contains(format, "%"):
		t, err := parseTemplate(format)
		if err != nil {
			return nil, err
		}
		return &templatePrinter{w: w, t: t}, nil
	}
	return nil, fmt.Errorf("--format: want table, json or a template such as '%%k=%%v\\n', got %q", format)
}

// tablePrinter prints PARTITION OFFSET TIMESTAMP KEY VALUE HEADERS rows,
// the header once; each poll's rows are aligned together so that output
// streams rather than waiting for the end.
type tablePrinter struct {
	w      io.Writer
	t      *table
	header bool
}

func (p *tablePrinter) print(r *kgo.Record) error {
	if p.t == nil {
		p.t = newTable(p.w)
		if !p.header {
			p.t.row("PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS")
			p.header = true
		}
	}
	p.t.row(r.Partition, r.Offset, formatMs(r.Timestamp.UnixMilli()), printable(r.Key), printable(r.Value), formatHeaders(r.Headers, printable))
	return nil
}

func (p *tablePrinter) flush() error {
	if p.t == nil {
		return nil
	}
	t := p.t
	p.t = nil
	return t.flush()
}

// jsonRecord is one record of consume --format json, one per line.
// Keys, values and header values are JSON strings when they are UTF-8 and
// {"base64": "..."} otherwise; a null key or value is null.
type jsonRecord struct {
	Topic     string       `json:"topic"`
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Timestamp int64        `json:"timestamp"` // Unix ms
	Key       jsonBytes    `json:"key"`
	Value     jsonBytes    `json:"value"`
	Headers   []jsonHeader `json:"headers"`
}

type jsonHeader struct {
	Key   string    `json:"key"`
	Value jsonBytes `json:"value"`
}

type jsonBytes []byte

func (b jsonBytes) MarshalJSON() ([]byte, error) {
	if b == nil {
		return []byte("null"), nil
	}
	if utf8.Valid(b) {
		return json.Marshal(string(b))
	}
	return json.Marshal(struct {
		Base64 string `json:"base64"`
	}{base64.StdEncoding.EncodeToString(b)})
}

type jsonPrinter struct{ enc *json.Encoder }

func (p *jsonPrinter) print(r *kgo.Record) error {
	hs := make([]jsonHeader, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = jsonHeader{h.Key, h.Value}
	}
	return p.enc.Encode(jsonRecord{r.Topic, r.Partition, r.Offset, r.Timestamp.UnixMilli(), r.Key, r.Value, hs})
}

func (p *jsonPrinter) flush() error { return nil }

// A template is kcat's -f: %t topic, %p partition, %o offset, %k key,
// %v (or %s) value, %h headers as k=v,k=v, %T timestamp in Unix ms, %%;
// \n, \t and \\ are escapes, so that shells pass them literally.
type templatePrinter struct {
	w   io.Writer
	t   []tmplPart
	buf []byte
}

type tmplPart struct {
	lit  string
	verb byte // 0 for a literal
}

func parseTemplate(s string) ([]tmplPart, error) {
	var parts []tmplPart
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case 'n':
				lit.WriteByte('\n')
			case 't':
				lit.WriteByte('\t')
			case '\\':
				lit.WriteByte('\\')
			default:
				lit.WriteByte('\\')
				lit.WriteByte(s[i])
			}
		case c == '%':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("--format: template ends in %%")
			}
			i++
			v := s[i]
			if v == '%' {
				lit.WriteByte('%')
				continue
			}
			if !strings.ContainsRune("tpokvshT", rune(v)) {
				return nil, fmt.Errorf("--format: unknown verb %%%c (want %%t %%p %%o %%k %%v %%h %%T)", v)
			}
			if lit.Len() > 0 {
				parts = append(parts, tmplPart{lit: lit.String()})
				lit.Reset()
			}
			parts = append(parts, tmplPart{verb: v})
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, tmplPart{lit: lit.String()})
	}
	return parts, nil
}

func (p *templatePrinter) print(r *kgo.Record) error {
	b := p.buf[:0]
	for _, part := range p.t {
		switch part.verb {
		case 0:
			b = append(b, part.lit...)
		case 't':
			b = append(b, r.Topic...)
		case 'p':
			b = strconv.AppendInt(b, int64(r.Partition), 10)
		case 'o':
			b = strconv.AppendInt(b, r.Offset, 10)
		case 'k':
			b = append(b, r.Key...)
		case 'v', 's':
			b = append(b, r.Value...)
		case 'h':
			b = append(b, formatHeaders(r.Headers, func(v []byte) string { return string(v) })...)
		case 'T':
			b = strconv.AppendInt(b, r.Timestamp.UnixMilli(), 10)
		}
	}
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *templatePrinter) flush() error { return nil }

func formatHeaders(hs []kgo.RecordHeader, show func([]byte) string) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = h.Key + "=" + show(h.Value)
	}
	return strings.Join(parts, ",")
}

// printable keeps a table cell on one line and readable: text is shown as
// is, anything with control characters or invalid UTF-8 is quoted with Go
// escapes.
func printable(b []byte) string {
	if !utf8.Valid(b) {
		return strconv.Quote(string(b))
	}
	for _, r := range string(b) {
		if unicode.IsControl(r) {
			return strconv.Quote(string(b))
		}
	}
	return string(b)
}

// formatMs shows a Kafka timestamp in UTC with milliseconds; negative
// (no timestamp) as "-".
func formatMs(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}
