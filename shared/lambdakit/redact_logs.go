package lambdakit

import (
	"context"
	"log/slog"
	"strings"
)

// Redacted replaces the value of a log attribute whose key names personal
// data or a secret.
const Redacted = "[redacted]"

// personalKeys are normalised keys (see normaliseKey) whose values are always
// redacted: personal data of patients and staff, message contents and
// recipients, and credentials.
var personalKeys = map[string]struct{}{
	"name": {}, "firstname": {}, "lastname": {}, "fullname": {}, "givenname": {},
	"familyname": {}, "displayname": {}, "patientname": {}, "username": {},
	"phone": {}, "phonenumber": {}, "mobile": {}, "tel": {}, "telephone": {},
	"email": {}, "emailaddress": {},
	"nationalid": {}, "citizenid": {}, "idcard": {}, "idcardnumber": {}, "passport": {}, "passportnumber": {},
	"dateofbirth": {}, "dob": {}, "birthdate": {}, "birthday": {},
	"address": {}, "notes": {}, "note": {},
	"token": {}, "authorization": {}, "cookie": {}, "setcookie": {}, "password": {}, "secret": {}, "apikey": {},
	"body": {}, "rawbody": {}, "payload": {}, "headers": {},
	"to": {}, "recipient": {}, "recipients": {}, "cc": {}, "bcc": {},
}

// personalSuffixes redact compound keys such as patientPhone, contactEmail,
// deviceToken, homeAddress or clientSecret. "name" is not a suffix here:
// functionName, routeName and queueName are operational.
var personalSuffixes = []string{
	"phone", "phonenumber", "email", "nationalid", "citizenid", "address",
	"token", "password", "secret", "authorization", "cookie", "dateofbirth", "birthdate",
}

// PersonalLogKey reports whether a log attribute with this key has its value
// replaced by Redacted. Keys are compared ignoring case and the separators
// "_", "-", "." and " " (so nationalId, national_id and National-ID match),
// against a list of names (name, patientName, phone, email, nationalId,
// notes, token, authorization, body, to, address, ...) and suffixes (…Phone,
// …Email, …Token, …Address, …Secret, ...).
func PersonalLogKey(key string) bool {
	k := normaliseKey(key)
	if _, ok := personalKeys[k]; ok {
		return true
	}
	for _, s := range personalSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

func normaliseKey(key string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', '-', '.', ' ':
			return -1
		}
		return r
	}, strings.ToLower(key))
}

// RedactingHandler returns a slog.Handler that passes records to next with
// the value of every attribute whose key PersonalLogKey reports replaced by
// Redacted: the record's own attributes, those bound with Logger.With, and
// those inside groups (a group whose key is personal is redacted whole).
// Messages are not touched: never put personal data in a message. NewLogger
// installs it.
func RedactingHandler(next slog.Handler) slog.Handler {
	if r, ok := next.(redactingHandler); ok {
		return r
	}
	return redactingHandler{next: next}
}

type redactingHandler struct{ next slog.Handler }

// Enabled reports whether next handles records at level l.
func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle passes a copy of r with redacted attributes to next.
func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts attrs and binds them in next.
func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return redactingHandler{next: h.next.WithAttrs(red)}
}

// WithGroup opens the group in next.
func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{next: h.next.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	if PersonalLogKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	// A LogValuer may resolve to a group holding personal keys.
	a.Value = a.Value.Resolve()
	if a.Value.Kind() != slog.KindGroup {
		return a
	}
	members := a.Value.Group()
	red := make([]slog.Attr, len(members))
	for i, m := range members {
		red[i] = redactAttr(m)
	}
	return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
}
