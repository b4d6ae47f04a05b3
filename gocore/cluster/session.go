package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/metrics"
	"sort"
	"sync"
	"time"

	"github.com/qmpc/qmpc/gocore/errs"
	"github.com/qmpc/qmpc/gocore/net/tlsnet"
)

// A session (one formed mesh) serves requests on lanes (mux.go): lane 0 carries the
// computation's Start and the leader's control messages; every other lane runs its own
// instance of the computation (Computation.Lane) and serves one request at a time. The
// leader gives each request to a lane that has nothing to do, opening a new lane while
// there are fewer than Config.Sessions(), and refuses it with a qmpc:busy error when all
// of them serve requests. Lanes stay open for the next requests (with their offline phase
// run while idle); a lane whose request fails, or whose client disconnects during its
// request, ends on every party without disturbing the others.
//
// Control messages on lane 0 (leader -> every other party, in the leader's order):
//
//	{"op":"lane","lane":L}               open lane L (every party calls Computation.Lane)
//	{"op":"run","request":R,"lane":L}    party -> leader {"op":"ack","error":""}, then
//	{"op":"go"} or {"op":"skip","error"}  the lane runs R, or nobody does
//	{"op":"idle","lane":L}               the lane runs its Idler work next

// request is one client request at one party.
type request struct {
	id      string
	payload []byte
	// link is the client's connection to this party and ctx the party's (ClientConn).
	link   *tlsnet.Link
	ctx    context.Context
	result chan result   // buffered, receives exactly one result (finish)
	gone   chan struct{} // closed when the client disconnects
	once   sync.Once

	mu      sync.Mutex
	running *lane // the lane evaluating it, while it does
}

type result struct {
	out   []byte
	stats []byte
	err   error
}

func newRequest(id string, payload []byte) *request {
	return &request{id: id, payload: payload, result: make(chan result, 1), gone: make(chan struct{})}
}

// finish delivers the request's result; later calls do nothing.
func (r *request) finish(res result) { r.once.Do(func() { r.result <- res }) }

func (r *request) setRunning(ln *lane) {
	r.mu.Lock()
	r.running = ln
	r.mu.Unlock()
}

// clientLeft ends the lane evaluating r, if any: nobody waits for its result.
func (r *request) clientLeft() {
	r.mu.Lock()
	ln := r.running
	r.mu.Unlock()
	if ln != nil {
		ln.Abort(fmt.Sprintf("the client disconnected during request %s", r.id))
	}
}

// worker runs one lane's jobs (requests, and idle work: nil) in order on this party.
type worker struct {
	id   uint32
	conn *lane

	mu     sync.Mutex
	queue  []*request
	closed bool
	err    error // why the lane ended
	wake   chan struct{}
}

// push queues a job; false if the lane has ended.
func (w *worker) push(r *request) bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	w.queue = append(w.queue, r)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// ended returns why the lane ended, or nil while it runs.
func (w *worker) ended() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed && w.err == nil {
		return errs.New(errs.Party, "session %d closed", w.id)
	}
	return w.err
}

// laneEvent is a worker's report to the leader's control loop.
type laneEvent struct {
	lane      uint32
	ready     bool // the lane's computation is made
	served    bool // a request finished (else idle work)
	needsIdle bool
	err       error // the lane ended
}

// lanes is one session's lane state at one party (used by its control loop).
type lanes struct {
	p      *Party
	mx     *mux
	ctl    *lane
	comp   Computation
	ctx    context.Context // ends the workers
	events chan laneEvent
	wg     sync.WaitGroup

	workers map[uint32]*worker
	state   map[uint32]*laneState // leader
	next    uint32                // leader: the next lane id
}

type laneState struct {
	jobs    int // queued or running, requests and idle work
	serving int // requests queued or running
}

