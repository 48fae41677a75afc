package tune

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Print writes checks as text (one block per check) or, with format
// "json", as one JSON array.
func Print(w io.Writer, checks []Check, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(checks)
	case "", "table", "text":
	default:
		return fmt.Errorf("unknown format %q (want table or json)", format)
	}
	warn, fixable := 0, 0
	for _, c := range checks {
		fix := ""
		switch {
		case c.Applied:
			var ws []string
			for _, x := range c.Fix {
				ws = append(ws, fmt.Sprintf("%s=%s (was %s)", x.Path, x.Value, x.Was))
			}
			fix = " [applied: " + strings.Join(ws, ", ") + "]"
		case c.Status == Warn && c.Fixable:
			fix = " [--apply fixes]"
			fixable++
		case c.Status == Warn:
			fix = " [manual]"
		}
		if c.Status == Warn && !c.Applied {
			warn++
		}
		fmt.Fprintf(w, "%-4s  %s%s\n", c.Status, c.Name, fix)
		fmt.Fprintf(w, "      found:     %s\n", c.Found)
		fmt.Fprintf(w, "      recommend: %s\n", c.Recommend)
		fmt.Fprintf(w, "      why:       %s\n", c.Why)
		if c.Error != "" {
			fmt.Fprintf(w, "      error:     %s\n", c.Error)
		}
	}
	_, err := fmt.Fprintf(w, "%d checks, %d to change, %d of them fixable with --apply (not persistent: see deploy/99-sluice.conf)\n",
		len(checks), warn, fixable)
	return err
}

// PrintProfile writes a disk profile as text or, with format "json", as the
// JSON stored in the data dir.
func PrintProfile(w io.Writer, p DiskProfile, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "", "table", "text":
	default:
		return fmt.Errorf("unknown format %q (want table or json)", format)
	}
	direct := "O_DIRECT"
	if !p.DirectIO {
		direct = "buffered (the filesystem refused O_DIRECT)"
	}
	_, err := fmt.Fprintf(w, `dir:                %s (%s)
sequential write:   %.0f MB/s (%d x %d KiB in %.0f ms, then fdatasync)
write + fdatasync:  p50 %.0f us, p99 %.0f us, max %.0f us (%d x %d KiB)
stored in:          %s/%s
note:               %s
`, p.Dir, direct, p.WriteBytesPerSec/1e6, p.WriteBytes/int64(p.WriteBlockBytes), p.WriteBlockBytes>>10, p.WriteDurationMs,
		p.SyncP50Us, p.SyncP99Us, p.SyncMaxUs, p.Syncs, p.SyncBlockBytes>>10, p.Dir, ProfileFile, p.Note)
	return err
}
