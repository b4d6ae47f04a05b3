package net

import "testing"

// TestRotate: on Rotate(c, r) party q plays role (q - r) mod n, and a message to logical
// party j reaches physical party (j + r) mod n, which receives it from the sender's role.
func TestRotate(t *testing.T) {
	for _, tc := range []struct{ n, r int }{{3, 0}, {3, 1}, {3, 2}, {3, 4}, {3, -1}, {2, 1}} {
		pipes := NewPipes(tc.n)
		conns := make([]Conn, tc.n)
		for q := range conns {
			conns[q] = Rotate(pipes[q], tc.r)
		}
		rr := ((tc.r % tc.n) + tc.n) % tc.n
		for q, c := range conns {
			if want := (q - rr + tc.n) % tc.n; c.ID() != want {
				t.Fatalf("n %d r %d: physical %d plays %d, want %d", tc.n, tc.r, q, c.ID(), want)
			}
		}
		// Every role sends its id to every other role.
		for _, c := range conns {
			for j := range tc.n {
				if j != c.ID() {
					if err := c.Send(j, []byte{byte(c.ID())}); err != nil {
						t.Fatal(err)
					}
				}
			}
			c.Flush()
		}
		for _, c := range conns {
			for j := range tc.n {
				if j == c.ID() {
					continue
				}
				m, err := c.Recv(j)
				if err != nil {
					t.Fatal(err)
				}
				if int(m[0]) != j {
					t.Errorf("n %d r %d: role %d received role %d's message from role %d", tc.n, tc.r, c.ID(), m[0], j)
				}
			}
		}
		for _, c := range pipes {
			c.Close()
		}
	}
}
