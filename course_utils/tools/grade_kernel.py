"""The friendly first fence inside a grading sandbox: :data:`GUARD`, installed before any learner code.

:mod:`course_utils.tools.grade_driver` runs :data:`GUARD` in the sandbox before the notebook's first cell:

* a memory limit (``resource.setrlimit(RLIMIT_AS)``, soft and hard) when given one (the sandbox
  already sets it, so the driver passes none);
* a Python audit hook (``sys.addaudithook``, which cannot be removed from Python) that refuses,
  with a ``PermissionError`` whose message starts with ``grader:``, opening a file for writing
  outside the scratch folder, deleting, renaming or making files or folders outside it,
  connecting or sending to a network address, looking up a host name, and starting a process.

It names an honest mistake in words (the gradebook's ``blocked``). It is not the wall: code that
calls C directly (``ctypes``, a compiled extension) or passes ``dir_fd`` goes around it, and the
sandbox (:mod:`course_utils.tools.grade_sandbox`) is what stops that code. Without a sandbox
(``--no-sandbox``) this hook is all that remains.
"""

#: Run by the sandbox's driver before the learner's code; ``__course_guard(scratch, memory_bytes)``.
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
