"""A real SMTP server for the integration tests: Debian's aiosmtpd (python3-aiosmtpd, scripts/install-deps) in a
child process, delivering into a Maildir the tests read. Debian's /usr/bin/python3 runs it (the package installs
there; a python3 earlier on PATH, such as pyenv's, may not see it)."""

import email
import email.policy
import os
import shutil
import signal
import socket
import subprocess
import sys
import time


def interpreter():
    """The python3 that has aiosmtpd, or None."""
    for candidate in ("/usr/bin/python3", sys.executable, shutil.which("python3")):
        if candidate and subprocess.run([candidate, "-c", "import aiosmtpd"], capture_output=True).returncode == 0:
            return candidate
    return None


class SmtpSink:
    def __init__(self, directory, port=None):
        self.dir = directory
        self.maildir = os.path.join(directory, "maildir")
        self.port = port or _free_port()
        self.proc = None

    def start(self):
        python = interpreter()
        if python is None:
            raise RuntimeError("python3-aiosmtpd is not installed (scripts/install-deps installs it)")
        log = open(os.path.join(self.dir, "smtpd.log"), "ab")
        self.proc = subprocess.Popen([python, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{self.port}",
                                      "-c", "aiosmtpd.handlers.Mailbox", self.maildir],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("aiosmtpd exited: " + open(os.path.join(self.dir, "smtpd.log")).read())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)  # polling for the port, not synchronising by time
        raise RuntimeError("aiosmtpd did not start listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def messages(self):
        """Every message delivered so far, parsed (email.message.EmailMessage)."""
        out = []
        new = os.path.join(self.maildir, "new")
        if os.path.isdir(new):
            for name in sorted(os.listdir(new)):
                with open(os.path.join(new, name), "rb") as f:
                    out.append(email.message_from_binary_file(f, policy=email.policy.default))
        return out

    def to(self, address, subject=""):
        """The messages to `address` (whose subject starts with `subject`), in no particular order."""
        return [m for m in self.messages() if address in m["To"] and m["Subject"].startswith(subject)]

    def wait_for(self, address, count=1, timeout=30.0, subject=""):
        """The messages to `address` (whose subject starts with `subject`) once there are `count` of them."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.to(address, subject)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no {count} message(s) to {address} within {timeout}s; have "
                             f"{[m['To'] for m in self.messages()]}")


def body(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