// session runs the computation's start and then serves requests until a link fails.
func (p *Party) session(ctx context.Context, mesh *tlsnet.Mesh, sid string) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-sctx.Done()
		if ctx.Err() != nil { // shutting down: stop the running computations now
			mesh.Abort("party shutting down")
		}
	}()
	for j := range p.cfg.N() {
		if l := mesh.Link(j); l != nil {
			go func() {
				select {
				case <-l.Done():
					cancel()
				case <-sctx.Done():
				}
			}()
		}
	}
	mx := newMux(mesh, time.Duration(p.cfg.Timeouts.Step))
	ls := &lanes{p: p, mx: mx, ctx: sctx, events: make(chan laneEvent, 16), workers: map[uint32]*worker{},
		state: map[uint32]*laneState{}, next: 1}
	defer func() {
		cancel()
		mx.close(errs.New(errs.Party, "session %s ended", sid))
		ls.wg.Wait() // every worker has answered its requests
	}()
	ctl, err := mx.open(0)
	if err != nil {
		return err
	}
	ls.ctl = ctl
	comp, err := p.opt.Computation(p.id)
	if err != nil {
		return err
	}
	ls.comp = comp
	start := time.Now()
	if err := comp.Start(ctl); err != nil {
		return fmt.Errorf("session start: %w", err)
	}
	info, err := comp.Info()
	if err != nil {
		return err
	}
	p.log.Info("session ready", "session", sid, "setup_seconds", time.Since(start).Seconds(), "bytes_sent", ctl.Stats().BytesSent,
		"max_sessions", p.cfg.Sessions())
	p.setUp(info)
	if p.id == leader {
		err = ls.lead()
	} else {
		err = ls.follow()
	}
	if e := mesh.Err(); e != nil && (err == nil || errs.KindOf(err) == errs.Cancelled) {
		err = e
	}
	return err
}

// open starts lane id's worker on this party.
func (ls *lanes) open(id uint32) (*worker, error) {
	conn, err := ls.mx.open(id)
	if err != nil {
		return nil, err
	}
	w := &worker{id: id, conn: conn, wake: make(chan struct{}, 1)}
	ls.workers[id] = w
	ls.wg.Add(1)
	go ls.work(w)
	return w, nil
}

// work makes lane w's computation and runs its jobs until the lane or the session ends.
func (ls *lanes) work(w *worker) {
	defer ls.wg.Done()
	p := ls.p
	var lc Lane
	fail := func(err error) {
		w.conn.Abort(plainMessage(err))
		w.mu.Lock()
		w.closed, w.err = true, err
		left := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, r := range left {
			if r != nil {
				r.finish(result{err: errs.New(errs.Party, "party %d: session %d ended before request %s: %s", p.id, w.id, r.id, plainMessage(err))})
			}
		}
		ls.report(laneEvent{lane: w.id, err: err})
	}
	defer func() {
		if lc != nil {
			lc.Close()
		}
		w.conn.Close()
		w.mu.Lock()
		w.closed = true
		left := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, r := range left {
			if r != nil {
				r.finish(result{err: errs.New(errs.Party, "party %d: the session ended before request %s", p.id, r.id)})
			}
		}
	}()
	var err error
	if lc, err = ls.newLane(w); err != nil {
		fail(fmt.Errorf("party %d: starting session %d: %w", p.id, w.id, err))
		return
	}
	ls.report(laneEvent{lane: w.id, ready: true, needsIdle: needsIdle(lc)})
	for {
		w.mu.Lock()
		var r *request
		has := len(w.queue) > 0
		if has {
			r = w.queue[0]
			w.queue = w.queue[1:]
		}
		w.mu.Unlock()
		if !has {
			select {
			case <-w.wake:
				continue
			case <-w.conn.Done(): // another party ended the lane while this one idles
				fail(w.conn.Err())
				return
			case <-ls.ctx.Done():
				return
			}
		}
		if r == nil {
			err = p.runIdle(lc)
		} else {
			err = p.run(w, lc, r)
		}
		if err != nil {
			fail(err)
			return
		}
		ls.report(laneEvent{lane: w.id, served: r != nil, needsIdle: needsIdle(lc)})
	}
}

// newLane makes the lane's computation, recovering a panic as an error.
func (ls *lanes) newLane(w *worker) (lc Lane, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errs.New(errs.Internal, "panic: %v", r)
		}
	}()
	return ls.comp.Lane(w.conn)
}

func needsIdle(lc Lane) bool {
	id, ok := lc.(Idler)
	return ok && id.NeedsIdle()
}

