package logtool

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"
)

var codecs = [...]string{"none", "gzip", "snappy", "lz4", "zstd"}

func codecName(c int) string {
	if c >= 0 && c < len(codecs) {
		return codecs[c]
	}
	return fmt.Sprintf("codec-%d", c)
}

// jsonBatch is one line of `log dump --format json`.
type jsonBatch struct {
	File          string `json:"file"`
	Position      int64  `json:"position"`
	BaseOffset    int64  `json:"base_offset"`
	LastOffset    int64  `json:"last_offset"`
	Count         int32  `json:"count"`
	Size          int    `json:"size"`
	LeaderEpoch   int32  `json:"leader_epoch"`
	BaseTimestamp int64  `json:"base_timestamp"`
	MaxTimestamp  int64  `json:"max_timestamp"`
	ProducerID    int64  `json:"producer_id"`
	ProducerEpoch int16  `json:"producer_epoch"`
	BaseSequence  int32  `json:"base_sequence"`
	Codec         string `json:"codec"`
	Transactional bool   `json:"transactional"`
	Control       bool   `json:"control"`
	CRCOK         bool   `json:"crc_ok"`
	Invalid       string `json:"invalid,omitempty"` // batch.Validate's complaint, CRC included
}

func toJSON(b Batch) jsonBatch {
	h := &b.Header
	j := jsonBatch{File: filepath.Base(b.File), Position: b.Position, BaseOffset: h.BaseOffset, LastOffset: h.LastOffset(),
		Count: h.NumRecords, Size: h.Size(), LeaderEpoch: h.PartitionLeaderEpoch, BaseTimestamp: h.BaseTimestamp,
		MaxTimestamp: h.MaxTimestamp, ProducerID: h.ProducerID, ProducerEpoch: h.ProducerEpoch, BaseSequence: h.BaseSequence,
		Codec: codecName(h.Compression()), Transactional: h.IsTransactional(), Control: h.IsControl(), CRCOK: b.CRCOK}
	if b.Invalid != nil {
		j.Invalid = b.Invalid.Error()
	}
	return j
}

// Dump prints every batch of the segment files at path, a partition
// directory or one file: a table per segment, or with format "json" one
// JSON object per batch per line. A batch that fails its CRC is shown
// (CRC "BAD") and the dump goes on; one that cannot be framed ends the
// dump with a *Problem, as it ends recovery.
func Dump(path, format string, w io.Writer) error {
	if format != "table" && format != "json" {
		return fmt.Errorf("--format: want table or json, got %q", format)
	}
	files, err := Segments(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	for i, file := range files {
		var tw *tabwriter.Writer
		if format == "table" {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s\n", filepath.Base(file))
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "POSITION\tOFFSET\tCOUNT\tSIZE\tEPOCH\tBASE-TIMESTAMP\tMAX-TIMESTAMP\tPRODUCER-ID\tPRODUCER-EPOCH\tSEQ\tCODEC\tCRC")
		}
		err := scanFile(file, func(b Batch, _ []byte) error {
			if tw == nil {
				return enc.Encode(toJSON(b))
			}
			h := &b.Header
			crc := "ok"
			if !b.CRCOK {
				crc = "BAD"
			}
			_, err := fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n",
				b.Position, h.BaseOffset, h.NumRecords, h.Size(), h.PartitionLeaderEpoch,
				formatMs(h.BaseTimestamp), formatMs(h.MaxTimestamp), h.ProducerID, h.ProducerEpoch,
				h.BaseSequence, codecName(h.Compression()), crc)
			return err
		})
		if tw != nil {
			if ferr := tw.Flush(); err == nil {
				err = ferr
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// formatMs shows a batch timestamp in UTC with milliseconds; -1 (none)
// as "-".
func formatMs(ms int64) string {
	if ms < 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}
