package net

// Rotated is a Conn on which the party plays the role of party (ID - r) mod N: the
// logical peer q is the physical party (q + r) mod N. A protocol whose sharings are
// invariant under a cyclic relabelling of the parties (mpc.Spec.Rotatable) runs on it
// unchanged; concurrent instances with different r load each directed link with a
// different role's traffic.
type Rotated struct {
	Conn
	r int
}

// Rotate returns c with the roles rotated by r (r mod N; 0 returns c itself).
func Rotate(c Conn, r int) Conn {
	n := c.N()
	r = ((r % n) + n) % n
	if r == 0 {
		return c
	}
	return &Rotated{Conn: c, r: r}
}

// Rotation is r.
func (c *Rotated) Rotation() int { return c.r }

// ID is the role: (physical ID - r) mod N.
func (c *Rotated) ID() int { return (c.Conn.ID() - c.r + c.N()) % c.N() }

// Physical is the physical party of logical party q.
func (c *Rotated) Physical(q int) int { return (q + c.r) % c.N() }

// Send sends to logical party to.
func (c *Rotated) Send(to int, msg []byte) error { return c.Conn.Send(c.Physical(to), msg) }

// Recv receives from logical party from.
func (c *Rotated) Recv(from int) ([]byte, error) { return c.Conn.Recv(c.Physical(from)) }
