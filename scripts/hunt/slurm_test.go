package hunt_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spot-hunt/spot/internal/testenv"
)

// slurm is a one-node Slurm cluster (Debian's slurm-wlm and munge) living
// in a temporary folder, as ../shared/reference/slurm-single-node.md
// describes: started by the test, stopped after it whatever the outcome.
type slurm struct {
	dir   string
	conf  string
	procs []*exec.Cmd // munged, slurmctld, slurmd
}

// startSlurm starts munged, slurmctld and slurmd, and waits for the node to
// be idle. Without the packages or root, the test is skipped (failed in CI).
func startSlurm(t *testing.T) *slurm {
	t.Helper()
	for _, tool := range []string{"munged", "munge", "unmunge", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo", "scancel"} {
		testenv.Tool(t, tool)
	}
	if os.Geteuid() != 0 {
		msg := "a test Slurm cluster runs its daemons as root"
		if testenv.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// The munge socket's path must fit a sockaddr_un: a short folder.
	dir, err := os.MkdirTemp("", "s19-slurm-")
	if err != nil {
		t.Fatal(err)
	}
	c := &slurm{dir: dir, conf: filepath.Join(dir, "slurm.conf")}
	t.Cleanup(func() {
		c.stop(t)
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	for _, sub := range []string{"log", "state", "spool"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	key := make([]byte, 1024)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "munge.key"), key, 0o400); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "munge.sock")
	c.start(t, "munged", "-F", "-f", "--key-file="+filepath.Join(dir, "munge.key"), "--socket="+sock,
		"--pid-file="+filepath.Join(dir, "munged.pid"), "--log-file="+filepath.Join(dir, "log", "munged.log"),
		"--seed-file="+filepath.Join(dir, "munged.seed"))
	c.waitFor(t, "munged", func() bool {
		cred, err := exec.Command("munge", "-n", "-S", sock).Output()
		if err != nil {
			return false
		}
		un := exec.Command("unmunge", "-S", sock)
		un.Stdin = bytes.NewReader(cred)
		out, err := un.Output()
		return err == nil && strings.Contains(string(out), "Success")
	})

	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".")
	conf := strings.NewReplacer("$D", dir, "HOST", host, "CTLPORT", fmt.Sprint(freePort(t)), "DPORT", fmt.Sprint(freePort(t)),
		"NCPU", fmt.Sprint(runtime.NumCPU()), "MEMMB", fmt.Sprint(memoryMB(t)*9/10)).Replace(slurmConf)
	if err := os.WriteFile(c.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.start(t, "slurmctld", "-D", "-f", c.conf)
	c.start(t, "slurmd", "-D", "-f", c.conf)
	c.waitFor(t, "an idle node", func() bool {
		out, _ := c.cmd("sinfo", "-h", "-o", "%t").Output()
		return strings.TrimSpace(string(out)) == "idle"
	})
	return c
}

// slurmConf is the reference configuration: no cgroup controllers here, so
// proctrack/linuxproc and task/none; no scheduling delay.
const slurmConf = `ClusterName=s19test
SlurmctldHost=HOST
SlurmctldPort=CTLPORT
SlurmdPort=DPORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$D/munge.sock
StateSaveLocation=$D/state
SlurmdSpoolDir=$D/spool
SlurmctldPidFile=$D/slurmctld.pid
SlurmdPidFile=$D/slurmd.pid
SlurmctldLogFile=$D/log/slurmctld.log
SlurmdLogFile=$D/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SchedulerParameters=batch_sched_delay=0
NodeName=HOST CPUs=NCPU RealMemory=MEMMB State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`

// cmd is a Slurm client command talking to this cluster.
func (c *slurm) cmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+c.conf)
	return cmd
}

