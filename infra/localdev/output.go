package localdev

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// syncWriter serializes writes to one destination shared by many processes.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// prefixWriter writes each complete line as "<label> | line". Partial lines
// wait for their end (or Flush).
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
	muted  bool
}

func newPrefixWriter(w io.Writer, label string) *prefixWriter {
	return &prefixWriter{w: w, prefix: []byte(fmt.Sprintf("%-22s | ", label))}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.muted {
		return len(b), nil
	}
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := make([]byte, 0, len(p.prefix)+i+1)
		line = append(line, p.prefix...)
		line = append(line, p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), nil //nolint:nilerr // logging must never fail the process
		}
	}
	return len(b), nil
}

// Mute discards everything written from now on.
func (p *prefixWriter) Mute() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.muted = true
	p.buf = nil
}

// Flush writes a pending partial line.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		line := append(append(append([]byte{}, p.prefix...), p.buf...), '\n')
		p.buf = nil
		_, _ = p.w.Write(line)
	}
}