// report tells the leader's control loop (followers have none and drop it).
func (ls *lanes) report(ev laneEvent) {
	if ls.p.id != leader {
		return
	}
	select {
	case ls.events <- ev:
	case <-ls.ctx.Done():
	}
}

func (ls *lanes) sendCtl(m message) error {
	for j := range ls.p.cfg.N() {
		if j != ls.p.id {
			if err := ls.ctl.Send(j, encode(m)); err != nil {
				return err
			}
		}
	}
	return ls.ctl.Flush()
}

// lead is the leader's control loop: it gives requests to lanes and schedules idle work.
func (ls *lanes) lead() error {
	p := ls.p
	// One lane from the start, so that its offline phase runs before the first request.
	if err := ls.openLane(); err != nil {
		return err
	}
	for {
		select {
		case req := <-p.queue:
			if err := ls.dispatch(req); err != nil {
				return err
			}
		case ev := <-ls.events:
			if err := ls.event(ev); err != nil {
				return err
			}
		case <-ls.mx.done:
			return ls.mx.failed()
		case <-ls.ctx.Done():
			return errs.New(errs.Cancelled, "session closed")
		}
	}
}

// openLane opens a new lane on every party (leader).
func (ls *lanes) openLane() error {
	id := ls.next
	ls.next++
	if err := ls.sendCtl(message{Op: "lane", Lane: id, Party: ls.p.id}); err != nil {
		return err
	}
	if _, err := ls.open(id); err != nil {
		return err
	}
	ls.state[id] = &laneState{}
	return nil
}

