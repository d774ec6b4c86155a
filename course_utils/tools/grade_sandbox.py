"""Each notebook in its own sandbox: the process that runs learner code, and how it is fenced.

:class:`Sandbox` starts :mod:`course_utils.tools.grade_driver` (the only process that runs learner
code) and talks to it through two pipes, one JSON line each way (:meth:`Sandbox.request`, with a
time limit: past it, the whole sandbox is killed). The backends, best first:

* ``bwrap`` (bubblewrap, Linux; ``apt-get install bubblewrap``): new PID, network, IPC, UTS,
  mount (and cgroup, where the kernel allows) namespaces; a root folder of its own in which only
  ``/usr`` (and the ``/lib*`` links), ``/etc/ld.so.cache``, the Python installation, the virtual
  environment and the package's ``course_utils/`` and ``data/`` are mounted, read-only; a private
  ``/tmp`` (a size-capped tmpfs) and one scratch folder (``/scratch``) writable; the environment
  cleared down to the few variables the lesson needs (:func:`sandbox_env`); the process tree in a
  new session, killed with the grader (``--die-with-parent``). It runs under a user id of its own,
  unused by any other process (``setpriv``, every capability dropped, ``no_new_privs``), so that
  the limits hold for the whole sandbox: ``RLIMIT_NPROC`` counts every process and thread of that
  user, ``RLIMIT_AS`` and ``RLIMIT_FSIZE`` bound each process and file, and the grader adds up
  the resident memory of every process of that user twice a second and kills the sandbox past
  ``--memory-gb``. When the notebook ends (or a limit is hit) the sandbox's PID namespace is torn
  down, which kills every process in it (a ``setsid`` child too), and the grader then checks that
  no process of that user is left, killing any. The scratch folder is capped (:data:`SCRATCH_BYTES`
  of disk, :data:`SCRATCH_ENTRIES` files and folders, each file ``RLIMIT_FSIZE``): the grader counts
  it twice a second while a request runs and before taking each reply, and kills the sandbox past
  either cap (every backend).
* ``docker`` / ``podman``: ``run --rm -i --network none --read-only`` with the same mounts, a memory,
  process and file-size limit, and the image ``$COURSE_GRADE_IMAGE`` (which must provide the same
  Python at the same path). Used when bubblewrap is missing and one of them is on the ``PATH``.
* ``none`` (``--no-sandbox``): the driver as a plain child process with the same environment and
  limits per process, and nothing else: the learner's code can read anything the grader's user
  can, write anywhere it can, reach the network and leave processes running.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

BACKENDS = ("bwrap", "docker", "podman")
_REPLY_BYTES = 8 * 2**20          # a reply longer than this (after the output cap) is an attack
_PROCESSES = 512                  # processes and threads of the sandbox's user (TensorFlow uses ~60)
SCRATCH_BYTES = 2**30             # what the scratch folder may hold in all (disk blocks, every file)
SCRATCH_ENTRIES = 20_000          # files and folders in it (a lesson's run writes a few dozen)


#: How a sandbox stopped for filling its scratch folder is worded (the start of ``Outcome.evalue``).
SCRATCH_NOTE = "the notebook filled its scratch folder"


class SandboxMissing(RuntimeError):
    """No sandbox backend here, and ``--no-sandbox`` was not given."""


@dataclasses.dataclass
class Outcome:
    """What one request did: ``status`` is ``ok``, ``error``, ``timeout`` or ``dead``."""

    status: str
    stdout: str = ""
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0
    reply: dict = dataclasses.field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return self.ename == "PermissionError" and self.evalue.startswith("grader:")


def find_backend(wanted: str | None = None) -> str | None:
    """The backend to use: ``wanted`` if given and present, else the first of :data:`BACKENDS` present."""
    if wanted == "none":
        return "none"
    for name in ([wanted] if wanted else BACKENDS):
        if name == "bwrap" and sys.platform.startswith("linux") and shutil.which("bwrap") and shutil.which("setpriv"):
            return "bwrap"
        if name in ("docker", "podman") and shutil.which(name) and os.environ.get("COURSE_GRADE_IMAGE"):
            return name
    return None


MISSING = ("grading runs every notebook in a sandbox, and none is available here: install bubblewrap "
           "(Debian/Ubuntu: apt-get install bubblewrap), or Docker/Podman with COURSE_GRADE_IMAGE set. "
           "--no-sandbox grades without one: the learners' code then runs as you, and can read your files "
           "and the other submissions, change them, reach the network and leave processes running. Use it only "
           "for notebooks you trust.")


def package_paths() -> list[Path]:
    """What the lesson needs of the course: the package folder and, beside it, ``data/``."""
    import course_utils

    pkg = Path(course_utils.__file__).resolve().parent
    paths = [pkg]
    if (pkg.parent / "data").is_dir() and (pkg.parent / "pyproject.toml").exists():
        paths.append(pkg.parent / "data")
    return paths


def sandbox_env(scratch: str, pythonpath: str) -> dict[str, str]:
    """The whole environment the learner's code sees: nothing of the instructor's."""
    grader = f"{scratch}/.grader"
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": scratch, "USER": "learner",
            "LANG": "C.UTF-8", "PYTHONPATH": pythonpath, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
            "COURSE_SMOKE": "1", "NO_GCE_CHECK": "true", "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg",
            "CUDA_VISIBLE_DEVICES": "", "MPLCONFIGDIR": f"{grader}/mpl", "KERAS_HOME": f"{grader}/keras",
            "TMPDIR": f"{grader}/tmp", "XDG_CACHE_HOME": f"{grader}/cache", "TFDS_DATA_DIR": f"{grader}/tfds",
            "IPYTHONDIR": f"{grader}/ipython"}


def _ro_paths() -> list[Path]:
    found: list[Path] = []
    for p in (Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
              Path(os.path.realpath(sys.executable)).parent.parent, *package_paths()):
        for q in (p, Path(os.path.realpath(p))):
            if q.exists() and not str(q).startswith("/usr") and q not in found:
                found.append(q)
    return found


def bwrap_command(uid: int | None, scratch: Path, memory: int, file_bytes: int) -> list[str]:
    """The bubblewrap command line that runs the driver (see the module doc)."""
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        p = Path("/" + name)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(min(memory, 2**30)),
             "--tmpfs", "/tmp", "--perms", "0755", "--dir", "/etc"]
    for extra in ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime"):
        if os.path.exists(extra):
            args += ["--ro-bind", extra, extra]
    made: set[str] = {"/", "/tmp", "/etc", "/usr"}
    for path in _ro_paths():
        for parent in reversed(path.parents):
            if str(parent) not in made:
                args += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        args += ["--ro-bind", str(path), str(path)]
        made.add(str(path))
    args += ["--bind", str(scratch), "/scratch", "--chdir", "/scratch", "--clearenv"]
    pythonpath = ":".join(str(p.parent) for p in package_paths()[:1])
    for key, value in sandbox_env("/scratch", pythonpath).items():
        args += ["--setenv", key, value]
    driver = [sys.executable, "-m", "course_utils.tools.grade_driver", "/scratch"]
    if uid is None:   # not root: a user namespace instead of a user id of its own (see the module doc)
        return args[:1] + ["--unshare-user"] + args[1:] + ["--", *driver]
    return args + ["--cap-add", "CAP_SETUID,CAP_SETGID", "setpriv", f"--reuid={uid}", f"--regid={uid}",
                   "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", *driver]


def container_command(tool: str, uid: int, scratch: Path, memory: int, file_bytes: int,
                      name: str | None = None) -> list[str]:
    """The Docker/Podman command line that runs the driver (see the module doc)."""
    args = [tool, "run", "--rm", "-i", *(["--name", name] if name else []), "--network", "none", "--read-only",
            "--memory", str(memory),
            "--pids-limit", str(_PROCESSES), "--ulimit", f"fsize={file_bytes}", "--user", f"{uid}:{uid}",
            "--tmpfs", "/tmp", "-v", f"{scratch}:/scratch:rw", "-w", "/scratch"]
    for path in _ro_paths():
        args += ["-v", f"{path}:{path}:ro"]
    pythonpath = ":".join(str(p.parent) for p in package_paths()[:1])
    for key, value in sandbox_env("/scratch", pythonpath).items():
        args += ["-e", f"{key}={value}"]
    return args + [os.environ["COURSE_GRADE_IMAGE"], sys.executable, "-m", "course_utils.tools.grade_driver", "/scratch"]


def processes_of(uid: int) -> list[int]:
    """Every process (not thread) whose real user is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(entry))
                        break
        except OSError:
            continue
    return found


