//go:build invariants

package group

// checkInvariants verifies the whole coordinator after every call when
// built with the invariants tag; it costs a pass over every group.
func (c *Coordinator) checkInvariants() {
	if err := c.verify(); err != nil {
		panic(err)
	}
}
