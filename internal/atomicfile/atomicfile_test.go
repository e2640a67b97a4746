package atomicfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// A committed file replaces the old one whole; an aborted one leaves the
// old one and nothing else.
func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.parquet")
	os.WriteFile(path, []byte("old"), 0o600)

	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	f.Abort()
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after Abort: %q, want the old content", b)
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Errorf("after Abort the folder holds %v", got)
	}

	f, err = Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	if runtime.GOOS == "linux" {
		if got := listDir(t, dir); len(got) != 1 {
			t.Errorf("a file being written has a name on Linux: %v", got)
		}
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("after Commit: %q", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Errorf("after Commit the folder holds %v", got)
	}
	if err := f.Commit(); err == nil {
		t.Error("a second Commit succeeded")
	}
}

// A process that dies while writing (a panic, the runtime's out-of-memory
// death, SIGKILL) leaves no temporary file behind.
func TestDeathLeavesNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("files without a name are Linux's")
	}
	if dir := os.Getenv("ATOMICFILE_CHILD"); dir != "" {
		f, err := Create(filepath.Join(dir, "out.ndjson"))
		if err != nil {
			os.Exit(9)
		}
		f.WriteString("partial")
		if os.Getenv("ATOMICFILE_HOW") == "kill" {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		panic("dies while writing")
	}
	for _, how := range []string{"panic", "kill"} {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestDeathLeavesNothing$")
		cmd.Env = append(os.Environ(), "ATOMICFILE_CHILD="+dir, "ATOMICFILE_HOW="+how)
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 9 {
			t.Fatalf("%s: child: %v", how, err)
		}
		if got := listDir(t, dir); len(got) != 0 {
			t.Errorf("%s: the dead process left %v", how, got)
		}
	}
}

// Without O_TMPFILE (other systems, some file systems) the temporary name
// exists while writing; Freeze removes it and stops later commits.
func TestFreezeRemovesNamedTemporaries(t *testing.T) {
	dir := t.TempDir()
	f, err := os.CreateTemp(dir, ".out.tmp-*")
	if err != nil {
		t.Fatal(err)
	}
	live.Lock()
	if live.names == nil {
		live.names = map[string]bool{}
	}
	live.names[f.Name()] = true
	live.Unlock()
	named := &File{File: f, Path: filepath.Join(dir, "out"), name: f.Name()}
	unnamed, err := Create(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	if n := Freeze(); n != 1 {
		t.Errorf("Freeze removed %d files, want 1", n)
	}
	defer func() { live.Lock(); live.frozen = false; live.Unlock() }()
	if err := named.Commit(); err != ErrExiting {
		t.Errorf("Commit after Freeze: %v", err)
	}
	if err := unnamed.Commit(); err != ErrExiting {
		t.Errorf("Commit after Freeze: %v", err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("after Freeze the folder holds %v", got)
	}
}

// A scratch file has no name from the start.
func TestScratch(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	f, err := Scratch("spool-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("x"); err != nil {
		t.Fatal(err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("scratch file visible: %v", got)
	}
}
