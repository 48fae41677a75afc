// Package tune checks, and on request changes, the host settings that matter
// to a Sluice broker (`sluice tune`), and measures the data directory's disk
// (`sluice tune disk`).
//
// It owns the checks: what each reads, what it recommends and why, and the
// sysfs/procfs writes that --apply may make. Every read and write goes
// through a Host rooted at a directory ("/" for the real machine, a fake
// /proc and /sys tree in tests), so the checks are deterministic.
//
// It must not: remount a filesystem, reboot, load modules, touch anything
// outside /proc/sys and /sys, or write a value it cannot report the previous
// value of. Every write it makes is reversible by writing the "was" value it
// prints back to the same file; none survives a reboot (deploy/99-sluice.conf
// and the systemd unit are the persistent form).
//
// The broker does not read disk-profile.json yet; it is stored for the day it
// sizes its write batches from it.
package tune
