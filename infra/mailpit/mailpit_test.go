package mailpit

import (
	"context"
	"errors"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNotInstalled(t *testing.T) {
	_, err := Start(context.Background(), Options{Bin: filepath.Join(t.TempDir(), "mailpit")})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want ErrNotInstalled", err)
	}
}

func TestSendAndRead(t *testing.T) {
	begin := time.Now()
	s := ForTest(t, Options{})
	t.Logf("mailpit answered on %s (SMTP %s) after %v", s.URL(), s.SMTPAddr(), time.Since(begin))
	ctx := context.Background()
	info, err := s.Info(ctx)
	if err != nil || info.Messages != 0 {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	msg := "From: Lab <no-reply@labchain.test>\r\n" +
		"To: somchai@example.com\r\n" +
		"Subject: =?UTF-8?b?4Lii4Li34LiZ4Lii4Lix4LiZ?=\r\n" + // ยืนยัน
		"Message-ID: <k-1@labchain.test>\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\n" +
		"\r\n" +
		"hello\r\n"
	for i := 0; i < 3; i++ {
		if err := smtp.SendMail(s.SMTPAddr(), nil, "no-reply@labchain.test", []string{"somchai@example.com"}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Messages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("%d messages, want 3", len(list))
	}
	m := list[0]
	if m.Subject != "ยืนยัน" || m.MessageID != "k-1@labchain.test" || len(m.To) != 1 || m.To[0].Address != "somchai@example.com" || m.From.Name != "Lab" {
		t.Errorf("summary = %+v", m)
	}
	full, err := s.Message(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if full.Subject != "ยืนยัน" || strings.TrimSpace(full.Text) != "hello" || full.HTML != "" {
		t.Errorf("message = %+v", full)
	}
	h, err := s.Headers(ctx, m.ID)
	if err != nil || len(h["Message-Id"])+len(h["Message-ID"]) != 1 {
		t.Errorf("headers = %v, %v", h, err)
	}
	if _, err := s.Message(ctx, "no-such-id"); err == nil {
		t.Error("Message of an unknown id: no error")
	}
	if err := s.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if list, err := s.Messages(ctx); err != nil || len(list) != 0 {
		t.Errorf("after DeleteAll: %d messages, %v", len(list), err)
	}
}

func TestChaos(t *testing.T) {
	s := ForTest(t, Options{Chaos: true})
	ctx := context.Background()
	if err := s.SetChaos(ctx, Chaos{Recipient: ChaosTrigger{ErrorCode: 550, Probability: 100}}); err != nil {
		t.Fatal(err)
	}
	err := smtp.SendMail(s.SMTPAddr(), nil, "a@labchain.test", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nx\r\n"))
	var reply *textproto.Error
	if !errors.As(err, &reply) || reply.Code != 550 {
		t.Fatalf("send with a 550 recipient trigger: %v", err)
	}
	if err := s.SetChaos(ctx, Chaos{}); err != nil {
		t.Fatal(err)
	}
	if err := smtp.SendMail(s.SMTPAddr(), nil, "a@labchain.test", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
		t.Fatalf("after the triggers are off: %v", err)
	}
}

func TestCloseLeavesNothing(t *testing.T) {
	s := ForTest(t, Options{})
	pid, dir := s.Pid(), s.dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("mailpit (pid %d) still exists after Close: kill 0 = %v", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the database folder %s is still there: %v", dir, err)
	}
	if _, err := s.Info(context.Background()); err == nil {
		t.Error("the API still answers after Close")
	}
	s.Close() // twice is fine
}

// TestStaleDirsRemoved: the folder of a Mailpit whose owner was killed (and
// could not remove it) goes at the next Start; a live owner's stays.
func TestStaleDirsRemoved(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(stale)
	live, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(live)
	for dir, pid := range map[string]int{stale: dead.Process.Pid, live: os.Getpid()} {
		if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ForTest(t, Options{})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the folder of a dead owner is still there: %v", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the folder of a live owner was removed: %v", err)
	}
}

func TestFixedPorts(t *testing.T) {
	first := ForTest(t, Options{})
	// The ports of a running Mailpit are taken: a second one on them fails
	// (and does not retry other ports, since they were asked for).
	_, err := Start(context.Background(), Options{SMTPPort: first.SMTPPort(), HTTPPort: first.HTTPPort()})
	if err == nil {
		t.Fatal("a second Mailpit on the same ports started")
	}
	if !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("the error does not say why: %v", err)
	}
}
