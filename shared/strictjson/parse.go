package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// Parse checks body (see the package documentation) and returns its object
// as a tree: objects as map[string]any, arrays as []any, numbers as
// json.Number (as written), strings, bools and nil. Every error is an *Error.
//
// The checks run in Kind order, so a body too large is refused before it is
// read, and a body that is not JSON at all is reported as such before a
// repeated member name or a nesting bound is.
func Parse(body []byte, o Options) (map[string]any, error) {
	if o.MaxBytes > 0 && len(body) > o.MaxBytes {
		return nil, &Error{Kind: TooLarge, Limit: o.MaxBytes}
	}
	if !utf8.Valid(body) {
		return nil, &Error{Kind: InvalidUTF8, Offset: firstInvalidUTF8(body)}
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, &Error{Kind: Empty}
	case trimmed[0] != '{':
		return nil, &Error{Kind: NotObject}
	}
	if !json.Valid(body) {
		return nil, locateSyntax(body)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := parser{dec: dec, max: o.maxDepth()}
	tok, err := dec.Token()
	if err != nil {
		return nil, &Error{Kind: Syntax, Offset: dec.InputOffset()}
	}
	v, perr := p.value(tok, 1, "")
	if perr != nil {
		return nil, perr
	}
	return v.(map[string]any), nil
}

// Canonical returns the canonical encoding of a Parse tree: object members
// sorted by name, no insignificant whitespace, numbers as written, no HTML
// escaping. Two bodies that differ only in layout and member order have the
// same canonical encoding, so it identifies a payload for idempotency.
func Canonical(tree any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// firstInvalidUTF8 returns the offset of the first byte that does not start a
// valid UTF-8 sequence.
func firstInvalidUTF8(b []byte) int64 {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return int64(i)
		}
		i += n
	}
	return int64(len(b))
}

// locateSyntax says why a body that json.Valid refused is not one JSON
// object. The offset is encoding/json's (json.SyntaxError.Offset: the bytes
// read when the scanner stopped); the kind comes from walking the tokens of
// the first value: running out of input inside it (io.ErrUnexpectedEOF or
// io.EOF) is Truncated, a *json.SyntaxError inside it is Syntax, and a
// complete first value means the problem follows it (TrailingData).
func locateSyntax(body []byte) *Error {
	off := int64(len(body))
	var syn *json.SyntaxError
	if err := json.Unmarshal(body, new(json.RawMessage)); errors.As(err, &syn) {
		off = syn.Offset
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	depth := 0
	for {
		tok, err := dec.Token()
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return &Error{Kind: Truncated, Offset: int64(len(body))}
		case err != nil:
			return &Error{Kind: Syntax, Offset: off}
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return &Error{Kind: TrailingData, Offset: off}
		}
	}
}

// parser builds the tree of a body json.Valid accepted.
type parser struct {
	dec *json.Decoder
	max int
}

// value parses the value that starts with tok, at nesting level depth.
func (p *parser) value(tok json.Token, depth int, path string) (any, *Error) {
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth > p.max {
		return nil, &Error{Kind: TooDeep, Path: path, Limit: p.max}
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for p.dec.More() {
			kt, err := p.dec.Token()
			if err != nil {
				return nil, p.unexpected()
			}
			name, _ := kt.(string)
			if _, dup := obj[name]; dup {
				return nil, &Error{Kind: DuplicateMember, Path: join(path, name), Name: name}
			}
			vt, err := p.dec.Token()
			if err != nil {
				return nil, p.unexpected()
			}
			v, perr := p.value(vt, depth+1, join(path, name))
			if perr != nil {
				return nil, perr
			}
			obj[name] = v
		}
		if _, err := p.dec.Token(); err != nil { // '}'
			return nil, p.unexpected()
		}
		return obj, nil
	case '[':
		arr := []any{}
		for i := 0; p.dec.More(); i++ {
			vt, err := p.dec.Token()
			if err != nil {
				return nil, p.unexpected()
			}
			v, perr := p.value(vt, depth+1, index(path, i))
			if perr != nil {
				return nil, perr
			}
			arr = append(arr, v)
		}
		if _, err := p.dec.Token(); err != nil { // ']'
			return nil, p.unexpected()
		}
		return arr, nil
	}
	return nil, p.unexpected()
}

// unexpected reports a token error in a body json.Valid accepted, which
// cannot happen unless the two disagree.
func (p *parser) unexpected() *Error {
	return &Error{Kind: Syntax, Offset: p.dec.InputOffset()}
}
