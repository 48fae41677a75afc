//go:build !invariants

package group

func (c *Coordinator) checkInvariants() {}
