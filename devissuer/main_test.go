package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestInvalidConfigurationIsReportedWhole(t *testing.T) {
	env := map[string]string{"APP_PORT": "70000", "ISSUER_TOKEN_TTL": "-1h", "LOG_LEVEL": "loud"}
	var stderr bytes.Buffer
	if err := run(context.Background(), func(k string) string { return env[k] }, io.Discard, &stderr); err == nil {
		t.Fatal("run accepted an invalid configuration")
	}
	for name := range env {
		if !strings.Contains(stderr.String(), name) {
			t.Errorf("stderr does not name %s:\n%s", name, stderr.String())
		}
	}
}

func TestServesTokensUntilCancelled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	env := map[string]string{"APP_PORT": port}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stdout bytes.Buffer
	go func() { done <- run(ctx, func(k string) string { return env[k] }, &stdout, io.Discard) }()

	url := "http://127.0.0.1:" + port + "/token?sub=rider-42"
	var resp *http.Response
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err = http.Get(url); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("GET /token: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Count(string(body), ".") != 2 {
		t.Fatalf("GET /token: %d %q, want a JWT", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if !strings.Contains(stdout.String(), `"issuer":"http://127.0.0.1:`+port+`"`) {
		t.Errorf("the start log does not say the issuer URL:\n%s", stdout.String())
	}
}
