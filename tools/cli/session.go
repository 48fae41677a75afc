package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Session is one command's connection to a cluster and its output.
type Session struct {
	opts  Options
	seeds []string
	out   io.Writer
	kcl   *kgo.Client
	adm   *kadm.Client
}

// Open checks the options and makes a client; nothing is dialled until the
// first request.
func Open(o Options, out io.Writer) (*Session, error) {
	seeds, err := o.seeds()
	if err != nil {
		return nil, err
	}
	switch {
	case o.Format == "table", o.Format == "json", strings.Contains(o.Format, "%"):
	default:
		return nil, fmt.Errorf("--format: want table or json, got %q", o.Format)
	}
	if o.Timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive")
	}
	s := &Session{opts: o, seeds: seeds, out: out}
	if s.kcl, err = s.newClient(); err != nil {
		return nil, err
	}
	s.adm = kadm.NewClient(s.kcl)
	return s, nil
}

// Close releases the client (and leaves any group it joined).
func (s *Session) Close() { s.kcl.Close() }

// newClient makes a kgo client on the session's seeds. A dial failure is
// retried by kgo until the command's context ends, which is what --timeout
// bounds.
func (s *Session) newClient(opts ...kgo.Opt) (*kgo.Client, error) {
	base := []kgo.Opt{
		kgo.SeedBrokers(s.seeds...),
		kgo.ClientID("sluice-cli"),
		kgo.DialTimeout(min(s.opts.Timeout, 5*time.Second)),
		kgo.RetryTimeout(s.opts.Timeout),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return cl, nil
}

// tableOnly refuses a consume template for the commands that cannot use
// one.
func (s *Session) tableOnly() error {
	if s.opts.Format != "table" && s.opts.Format != "json" {
		return fmt.Errorf("--format: want table or json, got %q (templates are for consume)", s.opts.Format)
	}
	return nil
}

func (s *Session) json() bool { return s.opts.Format == "json" }

// timeout bounds one admin exchange.
func (s *Session) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// wrap turns the errors a request can end in into one clear line: a
// deadline becomes "no answer from <brokers>" with the last dial error kgo
// saw, where there was one.
func (s *Session) wrap(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: no answer from %s within %v", what, s.opts.Brokers, s.opts.Timeout)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// kafkaErr formats a Kafka error code with the broker's message, if any.
func kafkaErr(err error, msg string) error {
	if err == nil {
		return nil
	}
	var ke *kerr.Error
	if errors.As(err, &ke) && msg != "" && msg != ke.Description {
		return fmt.Errorf("%s: %s", ke.Message, msg)
	}
	if errors.As(err, &ke) {
		return fmt.Errorf("%s: %s", ke.Message, ke.Description)
	}
	if msg != "" {
		return fmt.Errorf("%w: %s", err, msg)
	}
	return err
}

// table writes aligned columns; cells are written with %v.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(toAny(header)...)
	}
	return t
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	io.WriteString(t.tw, "\n")
}

func (t *table) flush() error { return t.tw.Flush() }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// int32List prints node lists as 1,2,3.
func int32List(ns []int32) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ",")
}

// topicID prints a topic ID as Kafka does (Uuid.toString: URL-safe base64
// without padding), so it matches kafka-topics.sh output.
func topicID(id kadm.TopicID) string { return base64.RawURLEncoding.EncodeToString(id[:]) }
