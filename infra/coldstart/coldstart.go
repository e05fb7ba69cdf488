// Package coldstart measures the first invocation of a Lambda bootstrap under
// aws-lambda-rie: from the emulator's Invoke call that starts the bootstrap
// process to its first answer (process start, Go runtime and package
// initialisation, the function's main, the Runtime API round trip). The
// benchmark in this package compares the functions with an aws-lambda-go hello
// world (./hello) built with the same flags, in the same run.
package coldstart

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"time"
)

// invocationPath is the Lambda Invoke API path aws-lambda-rie serves.
const invocationPath = "/2015-03-31/functions/function/invocations"

// Invoke starts aws-lambda-rie (rie) hosting bootstrap with env, waits until
// it accepts connections, then posts event once and returns the time from
// that call (which makes the emulator start the bootstrap) to the answer, and
// the answer. The emulator and the bootstrap are stopped before it returns.
func Invoke(ctx context.Context, rie, bootstrap string, env []string, event []byte) (time.Duration, []byte, error) {
	ports, err := freePorts(2)
	if err != nil {
		return 0, nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rie, "--log-level", "error",
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		bootstrap)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("coldstart: aws-lambda-rie did not listen on %s: %s", addr, out.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+invocationPath, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("coldstart: invoke: %w: %s", err, out.String())
	}
	body, err := io.ReadAll(resp.Body)
	d := time.Since(t0)
	resp.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, body, fmt.Errorf("coldstart: invoke answered %d: %q %s", resp.StatusCode, body, out.String())
	}
	return d, body, nil
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
