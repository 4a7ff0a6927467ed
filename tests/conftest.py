"""Shared fixtures: real projects in temp dirs, and the real CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gitax.jobs.job import Job
from gitax.jobs.project import Project, init_project, set_current

REPO = Path(__file__).resolve().parent.parent


def git(*args: str, cwd: Path) -> str:
    """Run git with a fixed identity; its stdout."""
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def example_in_git(dest: Path, message: str) -> str:
    """The cars example copied to `dest` (no store, results or lock), committed in a new
    git repository; returns the commit."""
    shutil.copytree(
        REPO / "examples" / "cars",
        dest,
        ignore=shutil.ignore_patterns(".gitax", "results", "gitax.lock"),
    )
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-qm", message, cwd=dest)
    return git("rev-parse", "HEAD", cwd=dest).strip()


def write(path: Path, text: str) -> Path:
    """Write dedented text, making parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


class ProjectDir:
    """A gitax project in a temp dir, with helpers to write methods and build scripts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        init_project(root)

    def method(self, name: str, source: str) -> Path:
        return write(self.root / "methods" / f"a_{name}.py", source)

    def build_script(self, source: str, name: str | None = None) -> Path:
        return write(self.root / ("build.py" if not name else f"build_{name}.py"), source)

    def project(self) -> Project:
        """A fresh Project (as a new process would see it), made current."""
        project = Project.find(self.root)
        set_current(project)
        return project

    def stored(self, method: str) -> list[Job]:
        """Every stored job of `method`."""
        project = self.project()
        jobs = [Job.from_key(project, k) for k in project.store.index.keys()]
        return [j for j in jobs if j.method == method]

    def job(self, method: str) -> Job:
        """The one stored job of `method`."""
        (job,) = self.stored(method)
        return job


@pytest.fixture
def proj(tmp_path: Path) -> ProjectDir:
    root = tmp_path / "proj"
    root.mkdir()
    return ProjectDir(root)


@pytest.fixture(autouse=True)
def _no_current_project() -> None:
    set_current(None)


def gitax(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run the real CLI in a new process."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-m", "gitax", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"gitax {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


# ---- real servers on loopback, for the remote transports --------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need(what: str, how: str) -> None:
    """A server the tests need is missing: fail under CI (which installs it), else skip."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; .ci/run must install it ({how})")
    pytest.skip(f"{what} is not installed here ({how})")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory):
    """Debian's sshd on a free loopback port, with a fresh host key and user key."""
    import shutil
    import time

    binary = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(binary):
        _need("sshd", "apt-get install openssh-server")
    d = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "user_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True
        )
    (d / "authorized_keys").write_text((d / "user_key.pub").read_text())
    os.chmod(d / "authorized_keys", 0o600)
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPidFile {d / 'sshd.pid'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nMaxStartups 100\n"
        "MaxSessions 100\n"
    )
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)
    proc = subprocess.Popen(
        [binary, "-D", "-e", "-f", str(d / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=open(d / "sshd.log", "w"),
    )
    host_key = (d / "host_key.pub").read_text().split()
    (d / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    import socket

    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, (d / "sshd.log").read_text()
            assert time.monotonic() < deadline, "sshd did not start"
            time.sleep(0.05)
    env = {
        "GITAX_SSH_IDENTITY": str(d / "user_key"),
        "GITAX_SSH_KNOWN_HOSTS": str(d / "known_hosts"),
    }
    os.environ.update(env)  # the transports in this process and the CLI children read these
    import getpass

    yield {"port": port, "user": getpass.getuser(), "dir": d}
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def ssh_url(sshd: dict, tmp_path: Path) -> str:
    return f"ssh://{sshd['user']}@127.0.0.1:{sshd['port']}{tmp_path / 'sshremote'}"


@pytest.fixture
def ssh_transport(ssh_url: str):
    from gitax.remote.ssh import SshTransport

    return SshTransport(ssh_url)


@pytest.fixture(scope="session")
def s3_server():
    """moto's standalone S3-compatible server on a free loopback port."""
    import shutil
    import sys
    import time
    import urllib.request

    if shutil.which("moto_server") is None and not _has_module("moto.server"):
        _need("moto's server", "pip install 'moto[server]' (the test extra does)")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, "moto server exited"
            assert time.monotonic() < deadline, "moto server did not start"
            time.sleep(0.1)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    )
    yield url
    proc.terminate()
    proc.wait(10)


def _has_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture
def s3_url(s3_server: str, tmp_path: Path) -> tuple[str, str]:
    """A fresh bucket: (s3 URL, endpoint URL)."""
    import uuid

    import boto3

    bucket = f"gitax-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/team/store", s3_server


@pytest.fixture
def s3_transport(s3_url: tuple[str, str]):
    from gitax.remote.s3 import S3Transport

    return S3Transport(*s3_url)
