package logtool

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
)

// SegmentReport sums up one segment file that verify read.
type SegmentReport struct {
	File        string `json:"file"`
	Batches     int    `json:"batches"`
	Records     int64  `json:"records"`
	FirstOffset int64  `json:"first_offset"` // -1 for an empty segment
	NextOffset  int64  `json:"next_offset"`  // the offset after its last batch
	Bytes       int64  `json:"bytes"`        // of whole batches, without the zero tail
}

// Report is what Verify found: the segments it read in full and the first
// problem, if any (the segment holding it is the last one listed).
type Report struct {
	Segments []SegmentReport `json:"segments"`
	Problem  *Problem        `json:"problem,omitempty"`
}

// Check reads every segment file at path (a partition directory or one
// file) in offset order and stops at the first problem: a batch that
// cannot be framed, fails batch.Validate (CRC-32C, record count, offset
// delta), or does not start where the previous batch ended; a segment whose
// name is not its first batch's offset or that does not continue the
// previous segment; data after the zero tail. It returns an error only when
// it cannot read at all.
func Check(path string) (Report, error) {
	rep := Report{Segments: []SegmentReport{}}
	files, err := Segments(path)
	if err != nil {
		return rep, err
	}
	next := int64(-1) // where the next batch must start; -1: anywhere
	for _, file := range files {
		seg := SegmentReport{File: filepath.Base(file), FirstOffset: -1}
		if base, ok := segmentBase(file); ok {
			if next >= 0 && base != next {
				rep.Problem = &Problem{file, 0, base, fmt.Sprintf("segment starts at offset %d, but the previous one ends at %d", base, next)}
				rep.Segments = append(rep.Segments, seg)
				return rep, nil
			}
			next = base
		}
		seg.NextOffset = next
		err := scanFile(file, func(b Batch, _ []byte) error {
			h := &b.Header
			if b.Invalid != nil {
				return &Problem{file, b.Position, h.BaseOffset, b.Invalid.Error()}
			}
			if next >= 0 && h.BaseOffset != next {
				return &Problem{file, b.Position, h.BaseOffset, fmt.Sprintf("batch has offset %d, expected %d", h.BaseOffset, next)}
			}
			if seg.Batches == 0 {
				seg.FirstOffset = h.BaseOffset
			}
			seg.Batches++
			seg.Records += int64(h.NumRecords)
			seg.Bytes += int64(h.Size())
			next = h.LastOffset() + 1
			seg.NextOffset = next
			return nil
		})
		rep.Segments = append(rep.Segments, seg)
		var p *Problem
		if errors.As(err, &p) {
			rep.Problem = p
			return rep, nil
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Verify runs Check and prints its report: a table of the segments and a
// last line saying "ok" or what is wrong where; with format "json", the
// Report. A problem is returned as the error, so the command exits
// non-zero.
func Verify(path, format string, w io.Writer) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("--format: want table or json, got %q", format)
	}
	rep, err := Check(path)
	if err != nil {
		return err
	}
	if format == "json" {
		if err := json.NewEncoder(w).Encode(rep); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SEGMENT\tBATCHES\tRECORDS\tOFFSETS\tBYTES")
		for _, s := range rep.Segments {
			offsets := "-"
			if s.Batches > 0 {
				offsets = fmt.Sprintf("%d-%d", s.FirstOffset, s.NextOffset-1)
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\n", s.File, s.Batches, s.Records, offsets, s.Bytes)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if rep.Problem == nil {
			batches := 0
			for _, s := range rep.Segments {
				batches += s.Batches
			}
			fmt.Fprintf(w, "ok: %d segments, %d batches\n", len(rep.Segments), batches)
		} else {
			fmt.Fprintf(w, "problem: %v\n", rep.Problem)
		}
	}
	if rep.Problem != nil {
		return rep.Problem
	}
	return nil
}
