module sluice

go 1.26.8

require (
	github.com/klauspost/crc32 v1.3.0
	github.com/twmb/franz-go/pkg/kmsg v1.15.0
)

require golang.org/x/sys v0.49.0 // indirect
