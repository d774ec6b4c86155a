"""The grader's side of a learner's kernel: one fresh Jupyter kernel per notebook, guarded.

:class:`GuardedKernel` starts a kernel (the Python that runs the grader) in a scratch folder,
with the smoke profile and every cache and temporary folder inside the scratch folder, and
before any learner code runs it installs :data:`GUARD`:

* a memory limit (``resource.setrlimit(RLIMIT_AS)``, soft and hard, so the learner's code
  cannot raise it again): an allocation past it fails, and a kernel that dies of it is reported;
* a Python audit hook (``sys.addaudithook``, which cannot be removed from Python) that refuses,
  with a ``PermissionError`` whose message starts with ``grader:``, opening a file for writing
  outside the scratch folder, deleting, renaming or making files or folders outside it,
  connecting or sending to a network address, looking up a host name, and starting a process.

What the hook does not stop: code that calls C directly (``ctypes``, a compiled extension) or
writes through a file descriptor opened before the hook; it is a guard against mistakes and
ordinary code, not a sandbox against someone set on escaping it (grade in a container without
network, e.g. ``docker run --network none``, for that).

:meth:`GuardedKernel.run` executes one piece of code with a time limit and returns what
happened: ``ok``, ``error`` (with the exception's name and message), ``timeout`` or ``dead``.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import sys
import time
from pathlib import Path

#: Installed in the kernel before the learner's code; ``__course_guard(scratch, memory_bytes)``.
GUARD = r'''
def __course_guard(scratch, memory):
    import os, resource, socket, sys
    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    root = os.path.realpath(scratch)
    devices = {os.path.realpath(os.devnull)}
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    path_events = {"os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1),
                   "os.symlink": (1,), "os.link": (0, 1), "os.chmod": (0,), "os.chown": (0,),
                   "os.truncate": (0,), "os.utime": (0,), "shutil.rmtree": (0,), "shutil.copyfile": (1,)}
    processes = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "pty.spawn"}

    def outside(path):
        if isinstance(path, int) or path is None:
            return False
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return real not in devices and real != root and not real.startswith(root + os.sep)

    def refuse(what):
        raise PermissionError(f"grader: {what} is not allowed while grading (the notebook runs in a "
                              "scratch folder, offline): keep your files in the working folder")

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            writes = (mode is not None and any(c in str(mode) for c in "wax+")) or bool((flags or 0) & write_flags)
            if writes and outside(path):
                refuse(f"writing to {os.fsdecode(path)}")
        elif event in path_events:
            for i in path_events[event]:
                if len(args) > i and outside(args[i]):
                    refuse(f"{event} on {os.fsdecode(args[i])}")
        elif event in ("socket.connect", "socket.connect_ex", "socket.sendto", "socket.sendmsg"):
            if getattr(args[0], "family", None) != socket.AF_UNIX:
                refuse(f"a network connection to {args[1]!r}")
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                       "socket.gethostbyaddr"):
            if args and args[0] not in (None, "localhost", "127.0.0.1", b"localhost"):
                refuse(f"looking up the host {args[0]!r}")
        elif event in processes:
            refuse("starting another program")
        elif event == "os.kill" and args[0] != os.getpid():
            refuse("sending a signal to another process")

    sys.addaudithook(hook)
'''


@dataclasses.dataclass
class Outcome:
    """What one execution did: ``status`` is ``ok``, ``error``, ``timeout`` or ``dead``."""

    status: str
    stdout: str = ""
    ename: str = ""
    evalue: str = ""
    seconds: float = 0.0

    @property
    def blocked(self) -> bool:
        """Whether the error is the guard refusing something."""
        return self.ename == "PermissionError" and self.evalue.startswith("grader:")


def kernel_env(scratch: Path) -> dict[str, str]:
    """The kernel's environment: the smoke profile, offline, caches and temporary files in ``scratch``."""
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_REQUIRE_SOLUTIONS", "MPLBACKEND")}
    for name, sub in (("MPLCONFIGDIR", "mpl"), ("KERAS_HOME", "keras"), ("TMPDIR", "tmp"),
                      ("XDG_CACHE_HOME", "cache"), ("TFDS_DATA_DIR", "tfds")):
        (scratch / ".grader" / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(scratch / ".grader" / sub)
    env.update(COURSE_SMOKE="1", NO_GCE_CHECK="true", TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0",
               MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1", CUDA_VISIBLE_DEVICES="")
    return env


class GuardedKernel:
    """A fresh ipykernel of this Python, in ``scratch``, guarded by :data:`GUARD` before any other code."""

    def __init__(self, scratch: Path, memory_bytes: int | None, startup_timeout: float = 120.0):
        import ipykernel.kernelspec
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        class _ThisPython(KernelSpecManager):
            def get_kernel_spec(self, kernel_name):   # this interpreter, whatever kernels are installed
                return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                              **ipykernel.kernelspec.get_kernel_dict())

        self.scratch = scratch
        self.manager = KernelManager(kernel_name="python3", kernel_spec_manager=_ThisPython())
        self.log = scratch / ".grader" / "kernel.log"
        env = kernel_env(scratch)
        with open(self.log, "ab") as log:   # the kernel's own stderr (a crash's last words) goes here
            self.manager.start_kernel(cwd=str(scratch), env=env, stdout=log, stderr=log)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=startup_timeout)
        guard = self.run(GUARD + f"\n__course_guard({str(scratch)!r}, {memory_bytes or 0})\ndel __course_guard\n",
                         timeout=60)
        if guard.status != "ok":
            self.close()
            raise RuntimeError(f"could not guard the grading kernel: {guard.ename} {guard.evalue}")

    def last_words(self) -> str:
        """The last line the kernel wrote on its stderr (why it died, when it says so)."""
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines()
                     if line.strip() and "WARNING" not in line and "NOTE" not in line]
        except OSError:
            return ""
        return lines[-1].strip()[:200] if lines else ""

    def alive(self) -> bool:
        return bool(self.manager.is_alive())

    def run(self, code: str, timeout: float) -> Outcome:
        """Execute ``code``; wait at most ``timeout`` seconds (then interrupt it and report ``timeout``)."""
        started = time.monotonic()
        msg_id = self.client.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        stdout: list[str] = []
        reply = None
        idle = False
        while reply is None or not idle:
            if time.monotonic() - started > timeout:
                self._interrupt()
                return Outcome("timeout", "".join(stdout), seconds=time.monotonic() - started)
            if not self.alive():
                return Outcome("dead", "".join(stdout), seconds=time.monotonic() - started)
            try:
                msg = self.client.get_iopub_msg(timeout=0.2)
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    kind, content = msg["msg_type"], msg["content"]
                    if kind == "stream" and content.get("name") == "stdout":
                        stdout.append(content.get("text", ""))
                    elif kind == "status" and content.get("execution_state") == "idle":
                        idle = True
            except queue.Empty:
                pass
            if reply is None:
                try:
                    msg = self.client.get_shell_msg(timeout=0.01)
                    if msg.get("parent_header", {}).get("msg_id") == msg_id:
                        reply = msg["content"]
                except queue.Empty:
                    pass
        seconds = time.monotonic() - started
        if reply.get("status") == "ok":
            return Outcome("ok", "".join(stdout), seconds=seconds)
        return Outcome("error", "".join(stdout), reply.get("ename", "Error"), reply.get("evalue", ""), seconds)

    def _interrupt(self) -> None:
        """Stop what runs: a kernel that has run out of time is not reused (the grader starts a new one)."""
        self.close()

    def close(self) -> None:
        try:
            self.client.stop_channels()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass
        try:
            self.manager.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass


def memory_bytes(gigabytes: float | None) -> int | None:
    return int(gigabytes * 2**30) if gigabytes else None


if __name__ == "__main__":   # pragma: no cover - a manual try: python -m course_utils.grade_kernel
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        k = GuardedKernel(Path(tmp), memory_bytes(4))
        print(k.run("open('/tmp/x-grader-test', 'w')", 10), file=sys.stderr)
        print(k.run("print(1 + 1)", 10), file=sys.stderr)
        k.close()
