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
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
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
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
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
               "MPLBACKEND": "module://matplotlib_inline.backend_inline", "MPLCONFIGDIR": "/tmp"}
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

