"""Run untrusted student code in a bubblewrap sandbox with resource limits.

Inside the sandbox the process sees (read-only) the system's /usr, /lib, /bin,
the Python installation, the course venv and the student package
``coursekit``, plus one writable scratch folder. It does not see this
checkout's ``solutions/``, ``autograder/`` (apart from the harness file it is
given), the gradebook, the sources or other students' work. It runs as an
unprivileged uid with no capabilities, in fresh PID, network, IPC and UTS
namespaces (no network at all), and dies with its parent. rlimits bound CPU
time, address space, processes, file size and open files; a wall-clock
timeout kills the whole process group.

``Sandbox.run`` starts a fresh process per call; ``ForkServer`` keeps one
sandbox per grading process and forks a warm child per submission.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class SandboxUnavailable(RuntimeError):
    pass


@dataclass
class Limits:
    cpu_seconds: int = 300          # CPU time of the whole sandboxed process tree's leader
    wall_seconds: int = 300         # then the process group is killed
    memory_bytes: int = 4 << 30     # address space per process (torch reserves a lot of it)
    processes: int = 64             # per sandbox uid: stops fork bombs
    file_bytes: int = 64 << 20      # largest file it may write
    open_files: int = 256
    tmp_bytes: int = 256 << 20      # size of the sandbox's /tmp (kept in memory)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    killed_by: str | None = None    # e.g. "SIGKILL", "SIGXCPU"


@dataclass
class Sandbox:
    """A recipe for one sandboxed run; ``run`` starts a fresh process each time."""

    limits: Limits = field(default_factory=Limits)
    enabled: bool = True            # False only with the instructor's explicit --no-sandbox
    uid: int = 0                    # 0: pick one per run

    def _ro_paths(self) -> list[Path]:
        prefix = Path(sys.base_prefix).resolve()
        venv = Path(sys.prefix)
        paths = [Path(p) for p in ("/usr", "/lib", "/lib64", "/bin", "/etc/alternatives", "/etc/ld.so.cache")]
        paths += [prefix, venv, REPO / "coursekit"]
        # The venv's python may be a symlink into another installation (pyenv, /usr/local, ...).
        paths.append(Path(os.path.realpath(sys.executable)).parent.parent)
        return [p for p in dict.fromkeys(paths) if p.exists()]

    def argv(self, command: list[str], scratch: Path, extra_ro: dict[Path, str] | None = None,
             uid: int | None = None) -> list[str]:
        uid = uid or self.uid or 100000 + os.getpid()
        args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                "--proc", "/proc", "--dev", "/dev",
                # a private, world-writable /tmp held in memory, so it is capped
                "--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp"]
        made: set[str] = {"/"}
        binds = [(p, str(p)) for p in self._ro_paths()] + [(Path(s), d) for s, d in (extra_ro or {}).items()]
        for src, dst in binds + [(scratch, "/work/scratch")]:
            # bwrap creates missing parents as 0700 dirs, unreadable after the uid switch: make them 0755.
            for parent in reversed(Path(dst).parents):
                if str(parent) not in made:
                    made.add(str(parent))
                    args += ["--perms", "0755", "--dir", str(parent)]
            if src == scratch:
                args += ["--bind", str(src), dst]
            else:
                args += ["--ro-bind", str(src), dst]
            made.add(dst)
        env = {"HOME": "/work/scratch", "PATH": f"{sys.prefix}/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
               # one thread per sandbox: parallel graders share the cores, and fork() stays safe.
               "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": "/tmp",
               "TMPDIR": "/tmp",
               # as plain nbgrader autograde does: a notebook may shorten its long runs (ch12's full study)
               "NBGRADER_EXECUTION": "autograde"}
        args += ["--clearenv"] + [a for k, v in env.items() for a in ("--setenv", k, v)]
        args += ["--chdir", "/work/scratch",
                 "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        return args + command

    def _preexec(self):
        lim = self.limits

        def apply():
            os.setsid()
            for res, value in ((resource.RLIMIT_CPU, lim.cpu_seconds), (resource.RLIMIT_AS, lim.memory_bytes),
                               (resource.RLIMIT_NPROC, lim.processes), (resource.RLIMIT_FSIZE, lim.file_bytes),
                               (resource.RLIMIT_NOFILE, lim.open_files), (resource.RLIMIT_CORE, 0)):
                resource.setrlimit(res, (value, value))
        return apply

    def run(self, command: list[str], scratch: Path, extra_ro: dict[Path, str] | None = None,
            stdin: bytes | None = None) -> Result:
        scratch.mkdir(parents=True, exist_ok=True)
        # One uid per grading process: parallel workers cannot signal or read each other's sandboxes.
        uid = self.uid or 100000 + os.getpid()
        if self.enabled:
            os.chown(scratch, uid, uid)
            for p in scratch.rglob("*"):
                os.chown(p, uid, uid)
            argv = self.argv(command, scratch, extra_ro, uid)
            preexec = self._preexec()
            env = None
        else:  # unsandboxed: same limits, no isolation (instructor opted in with --no-sandbox)
            argv = command
            preexec = self._preexec()
            env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HOME": str(scratch),
                   "NBGRADER_EXECUTION": "autograde",
                   "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
        proc = subprocess.Popen(argv, cwd=scratch, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=preexec, env=env)
        try:
            out, err = proc.communicate(stdin, timeout=self.limits.wall_seconds)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            timed_out = True
        rc = proc.returncode
        # bwrap reports a child killed by signal N as exit status 128 + N.
        signum = -rc if rc < 0 else rc - 128 if self.enabled and 128 < rc < 128 + signal.NSIG else None
        killed = signal.Signals(signum).name if signum in signal.valid_signals() else None
        return Result(proc.returncode, out.decode(errors="replace")[-100_000:],
                      err.decode(errors="replace")[-100_000:], timed_out, killed)


def check_available() -> None:
    """Raise SandboxUnavailable with the reason unless bwrap can start a sandbox here."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed; on Debian: apt-get install bubblewrap")
    if shutil.which("setpriv") is None:
        raise SandboxUnavailable("setpriv (util-linux) is not installed")
    if os.geteuid() != 0:
        raise SandboxUnavailable("the sandbox switches to an unprivileged uid, so grading must run as root")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        res = Sandbox(limits=Limits(wall_seconds=30)).run([sys.executable, "-c", "print('ok')"], Path(tmp) / "s")
    if res.returncode != 0 or res.stdout.strip() != "ok":
        raise SandboxUnavailable(f"bwrap could not start a sandbox: {res.stderr.strip()[-300:]}")



