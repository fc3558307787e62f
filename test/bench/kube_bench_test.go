//go:build bench

package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/dcrctl/dcrctl/internal/testenv"
)

// documentedRole is deploy/kubernetes/rbac.yaml's Role.
func documentedRole(t *testing.T) []rbacv1.PolicyRule {
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "kubernetes", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var role rbacv1.Role
		if yaml.Unmarshal([]byte(doc), &role) == nil && role.Kind == "Role" {
			return role.Rules
		}
	}
	t.Fatal("no Role in rbac.yaml")
	return nil
}

var apiRequests = regexp.MustCompile(`"msg":"kubernetes API requests","count":(\d+)`)

// TestBenchKube: 50-replica waves with the Kubernetes store, and `dcrctl
// run` idle. Prints rows of the same table.
func TestBenchKube(t *testing.T) {
	k := testenv.StartKube(t)
	bin := releaseBinary(t)
	kubeconfig := k.Kubeconfig(t)
	var idp *testenv.IdP
	var ns string
	replica := func() *client {
		c := newClient(t, idp.URL, "ES256")
		c.env["DCRCTL_STATE_STORE"] = "kubernetes"
		c.env["DCRCTL_KUBECONFIG"] = kubeconfig
		c.env["DCRCTL_KUBE_NAMESPACE"] = ns
		c.env["DCRCTL_LOCK_TIMEOUT"] = "300s"
		return c
	}

	fmt.Printf("\n| measure | result | target |\n|---|---|---|\n")
	// Both kinds of IdP a fleet meets, slowed to 300 ms per request (after
	// applying it): one that rotates the RAT on every read (the Curity
	// emulation, with the careful generic preset) and one that keeps it.
	for _, kind := range []struct{ name, emulate, preset string }{
		{"rotates the RAT on reads", "curity", "generic"},
		{"keeps the RAT on reads", "", "oidc-provider"},
	} {
		idp = testenv.StartEmulation(t, kind.emulate)
		for _, m := range []string{"GET", "POST", "PUT"} {
			idp.Delay(t, m, 300*time.Millisecond)
		}
		ns = k.Namespace(t)
		k.Grant(t, ns, documentedRole(t))
		fleet := func() *client {
			c := replica()
			c.env["DCRCTL_IDP_PRESET"] = kind.preset
			return c
		}
		wave(t, bin, idp, fleet, "first wave (empty namespace), IdP "+kind.name, "1 / 0 / — / 0")
		wave(t, bin, idp, fleet, "no-change rollout, IdP "+kind.name, "0 / 0 / ≤ 2 / 0")
		k.AgeSecret(t, ns, "dcrctl-state", 31)
		wave(t, bin, idp, fleet, "rotation wave, IdP "+kind.name, "0 / 1 / — / 0")
		idp.Stop()
	}
	ns = k.Namespace(t)
	k.Grant(t, ns, documentedRole(t))
	idp = testenv.StartIdP(t, 0)
	replica().run(t, bin, "bootstrap")

	// dcrctl run idle, as a sidecar: RSS and CPU over a minute, scraped
	// every 15 s as Prometheus would. RSS is the largest sample.
	c := replica()
	c.env["DCRCTL_CHECK_INTERVAL"] = "1h"
	listen := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	c.env["DCRCTL_LISTEN"] = listen
	cmd := exec.Command(bin, "run")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	testenv.Eventually(t, 30*time.Second, "readyz 200", func() bool { code, _ := testenv.Get(t, "http://"+listen+"/readyz"); return code == 200 })
	cpu0 := cpuTicks(t, cmd.Process.Pid)
	var peak, anon int64
	for i := range 12 {
		time.Sleep(5 * time.Second)
		if i%3 == 2 {
			if code, _ := testenv.Get(t, "http://"+listen+"/metrics"); code != 200 {
				t.Fatalf("/metrics answered %d", code)
			}
		}
		if rss, a := rssKiB(t, cmd.Process.Pid); rss > peak {
			peak, anon = rss, a
		}
	}
	used := float64(cpuTicks(t, cmd.Process.Pid)-cpu0) / 100 // clock ticks (USER_HZ 100) to seconds
	// Reported as it is, no trick on our own pages: the file-backed part is
	// the binary's clean pages, which a container's memory cgroup counts as
	// page cache (reclaimable), the anonymous part is dcrctl's own.
	fmt.Printf("| dcrctl run idle (sidecar, Kubernetes store, scraped every 15 s): peak RSS = anonymous + file-backed / CPU over 60 s | %.1f MiB = %.1f + %.1f MiB / %.3f%% of a core | < 20 MiB / < 0.1%% |\n",
		float64(peak)/1024, float64(anon)/1024, float64(peak-anon)/1024, used/60*100)
}

func cpuTicks(t *testing.T, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	u, _ := strconv.ParseInt(fields[11], 10, 64) // utime
	s, _ := strconv.ParseInt(fields[12], 10, 64) // stime
	return u + s
}

func rssKiB(t *testing.T, pid int) (rss, anon int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n
		case "RssAnon:":
			anon = n
		}
	}
	return rss, anon
}

// wave starts 50 replicas' bootstraps 50 ms apart and prints their row,
// judged by the IdP's own request log.
func wave(t *testing.T, bin string, idp *testenv.IdP, replica func() *client, what, target string) {
	const size = 50
	fleet := make([]*client, size)
	for i := range fleet {
		fleet[i] = replica()
	}
	idp.ResetRequests(t)
	cmds := make([]*exec.Cmd, size)
	outs := make([]*bytes.Buffer, size)
	start := time.Now()
	for i, c := range fleet {
		cmd := exec.Command(bin, "--log-level", "debug", "--log-format", "json", "bootstrap")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range c.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		outs[i] = &bytes.Buffer{}
		cmd.Stderr = outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
		time.Sleep(50 * time.Millisecond)
	}
	failed, api := 0, 0
	for i, cmd := range cmds {
		if cmd.Wait() != nil {
			failed++
		}
		for _, m := range apiRequests.FindAllStringSubmatch(outs[i].String(), -1) {
			n, _ := strconv.Atoi(m[1])
			api += n
		}
	}
	took := time.Since(start)
	var registrations, updates, dead int
	reqs := idp.Requests(t)
	for _, r := range reqs {
		switch {
		case r.Method == "POST" && r.Path == "/reg":
			registrations++
		case r.Method == "PUT":
			updates++
		}
		if r.Status == 401 || r.Status == 403 {
			dead++
		}
	}
	fmt.Printf("| Kubernetes store, %d replicas 50 ms apart, %s: registrations / updates / IdP requests / dead-RAT requests (failed runs; API-server requests per replica; wall) | %d / %d / %d / %d (%d; %.1f; %s) | %s |\n",
		size, what, registrations, updates, len(reqs), dead, failed, float64(api)/size, ms(took), target)
}
