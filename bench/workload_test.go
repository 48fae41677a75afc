package bench

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestWorkloadFiles: every workload shipped loads, validates, and sets
// the fields its name promises.
func TestWorkloadFiles(t *testing.T) {
	files, _ := filepath.Glob("workloads/*.yaml")
	if len(files) < 8 {
		t.Fatalf("found %d workload files", len(files))
	}
	names := map[string]bool{}
	for _, f := range files {
		w, err := LoadWorkload(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if names[w.Name] {
			t.Errorf("%s: name %q used twice", f, w.Name)
		}
		names[w.Name] = true
	}
	w, _ := LoadWorkload("workloads/many-producers.yaml")
	if w.Producers != 50 {
		t.Errorf("many-producers: %d producers", w.Producers)
	}
	w, _ = LoadWorkload("workloads/single-node-acks-all-flush.yaml")
	if w.TopicConfigs["flush.messages"] != "1" || w.Acks != "all" || w.MessageSize != 1024 {
		t.Errorf("acks=all flush: %+v", w)
	}
	w, _ = LoadWorkload("workloads/soak.yaml")
	if w.Duration < 2*w.SoakWindow {
		t.Errorf("soak: duration %v does not cover two %v windows", w.Duration, w.SoakWindow)
	}
}

func TestWorkloadStrict(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.yaml")
	os.WriteFile(path, []byte("name: x\nmesage_size: 10\n"), 0o644)
	if _, err := LoadWorkload(path); err == nil || !strings.Contains(err.Error(), "mesage_size") {
		t.Errorf("misspelt field: %v", err)
	}
	os.WriteFile(path, []byte("name: x\nmessage_size: 10\nacks: 2\n"), 0o644)
	_, err := LoadWorkload(path)
	if err == nil || !strings.Contains(err.Error(), "message_size 10") || !strings.Contains(err.Error(), `acks "2"`) {
		t.Errorf("out-of-bounds fields: %v", err)
	}
	os.WriteFile(path, nil, 0o644)
	if w, err := LoadWorkload(path); err != nil || !reflect.DeepEqual(w, DefaultWorkload()) {
		t.Errorf("empty file: %v, %+v", err, w)
	}
}

// TestWorkloadSet: flags override fields with the file's syntax, and a
// map given replaces the file's.
func TestWorkloadSet(t *testing.T) {
	w, err := LoadWorkload("workloads/single-node-acks-all-flush.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{
		{"duration", "90s"}, {"rate", "12500.5"}, {"acks", "1"}, {"idempotent", "false"},
		{"message-size", "4096"}, {"topic_configs", "{retention.ms: 1000}"}, {"name", "acks1-r25"},
	} {
		if err := w.Set(kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%s, %s): %v", kv[0], kv[1], err)
		}
	}
	if w.Duration != 90*time.Second || w.Rate != 12500.5 || w.Acks != "1" || w.Idempotent || w.MessageSize != 4096 ||
		!reflect.DeepEqual(w.TopicConfigs, map[string]string{"retention.ms": "1000"}) || w.Name != "acks1-r25" {
		t.Fatalf("after Set: %+v", w)
	}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := w.Set("topic-configs", ""); err != nil || len(w.TopicConfigs) != 0 {
		t.Fatalf("clearing topic_configs: %v, %v", err, w.TopicConfigs)
	}
	if err := w.Set("nope", "1"); err == nil {
		t.Error("Set of an unknown field succeeded")
	}
	before := w.Duration
	if err := w.Set("duration", "soon"); err == nil || w.Duration != before {
		t.Errorf("bad duration: err %v, duration now %v", err, w.Duration)
	}
	for _, f := range Fields() {
		if f.Help == "" || f.Name == "" || strings.Contains(f.Flag, "_") {
			t.Errorf("field %+v: needs a yaml name and help", f)
		}
	}
}
