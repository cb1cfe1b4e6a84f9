"""The concurrency benchmark's slow fake provider and CPU counter (no timings asserted)."""

from __future__ import annotations

import base64
import io
import json
import os
import threading

from PIL import Image

from bench.concurrency import SlowOpenAI, group_cpu_s
from tests.fakes.server import RecordedRequest


def _request(tag: str, size: str = "1024x1024") -> RecordedRequest:
    body = {"model": "gpt-image-2.6-flare", "prompt": f"A lighthouse, job {tag}", "size": size}
    return RecordedRequest("POST", "/v1/images/generations", {}, json.dumps(body).encode())


def test_it_answers_with_a_real_image_of_the_size_asked_and_records_the_job() -> None:
    provider = SlowOpenAI(delay_s=0.0)
    response = provider(_request("r0-j1", "1536x1024"))
    assert response.status == 200
    b64 = json.loads(response.body)["data"][0]["b64_json"]
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        assert image.size == (1536, 1024) and image.format == "PNG"
    assert set(provider.received) == set(provider.answered) == {"r0-j1"}
    assert provider.answered["r0-j1"] >= provider.received["r0-j1"]


def test_it_counts_the_requests_it_holds_at_once() -> None:
    provider = SlowOpenAI(delay_s=0.5)
    threads = [threading.Thread(target=provider, args=(_request(f"j{n}"),)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert provider.max_in_flight == 5
    provider.reset_peak()
    assert provider.max_in_flight == 0


def test_group_cpu_counts_this_process_group() -> None:
    assert group_cpu_s(os.getpgrp()) >= 0.0
    assert group_cpu_s(2**22 + 12345) == 0.0  # no such group
