package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// healthcheckArg, as the only argument, makes the binary probe the service
// instead of running it: `/dispatch healthcheck` is the image's HEALTHCHECK,
// because the distroless runtime image has no shell and no curl.
const healthcheckArg = "healthcheck"

// healthcheckTimeout stays under the HEALTHCHECK --timeout of the
// Dockerfile, so a slow answer is reported rather than killed.
const healthcheckTimeout = 2 * time.Second

// healthcheck asks the service configured by getenv (APP_HOST, APP_PORT)
// for GET /healthz and returns the process exit code: 0 for 200, else 1
// with the reason on stderr. An unspecified APP_HOST (0.0.0.0 in the image)
// is probed on loopback.
func healthcheck(getenv func(string) string, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "dispatch healthcheck: %v\n", err)
		return 1
	}
	host := cfg.Host
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)) + "/healthz"
	ctx, cancel := context.WithTimeout(context.Background(), healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "dispatch healthcheck: %v\n", err)
		return 1
	}
	// No proxy from the environment: the service is on this host.
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "dispatch healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "dispatch healthcheck: GET %s: %s\n", url, resp.Status)
		return 1
	}
	return 0
}