// start starts a daemon in the foreground; it dies with the test process.
func (c *slurm) start(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := c.cmd(name, args...)
	out, err := os.Create(filepath.Join(c.dir, "log", name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c.procs = append(c.procs, cmd)
}

// stop cancels what is left of the jobs, then stops slurmd, slurmctld and
// munged, in that order (each by its process).
func (c *slurm) stop(t *testing.T) {
	c.cmd("scancel", "--user=root").Run()
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			p.Process.Kill()
			<-done
		}
	}
	if t.Failed() {
		for _, log := range []string{"slurmctld.log", "slurmd.log", "munged.log", "slurmctld.stderr", "slurmd.stderr", "munged.stderr"} {
			b, _ := os.ReadFile(filepath.Join(c.dir, "log", log))
			t.Logf("%s (last lines):\n%s", log, tail(string(b), 15))
		}
	}
}

func (c *slurm) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if ok() {
			return
		}
		for _, p := range c.procs {
			if p.ProcessState != nil {
				t.Fatalf("%s exited while waiting for %s", p.Path, what)
			}
		}
	}
	t.Fatalf("Slurm: no %s after 60 s", what)
}

// jobStates returns the states of a job's tasks (scontrol: no accounting
// database here), e.g. [COMPLETED COMPLETED FAILED].
func (c *slurm) jobStates(t *testing.T, id string) []string {
	t.Helper()
	out, err := c.cmd("scontrol", "show", "job", "-o", id).Output()
	if err != nil {
		t.Fatalf("scontrol show job %s: %v", id, err)
	}
	var states []string
	for _, f := range strings.Fields(string(out)) {
		if s, ok := strings.CutPrefix(f, "JobState="); ok {
			states = append(states, s)
		}
	}
	return states
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// memoryMB is the machine's memory in MB (/proc/meminfo).
func memoryMB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	var kb int
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			fmt.Sscan(rest, &kb)
		}
	}
	if kb == 0 {
		t.Fatal("/proc/meminfo: no MemTotal")
	}
	return kb / 1024
}

func slurmHunt(c *slurm, spot string) hunter {
	return func(t *testing.T, d day, out string) (string, bool) {
		args := append(scriptArgs(spot, d, 8), "--mem", "600M", "--train-mem", "1G", "--time", "10:00", "--wait", d.dir, out)
		cmd := c.cmd(script(t, "slurm/hunt.sh"), args...)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		err := cmd.Run()
		// The tasks' own output, as a user would read it.
		outs, _ := filepath.Glob(filepath.Join(out, "logs", "slurm", "*.out"))
		for _, o := range outs {
			b, _ := os.ReadFile(o)
			fmt.Fprintf(&log, "== %s\n%s", filepath.Base(o), b)
			os.Remove(o) // the next run's are its own
		}
		return log.String(), err == nil
	}
}

func TestSlurm(t *testing.T) {
	c := startSlurm(t)
	spot := spotBin(t)
	hunt := slurmHunt(c, spot)
	t.Run("flow", func(t *testing.T) {
		d := flowDay(t)
		// The corrupt file's task fails, the other 7 complete, the steps
		// after decode are cancelled by Slurm (not left pending).
		testCorrupt(t, spot, d, func(t *testing.T, d day, out string) (string, bool) {
			log, ok := hunt(t, d, out)
			jobs, err := os.ReadFile(filepath.Join(out, "plan", "jobs"))
			if err != nil {
				t.Fatal(err)
			}
			ids := strings.Fields(string(jobs))
			if len(ids) != 7 {
				t.Fatalf("%d jobs submitted, want 7", len(ids))
			}
			decode := c.jobStates(t, ids[0])
			failed := strings.Count(strings.Join(decode, " "), "FAILED")
			switch {
			case len(decode) != 8:
				t.Errorf("the decode array has %d tasks (%v), want 8", len(decode), decode)
			case ok && failed != 0, !ok && failed != 1:
				t.Errorf("decode tasks: %v", decode)
			}
			if !ok {
				for _, id := range ids[1:] {
					if st := c.jobStates(t, id); len(st) == 0 || st[0] != "CANCELLED" {
						t.Errorf("job %s after the failed decode: %v, want CANCELLED", id, st)
					}
				}
			}
			return log, ok
		})
	})
	t.Run("dns", func(t *testing.T) { testDay(t, spot, dnsDay(t), hunt) })
}