// pick returns the lane for the next request (leader): one with nothing to do, else a new
// one while fewer than the bound are open, else one that runs only idle work; ok is false
// when every lane serves a request.
func (ls *lanes) pick() (uint32, bool, error) {
	ids := make([]uint32, 0, len(ls.state))
	for id := range ls.state {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	for _, id := range ids {
		if ls.state[id].jobs == 0 {
			return id, true, nil
		}
	}
	if len(ls.state) < ls.p.cfg.Sessions() {
		if err := ls.openLane(); err != nil {
			return 0, false, err
		}
		return ls.next - 1, true, nil
	}
	for _, id := range ids {
		if ls.state[id].serving == 0 {
			return id, true, nil
		}
	}
	return 0, false, nil
}

// dispatch agrees on req with the other parties and gives it to a lane (leader).
func (ls *lanes) dispatch(req *request) error {
	p := ls.p
	select {
	case <-req.gone:
		return nil
	default:
	}
	if err := p.overMemory(); err != nil {
		p.log.Warn("request refused: memory bound", "request", req.id, "err", plainMessage(err))
		req.finish(result{err: err})
		return nil
	}
	id, ok, err := ls.pick()
	if err != nil {
		req.finish(result{err: err})
		return err
	}
	if !ok {
		p.log.Warn("request refused: every session is busy", "request", req.id, "max_sessions", p.cfg.Sessions())
		req.finish(result{err: errs.New(errs.Busy, "party %d: the cluster is serving its maximum of %d concurrent sessions (max_sessions in the cluster config); try again when one ends",
			p.id, p.cfg.Sessions())})
		return nil
	}
	if err := ls.sendCtl(message{Op: "run", Request: req.id, Lane: id, Party: p.id}); err != nil {
		req.finish(result{err: err})
		return err
	}
	var missing []string
	busy := false // a party refused for its memory bound
	step := time.Duration(p.cfg.Timeouts.Step)
	for j := range p.cfg.N() {
		if j == p.id {
			continue
		}
		// A party waits at most one step for the client's request (claim), then answers.
		b, err := ls.ctl.recv(ls.ctx, j, 2*step)
		if err != nil {
			req.finish(result{err: fmt.Errorf("agreeing on request: %w", err)})
			return err
		}
		m, err := decode(b, tlsnet.PeerName(j))
		if err != nil {
			req.finish(result{err: err})
			return err
		}
		if m.Error != "" {
			missing = append(missing, m.Error)
			busy = busy || m.Kind == string(errs.Busy)
		}
	}
	w := ls.workers[id]
	if len(missing) == 0 && w.ended() != nil {
		missing = append(missing, plainMessage(w.ended()))
	}
	if len(missing) > 0 {
		why := fmt.Sprint(missing)
		if err := ls.sendCtl(message{Op: "skip", Error: why}); err != nil {
			req.finish(result{err: err})
			return err
		}
		kind := errs.Party
		if busy {
			kind = errs.Busy
		}
		req.finish(result{err: errs.New(kind, "request %s skipped: %s", req.id, why)})
		return nil
	}
	// The job is queued here before the others start it: a lane that one of them ends at
	// once still fails this request, not the next.
	if !w.push(req) {
		req.finish(result{err: errs.New(errs.Party, "party %d: %s", p.id, plainMessage(w.ended()))})
	} else {
		st := ls.state[id]
		st.jobs++
		st.serving++
	}
	return ls.sendCtl(message{Op: "go"})
}

// event updates a lane's state after its worker reports, and schedules idle work (leader).
func (ls *lanes) event(ev laneEvent) error {
	st := ls.state[ev.lane]
	if st == nil {
		return nil
	}
	if ev.err != nil {
		delete(ls.state, ev.lane)
		delete(ls.workers, ev.lane)
		ls.p.log.Warn("session lane ended", "lane", ev.lane, "err", plainMessage(ev.err))
		return nil
	}
	if !ev.ready {
		st.jobs--
		if ev.served {
			st.serving--
		}
	}
	if st.jobs == 0 && ev.needsIdle && len(ls.p.queue) == 0 {
		if err := ls.sendCtl(message{Op: "idle", Lane: ev.lane, Party: ls.p.id}); err != nil {
			return err
		}
		if ls.workers[ev.lane].push(nil) {
			st.jobs++
		}
	}
	return nil
}

// follow is a follower's control loop: it runs what the leader orders.
func (ls *lanes) follow() error {
	p := ls.p
	from := tlsnet.PeerName(leader)
	for {
		for id, w := range ls.workers {
			if w.ended() != nil {
				delete(ls.workers, id)
			}
		}
		b, err := ls.ctl.recv(ls.ctx, leader, 0) // idle: the leader's pings keep the link up
		if err != nil {
			return err
		}
		m, err := decode(b, from)
		if err != nil {
			return err
		}
		switch m.Op {
		case "lane":
			if _, dup := ls.workers[m.Lane]; dup {
				return errs.New(errs.Party, "%s opened session %d twice", from, m.Lane)
			}
			if _, err := ls.open(m.Lane); err != nil {
				return err
			}
			continue
		case "idle":
			if w := ls.workers[m.Lane]; w != nil {
				w.push(nil)
			}
			continue
		case "run":
		default:
			return errs.New(errs.Party, "%s sent %q, expected run, lane or idle", from, m.Op)
		}
		req, werr := p.claim(ls.ctx, m.Request)
		w := ls.workers[m.Lane]
		if werr == nil && w == nil {
			werr = errs.New(errs.Party, "party %d has no session %d", p.id, m.Lane)
		} else if werr == nil && w.ended() != nil {
			werr = errs.New(errs.Party, "party %d: %s", p.id, plainMessage(w.ended()))
		}
		if werr == nil {
			werr = p.overMemory()
		}
		ack := message{Op: "ack", Party: p.id}
		if werr != nil {
			ack.Error, ack.Kind = plainMessage(werr), string(errs.KindOf(werr))
		}
		ls.ctl.Send(leader, encode(ack))
		b, err = ls.ctl.recv(ls.ctx, leader, 0)
		if err != nil {
			if req != nil {
				req.finish(result{err: err})
			}
			return err
		}
		if m, err = decode(b, from); err != nil {
			return err
		}
		if m.Op != "go" {
			if req != nil {
				req.finish(result{err: errs.New(errs.Party, "request skipped: %s", m.Error)})
			}
			continue
		}
		if req == nil || w == nil {
			return errs.New(errs.Internal, "leader runs a request this party does not have")
		}
		if !w.push(req) {
			req.finish(result{err: errs.New(errs.Party, "party %d: %s", p.id, plainMessage(w.ended()))})
		}
	}
}

func (p *Party) runIdle(lc Lane) error {
	id, ok := lc.(Idler)
	if !ok {
		return errs.New(errs.Internal, "party %d: the leader asked for idle work this computation does not have", p.id)
	}
	start := time.Now()
	if err := id.Idle(); err != nil {
		return fmt.Errorf("party %d: between requests: %w", p.id, err)
	}
	p.log.Info("idle work done", "seconds", time.Since(start).Seconds())
	return nil
}

// run evaluates req on lane w; a failure is returned to the client and ends the lane.
func (p *Party) run(w *worker, lc Lane, req *request) (err error) {
	start := time.Now()
	before := w.conn.Stats()
	req.setRunning(w.conn)
	defer req.setRunning(nil)
	select {
	case <-req.gone: // this party's client link is gone: the lane ends (clientLeft)
		err := errs.New(errs.Party, "party %d: the client disconnected before request %s", p.id, req.id)
		req.finish(result{err: err})
		return err
	default:
	}
	defer func() {
		if r := recover(); r != nil {
			err = errs.New(errs.Internal, "party %d: panic while running request %s: %v", p.id, req.id, r)
			req.finish(result{err: err})
		}
	}()
	p.log.Info("inference started", "request", req.id, "lane", w.id)
	var out []byte
	var stats json.RawMessage
	if cl, ok := lc.(ClientLane); ok && req.link != nil {
		cc := &clientConn{p: p, req: req, lane: w.conn}
		out, stats, err = cl.RunClient(req.payload, cc)
	} else {
		out, stats, err = lc.Run(req.payload)
	}
	if err != nil {
		p.log.Error("inference failed", "request", req.id, "lane", w.id, "err", plainMessage(err))
		req.finish(result{err: err})
		return fmt.Errorf("party %d: %w", p.id, err)
	}
	p.stMu.Lock()
	p.served++
	p.stMu.Unlock()
	p.log.Info("inference done", "request", req.id, "lane", w.id, "seconds", time.Since(start).Seconds(),
		"bytes_sent", w.conn.Stats().Sub(before).BytesSent)
	req.finish(result{out: out, stats: stats})
	return nil
}

// overMemory returns a qmpc:busy error while this party's Go heap holds more than
// Config.MaxMemoryMB (nil without a bound): a party over it refuses new requests, and the
// running ones go on.
func (p *Party) overMemory() error {
	limit := int64(p.cfg.MaxMemoryMB) << 20
	if limit <= 0 {
		return nil
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return nil
	}
	if used := int64(sample[0].Value.Uint64()); used > limit {
		return errs.New(errs.Busy, "party %d holds %d MB, over its bound of %d MB (max_memory_mb in the cluster config); try again when a session ends",
			p.id, used>>20, p.cfg.MaxMemoryMB)
	}
	return nil
}

// clientConn is a running request's channel to its client: a round message and its
// payload to the client, and the client's round message and payload back, on the
// client's link (which serveClient does not read while the request runs).
//
//	party -> client: {"op":"round","request":R} payload
//	client -> party: {"op":"round","request":R} payload, or {"op":"error",...} to abort
type clientConn struct {
	p    *Party
	req  *request
	lane *lane
}

func (c *clientConn) RoundTrip(msg []byte) ([]byte, error) {
	l, id := c.req.link, c.req.id
	if err := l.SendMany([][]byte{encode(message{Op: "round", Request: id, Party: c.p.id}), msg}); err != nil {
		return nil, err
	}
	// The wait ends with the client's answer, its link, the lane or the party.
	ctx, cancel := context.WithCancel(c.req.ctx)
	defer cancel()
	go func() {
		select {
		case <-c.lane.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	b, err := l.Recv(ctx, 0)
	if err != nil {
		if e := c.lane.Err(); e != nil {
			return nil, e
		}
		return nil, err
	}
	m, err := decode(b, "the client")
	if err != nil {
		return nil, err
	}
	switch {
	case m.Op == "error":
		return nil, errs.New(errs.Party, "the client aborted request %s: %s", id, m.Error)
	case m.Op != "round" || m.Request != id:
		return nil, errs.New(errs.Party, "the client sent %q for request %q during request %s", m.Op, m.Request, id)
	}
	return l.Recv(ctx, 0)
}
