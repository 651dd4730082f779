"""`make lab` as a learner meets it: trusted chapters, no news prompt, no kernel warning.

Starts the real target on a free port (no browser), then asks the running JupyterLab what a
learner's browser would get: the notification settings, a kernel's start-up log, and whether
each chapter notebook is trusted (so its stored animations show without a re-run).
"""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbformat.sign import NotebookNotary

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
TOKEN = "nnlib-lab-test"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(port, path, method="GET", body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("lab") / "lab.log"
    args = f"--no-browser --ServerApp.port={port} --IdentityProvider.token={TOKEN}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _api(port, "/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"make lab did not start:\n{log_path.read_text()}")
                time.sleep(0.5)
        yield port, log_path
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def _kernel_bound(kernel_id):
    """True once the kernel process has written its connection file and accepts a client."""
    from jupyter_client import BlockingKernelClient
    from jupyter_core.paths import jupyter_runtime_dir

    path = Path(jupyter_runtime_dir()) / f"kernel-{kernel_id}.json"
    if not path.exists():
        return False
    client = BlockingKernelClient(connection_file=str(path))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=5)
        return True
    except RuntimeError:
        return False
    finally:
        client.stop_channels()


def test_news_prompt_and_update_check_are_off(lab):
    port, _ = lab
    # lab/overrides.json becomes the default of each setting (a learner may still change it)
    plugin = _api(port, "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    defaults = {k: v.get("default") for k, v in plugin["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false"  # "none" would ask the learner
    assert defaults["checkForUpdates"] is False


def test_kernel_starts_without_the_unencrypted_tcp_warning(lab):
    port, log_path = lab
    kernel = _api(port, "/api/kernels", method="POST", body={"name": "python3"})
    try:
        deadline = time.monotonic() + 60
        # The kernel writes its start-up messages (the TCP warning among them) to the
        # server's log once it has bound its sockets; wait until it has.
        while not _kernel_bound(kernel["id"]):
            assert time.monotonic() < deadline, "the kernel did not start within 60 s"
            time.sleep(0.5)
        time.sleep(1.0)
        log = log_path.read_text()
        assert f"Kernel started: {kernel['id']}" in log
        assert "without encryption" not in log, log
    finally:
        _api(port, f"/api/kernels/{kernel['id']}", method="DELETE")


def test_chapters_are_trusted(lab):
    notary = NotebookNotary()
    untrusted = [p.name for p in CHAPTERS if not notary.check_signature(nbformat.read(p, 4))]
    assert not untrusted, f"make lab left these notebooks untrusted: {untrusted}"
