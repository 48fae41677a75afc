package logtool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sluice/disk"
	"sluice/disk/batch"
	"sluice/disk/batch/batchtest"
	"sluice/disk/vfs"
)

const (
	segmentBytes = 8 << 10
	// Each batch is 5 records of ~200 bytes: a segment holds 7 of them.
	batchRecords = 5
	batchCount   = 20
)

// writeLog writes batchCount batches through disk.Log, as the broker
// does, into a new partition directory, and returns it. The small segment
// size spreads them over several segments; the last one keeps its
// preallocated zero tail.
func writeLog(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "orders-0")
	cfg := disk.Config{SegmentBytes: segmentBytes, PreallocateBytes: 64 << 10, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	l, err := disk.Open(vfs.OS{}, dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range batchCount {
		b := batchtest.Sized(int64(1_700_000_000_000+i), batchRecords, 1000, byte(i))
		if _, err := l.Append(b, 3, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dumpJSON dumps path with --format json and parses the lines.
func dumpJSON(t *testing.T, path string) []jsonBatch {
	t.Helper()
	var out bytes.Buffer
	if err := Dump(path, "json", &out); err != nil {
		t.Fatalf("dump: %v", err)
	}
	var bs []jsonBatch
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var b jsonBatch
		if err := json.Unmarshal(sc.Bytes(), &b); err != nil {
			t.Fatalf("dump line %q: %v", sc.Text(), err)
		}
		bs = append(bs, b)
	}
	return bs
}

// TestDump dumps a log the disk package wrote, in both formats, and checks
// every batch is listed once, in order, with its header fields, and that
// the preallocated tail of the last segment ends the dump quietly.
func TestDump(t *testing.T) {
	dir := writeLog(t)
	files, err := Segments(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("want the log over several segments, got %v", files)
	}
	last := files[len(files)-1]
	bs := dumpJSON(t, dir)
	if len(bs) != batchCount {
		t.Fatalf("dumped %d batches, want %d", len(bs), batchCount)
	}
	for i, b := range bs {
		if b.BaseOffset != int64(i*batchRecords) || b.Count != batchRecords || b.LastOffset != b.BaseOffset+batchRecords-1 {
			t.Errorf("batch %d: offsets %d-%d count %d", i, b.BaseOffset, b.LastOffset, b.Count)
		}
		if !b.CRCOK || b.Invalid != "" || b.Codec != "none" || b.LeaderEpoch != 3 || b.ProducerID != -1 ||
			b.BaseTimestamp != int64(1_700_000_000_000+i) {
			t.Errorf("batch %d: %+v", i, b)
		}
	}

	end := bs[len(bs)-1].Position + int64(bs[len(bs)-1].Size)
	if st, _ := os.Stat(last); st.Size() <= end {
		t.Fatalf("the active segment should keep a preallocated zero tail: %d bytes, batches end at %d", st.Size(), end)
	}

	var out bytes.Buffer
	if err := Dump(dir, "table", &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, f := range files {
		if !strings.Contains(text, filepath.Base(f)+"\n") {
			t.Errorf("table has no heading for %s:\n%s", filepath.Base(f), text)
		}
	}
	rows := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasSuffix(line, " ok") {
			rows++
		}
	}
	if rows != batchCount || strings.Count(text, "POSITION") != len(files) {
		t.Errorf("want %d rows ending in CRC ok under %d headers:\n%s", batchCount, len(files), text)
	}
	// The first row of the first segment, column by column.
	first := strings.Fields(strings.Split(text, "\n")[2])
	want := []string{"0", "0", "5", "", "3", "2023-11-14T22:13:20.000Z", "2023-11-14T22:13:20.000Z", "-1", "-1", "-1", "none", "ok"}
	want[3] = first[3] // the size is batchtest's business
	if strings.Join(first, " ") != strings.Join(want, " ") {
		t.Errorf("first row %q, want %q", first, want)
	}

	// One file alone.
	if got := dumpJSON(t, last); len(got) == 0 || got[0].File != filepath.Base(last) {
		t.Errorf("dump of %s alone: %+v", last, got)
	}
}

// TestVerify checks a sound log, then a byte flipped inside one batch of
// the second segment: verify names that file, the batch's position and
// offset, and the CRC; dump shows the batch as BAD and goes on.
func TestVerify(t *testing.T) {
	dir := writeLog(t)
	var out bytes.Buffer
	if err := Verify(dir, "table", &out); err != nil {
		t.Fatalf("verify of a sound log: %v\n%s", err, out.String())
	}
	files, _ := Segments(dir)
	if !strings.Contains(out.String(), "ok: "+strconv.Itoa(len(files))+" segments, 20 batches") {
		t.Errorf("verify output:\n%s", out.String())
	}

	// Corrupt the second batch of the second segment, well inside its
	// records, where only the CRC can notice.
	seg := files[1]
	bs := dumpJSON(t, seg)
	victim := bs[1]
	f, err := os.OpenFile(seg, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	at := victim.Position + int64(victim.Size/2)
	one := []byte{0}
	f.ReadAt(one, at)
	one[0] ^= 0x40
	if _, err := f.WriteAt(one, at); err != nil {
		t.Fatal(err)
	}
	f.Close()

	out.Reset()
	err = Verify(dir, "table", &out)
	var p *Problem
	if !errors.As(err, &p) {
		t.Fatalf("verify: %v, want a *Problem", err)
	}
	if p.File != seg || p.Position != victim.Position || p.Offset != victim.BaseOffset || !strings.Contains(p.Reason, "crc") {
		t.Errorf("problem %+v, want %s at %d (offset %d), crc", p, seg, victim.Position, victim.BaseOffset)
	}
	if !strings.Contains(out.String(), "problem: "+p.Error()) {
		t.Errorf("table does not end with the problem:\n%s", out.String())
	}

	out.Reset()
	if err := Verify(dir, "json", &out); err == nil {
		t.Error("verify --format json of a corrupt log succeeded")
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Problem == nil || rep.Problem.Position != victim.Position || len(rep.Segments) != 2 || rep.Segments[1].Batches != 1 {
		t.Errorf("json report %+v", rep)
	}

	after := dumpJSON(t, dir)
	if len(after) != batchCount {
		t.Errorf("dump of the corrupt log shows %d batches, want all %d", len(after), batchCount)
	}
	for _, b := range after {
		if bad := b.BaseOffset == victim.BaseOffset; b.CRCOK == bad {
			t.Errorf("batch at %d: crc_ok %v", b.BaseOffset, b.CRCOK)
		}
	}
}

// TestVerifyStructure covers the problems that are not a batch's own: a
// missing segment, a batch out of sequence, a torn header at the end of a
// file, a length running past it, data after the zero tail.
func TestVerifyStructure(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, files []string)
		file    int // index, once broken, of the file the problem is in; -1 for the last
		want    string
	}{
		{"missing segment", func(t *testing.T, files []string) { must(t, os.Remove(files[1])) }, 1, "but the previous one ends at"},
		{"misnamed segment", func(t *testing.T, files []string) {
			must(t, os.Rename(files[0], filepath.Join(filepath.Dir(files[0]), "00000000000000000001.log")))
		}, 0, "batch has offset 0, expected 1"},
		{"torn header", func(t *testing.T, files []string) { appendBytes(t, files[0], []byte{0, 0, 0, 0, 0, 0, 0, 1}) }, 0, "partial batch header"},
		{"runs past the end", func(t *testing.T, files []string) {
			h := make([]byte, batch.HeaderSize)
			h[11], h[16] = 200, 2 // batchLength 200, magic 2
			appendBytes(t, files[0], h)
		}, 0, "runs past the end of the file"},
		{"data after zeros", func(t *testing.T, files []string) {
			f, err := os.OpenFile(files[len(files)-1], os.O_RDWR, 0)
			must(t, err)
			st, _ := f.Stat()
			_, err = f.WriteAt([]byte{7}, st.Size()-1)
			must(t, err)
			f.Close()
		}, -1, "data follows at byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeLog(t)
			files, _ := Segments(dir)
			tt.corrupt(t, files)
			after, _ := Segments(dir)
			want := tt.file
			if want < 0 {
				want = len(after) - 1
			}
			err := Verify(dir, "table", io.Discard)
			var p *Problem
			if !errors.As(err, &p) || p.File != after[want] || !strings.Contains(p.Reason, tt.want) {
				t.Fatalf("verify: %v; want a problem in %s: %s", err, filepath.Base(after[want]), tt.want)
			}
		})
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write(b)
	must(t, err)
	must(t, f.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