def _read_file(path: Path, max_bytes: int) -> bytes | None:
    """The contents of a regular file written by sandboxed code (never through a link), or None."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        return fh.read(max_bytes + 1)[:max_bytes]


class ForkServer:
    """A long-lived sandbox that forks a fresh, already warm child for each job.

    Starting Python and importing torch, numpy and IPython costs more than
    grading most submissions. The server (``harness.py --serve``) pays it once
    per grading process, inside the same bubblewrap sandbox and uid as
    :meth:`Sandbox.run`, then forks one child per job. Between jobs it kills
    every other process of its uid and wipes /tmp and System V IPC; each job
    gets its own scratch folder, which the grader deletes. If a job kills the
    server or it cannot clean up, the next job gets a new server.
    """

    def __init__(self, harness: Path, limits: Limits | None = None):
        self.harness = harness
        self.limits = limits or Limits()
        self.proc: subprocess.Popen | None = None
        self.root: Path | None = None
        self.ready = False
        self.jobs = 0

    def launch(self) -> None:
        """Start the server if it is not running; it warms up in the background until the first job."""
        if self.proc is None or self.proc.poll() is not None:
            self.stop()
            self._start()

    def _start(self) -> None:
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="sandbox-"))  # root-owned: jobs write only in their folder
        self.root.chmod(0o755)
        self.uid = 100000 + os.getpid()
        argv = Sandbox().argv([sys.executable, "/work/harness/harness.py", "--serve"], self.root,
                              {self.harness: "/work/harness/harness.py"}, self.uid)
        # The server's own limits; each job lowers its CPU limit to the job's budget.
        server = Sandbox(limits=Limits(**{**self.limits.__dict__, "cpu_seconds": 1 << 20}))
        self.log = open(self.root.parent / f"{self.root.name}.log", "w+b")
        self.proc = subprocess.Popen(argv, cwd=self.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, preexec_fn=server._preexec())
        self.ready = False

    def _await_ready(self) -> None:
        if self._reply(120) is None:
            self.log.seek(0)
            reason = self.log.read().decode(errors="replace").strip()[-300:]
            self.stop()
            raise SandboxUnavailable(f"the sandboxed fork server did not start: {reason}")
        self.ready = True

    def _reply(self, timeout: float) -> dict | None:
        import json
        import select

        fd = self.proc.stdout.fileno()
        line = b""
        deadline = time.monotonic() + timeout
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            line += chunk
        try:
            return json.loads(line)
        except ValueError:
            return None

    def run(self, files: dict[str, bytes], wall_seconds: int, cpu_seconds: int,
            collect: tuple[str, ...] = ("results.json",), max_bytes: int = 64 << 20) -> tuple[Result, dict]:
        """Run one job in a fresh folder holding ``files``; returns the result and the ``collect`` files it wrote."""
        import json

        self.launch()
        if not self.ready:
            self._await_ready()
        self.jobs += 1
        folder = self.root / f"job-{self.jobs}"
        folder.mkdir(mode=0o700)
        try:
            for name, data in files.items():
                (folder / name).write_bytes(data)
            for path in [folder, *folder.iterdir()]:
                os.chown(path, self.uid, self.uid)
            request = {"dir": f"/work/scratch/{folder.name}", "wall": wall_seconds, "cpu": cpu_seconds}
            try:
                self.proc.stdin.write(json.dumps(request).encode() + b"\n")
                self.proc.stdin.flush()
                reply = self._reply(wall_seconds + 30)
            except OSError:  # the server is gone
                reply = None
            timed_out = reply is None and self.proc.poll() is None
            if reply is None:  # the server died (a job may kill it) or hung: stop everything before reading
                self._kill()
            output = (_read_file(folder / "output.txt", max_bytes) or b"")[-100_000:].decode(errors="replace")
            found = {name: data for name in collect if (data := _read_file(folder / name, max_bytes)) is not None}
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if reply is None:  # the next job starts a new server
            self.stop()
            return Result(-1, "", output or "the sandbox stopped", timed_out, "SIGKILL" if timed_out else None), found
        if not reply.get("clean"):
            self.stop()
        status = reply["status"]
        killed = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else None
        return Result(os.waitstatus_to_exitcode(status), "", output, bool(reply.get("timed_out")), killed), found

    def _kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # bwrap's pid 1 dies, and the kernel kills the rest
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            self._kill()
            for stream in (self.proc.stdin, self.proc.stdout, self.log):
                stream.close()
            Path(self.log.name).unlink(missing_ok=True)
            self.proc = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
