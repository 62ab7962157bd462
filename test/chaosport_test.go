//go:build chaos

package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The harness gives every app a port the kernel chose free (freePorts
// listens on port 0), from the range it hands to any program that listens
// on port 0. While an app is down its sidecar goes on calling that port;
// had another program listened there, the sidecar would deliver to it and
// take its answer. watchPort looks for such a listener while a service is
// down, so that a message taken for delivered while its app was down
// (docs/chaos.md, "A delivery that failed is taken for a success") is not
// blamed on Dapr when a stranger answered: in the hunts it found none. The
// harness itself holds a stopped service's port (system.holdPort) and
// resets every connection to it, as a refused one is; that listener is not
// a stranger and is not reported.

// squatter is a listener found on a down service's port.
type squatter struct {
	port  int
	at    time.Time
	inode string
	owner string // pid and command line, or why it is not known
}

// watchPort polls the sockets of the machine (/proc/net/tcp and tcp6)
// every 2 ms for a listener on 127.0.0.1:port until stop is closed, and
// reports each one found (once per socket).
func watchPort(port int, stop <-chan struct{}) <-chan []squatter {
	out := make(chan []squatter, 1)
	go func() {
		var found []squatter
		seen := map[string]bool{}
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				out <- found
				return
			case <-tick.C:
			}
			for _, inode := range listeners(port) {
				if seen[inode] {
					continue
				}
				seen[inode] = true
				if !ownSocket(inode) {
					found = append(found, squatter{port: port, at: time.Now(), inode: inode, owner: socketOwner(inode)})
				}
			}
		}
	}()
	return out
}

// listeners returns the inodes of the sockets listening on port on any
// local address.
func listeners(port int) []string {
	var inodes []string
	hexPort := fmt.Sprintf(":%04X", port)
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local_address rem_address st ... inode (field 9)
			if len(fields) > 9 && strings.HasSuffix(fields[1], hexPort) && fields[3] == "0A" {
				inodes = append(inodes, fields[9])
			}
		}
		f.Close()
	}
	return inodes
}

// ownSocket reports whether this test process holds the socket with the
// inode: the harness's hold on a stopped service's port.
func ownSocket(inode string) bool {
	fds, _ := filepath.Glob("/proc/self/fd/*")
	for _, fd := range fds {
		if link, err := os.Readlink(fd); err == nil && link == "socket:["+inode+"]" {
			return true
		}
	}
	return false
}

// socketOwner finds the process holding the socket with the inode.
func socketOwner(inode string) string {
	target := "socket:[" + inode + "]"
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		if link, err := os.Readlink(fd); err == nil && link == target {
			pid := strings.Split(fd, "/")[2]
			cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			return "pid " + pid + ": " + strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
	return "a process not visible here (another PID namespace, or gone)"
}

func (s squatter) String() string {
	return "127.0.0.1:" + strconv.Itoa(s.port) + " listened on by " + s.owner + " (socket " + s.inode + ")"
}