def resident_bytes(pids: list[int]) -> int:
    """The memory ``pids`` hold together: each one's proportional share (PSS), so that pages a fork
    shares with its parent count once."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
                total += next(int(line.split()[1]) * 1024 for line in f if line.startswith("Pss:"))
        except (OSError, ValueError, IndexError, StopIteration):
            continue
    return total


def scratch_use(folder: Path, max_bytes: int, max_entries: int) -> tuple[int, int]:
    """(bytes of disk, entries) under ``folder``, without following a link; the count stops as soon as either
    passes its cap, so a flood of files costs the grader no more than ``max_entries`` look-ups."""
    used, entries, todo = 0, 0, [str(folder)]
    while todo and used <= max_bytes and entries <= max_entries:
        try:
            with os.scandir(todo.pop()) as listing:
                for entry in listing:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    used += max(info.st_blocks * 512, 0)
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(entry.path)
                    if used > max_bytes or entries > max_entries:
                        break
        except OSError:
            continue
    return used, entries


def _free_uid() -> int:
    busy = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                busy.add(os.stat(f"/proc/{entry}").st_uid)
            except OSError:
                pass
    while True:
        uid = random.randrange(200_000, 900_000)
        if uid not in busy:
            return uid


def _tail(folder: Path, parts: list[str], size: int = 65536) -> str:
    """The end of ``folder/parts...``, opened one component at a time without following a symbolic link
    (nor blocking on a FIFO); '' for anything but a regular file."""
    import stat

    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    fds: list[int] = []
    try:
        fds.append(os.open(folder, flags | os.O_DIRECTORY))
        for part in parts[:-1]:
            fds.append(os.open(part, flags | os.O_DIRECTORY, dir_fd=fds[-1]))
        fds.append(os.open(parts[-1], flags, dir_fd=fds[-1]))
        info = os.fstat(fds[-1])
        if not stat.S_ISREG(info.st_mode):
            return ""
        os.lseek(fds[-1], max(0, info.st_size - size), os.SEEK_SET)
        return os.read(fds[-1], size).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        for fd in fds:
            os.close(fd)


class Sandbox:
    """One notebook's sandbox, with the driver running in it, ready for :meth:`request`."""

    def __init__(self, scratch: Path, backend: str, memory_bytes: int | None, file_bytes: int = 512 * 2**20,
                 startup_timeout: float = 300.0, wait: bool = True, scratch_bytes: int = SCRATCH_BYTES,
                 scratch_entries: int = SCRATCH_ENTRIES):
        self.scratch, self.backend = scratch, backend
        self.container: str | None = None   # Docker/Podman: the container's name, killed by name
        self.scratch_bytes, self.scratch_entries = scratch_bytes, scratch_entries
        self.memory = memory_bytes or 8 * 2**30
        # A user id of its own needs root; an ordinary user gets a user namespace, and no process-count limit
        # or leftover search (they would count and kill the user's own processes).
        self.uid = _free_uid() if backend != "none" and os.geteuid() == 0 else None
        for sub in ("mpl", "keras", "tmp", "cache", "tfds", "ipython"):
            (scratch / ".grader" / sub).mkdir(parents=True, exist_ok=True)
        (scratch / "out").mkdir(exist_ok=True)
        if self.uid is not None:
            for root, dirs, files in os.walk(scratch):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.chown(name, self.uid, self.uid)
            os.chmod(scratch, 0o700)
        pass_fds: tuple[int, ...] = ()
        if backend == "bwrap":   # the arguments through a pipe: the sandbox sees "bwrap --args N" as its init
            full = bwrap_command(self.uid, scratch, self.memory, file_bytes)
            at = full.index("setpriv") if self.uid is not None else full.index("--")
            read_end, write_end = os.pipe()
            os.write(write_end, b"".join(a.encode() + b"\0" for a in full[1:at]))
            os.close(write_end)
            cmd, pass_fds = ["bwrap", "--args", str(read_end), *full[at:]], (read_end,)
            env = {"PATH": "/usr/bin:/bin"}
        elif backend in ("docker", "podman"):
            self.container = f"course-grade-{os.getpid()}-{random.randrange(16**8):08x}"
            cmd = container_command(backend, self.uid if self.uid is not None else os.getuid(), scratch, self.memory,
                                    file_bytes, self.container)
            env = {k: v for k, v in os.environ.items() if k in ("PATH", "DOCKER_HOST", "XDG_RUNTIME_DIR")}
        else:
            pythonpath = ":".join(str(p.parent) for p in package_paths()[:1])
            cmd = [sys.executable, "-m", "course_utils.tools.grade_driver", str(scratch)]
            env = sandbox_env(str(scratch), pythonpath)
        memory, nproc, uid = self.memory, _PROCESSES, self.uid

        def limits() -> None:   # in the child, before exec: inherited by everything the sandbox starts
            import resource
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
            if backend not in ("docker", "podman"):
                resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
            if backend == "bwrap" and uid is not None:   # counted for the sandbox's own user (root is exempt)
                resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))

        self.log_path = scratch.parent / f"{scratch.name}.log"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     cwd=str(scratch), env=env, start_new_session=True, preexec_fn=limits,
                                     pass_fds=pass_fds)
        for fd in pass_fds:
            os.close(fd)
        self._buffer = b""
        if wait:
            self.wait_ready(startup_timeout)

    def wait_ready(self, timeout: float = 300.0) -> None:
        """Wait for the driver's first line (it has imported what every lesson needs); raise if it never comes."""
        ready = self._read(timeout)
        if ready.status != "ok":
            words = self.last_words()
            self.close()
            raise RuntimeError(f"the grading sandbox ({self.backend}) did not start: {ready.status} {words}")

    def last_words(self) -> str:
        """The last line the sandbox wrote on its stderr, or of the driver's log (read without following
        a link the sandbox may have put in its place)."""
        for text in (_tail(self.log_path.parent, [self.log_path.name]),
                     _tail(self.scratch, [".grader", "output.log"])):
            lines = [ln for ln in text.splitlines()
                     if ln.strip() and "WARNING" not in ln and "I0000" not in ln and "oneDNN" not in ln]
            if lines:
                return lines[-1].strip()[:200]
        return ""

    def request(self, message: dict, timeout: float) -> Outcome:
        """Send one request; the reply within ``timeout`` seconds, else the sandbox is killed."""
        started = time.monotonic()
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return Outcome("dead", evalue=self.last_words())
        out = self._read(timeout)
        out.seconds = time.monotonic() - started
        return out

    def _read(self, timeout: float) -> Outcome:
        deadline = time.monotonic() + max(0.0, timeout)
        fd = self.proc.stdout.fileno()
        next_check = 0.0
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                try:
                    reply = json.loads(line.decode("utf-8", "replace"))
                except ValueError:
                    continue
                if isinstance(reply, dict) and ("status" in reply or reply.get("op") == "ready"):
                    flooded = self.flooded()   # what the request left in the folder, before its reply counts
                    if flooded:
                        self.kill()
                        return Outcome("dead", evalue=flooded)
                    status = "ok" if reply.get("op") == "ready" else str(reply.get("status"))
                    return Outcome(status if status in ("ok", "error", "missing") else "ok",
                                   str(reply.get("stdout", ""))[:100_000], str(reply.get("ename", ""))[:200],
                                   str(reply.get("evalue", ""))[:4000], reply=reply)
            now = time.monotonic()
            if now >= deadline:
                self.kill()
                return Outcome("timeout")
            if now >= next_check:
                next_check = now + 0.5
                if self.uid is not None and resident_bytes(processes_of(self.uid)) > self.memory:
                    self.kill()
                    return Outcome("dead", evalue=f"the sandbox's processes held more than {self.memory / 2**30:g} GB")
                flooded = self.flooded()
                if flooded:
                    self.kill()
                    return Outcome("dead", evalue=flooded)
            ready, _, _ = select.select([fd], [], [], min(0.5, max(0.0, deadline - now)))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.kill()
                    return Outcome("dead", evalue=self.last_words())
                self._buffer += chunk
                if len(self._buffer) > _REPLY_BYTES:
                    self.kill()
                    return Outcome("dead", evalue="the sandbox sent more than the grader reads")

    def flooded(self) -> str:
        """'' while the scratch folder is within its caps; else what passed them (the sandbox is then killed:
        checked twice a second while a request runs, and before each reply is taken)."""
        used, entries = scratch_use(self.scratch, self.scratch_bytes, self.scratch_entries)
        if entries > self.scratch_entries:
            return (f"{SCRATCH_NOTE}: more than {self.scratch_entries:,} files and folders in it (the cap); the "
                    "grader stopped the notebook")
        if used > self.scratch_bytes:
            return (f"{SCRATCH_NOTE}: more than {self.scratch_bytes / 2**20:,.0f} MB in it (the cap); the grader "
                    "stopped the notebook")
        return ""

    def kill(self) -> None:
        """Kill the sandbox and everything in it; then make sure nothing of its user is left."""
        if self.container is not None and self.proc.poll() is None:   # the client's death would not stop it
            try:
                subprocess.run([self.backend, "kill", self.container], capture_output=True, timeout=60,
                               env={k: v for k, v in os.environ.items()
                                    if k in ("PATH", "DOCKER_HOST", "XDG_RUNTIME_DIR")})
            except (OSError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        if self.uid is not None:
            for _ in range(50):
                left = processes_of(self.uid)
                if not left:
                    break
                for pid in left:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"op": "quit"}\n')
                self.proc.stdin.flush()
                if self.container is not None:   # let the container end on its own, not by `docker kill`
                    self.proc.wait(timeout=10)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.log.close()
