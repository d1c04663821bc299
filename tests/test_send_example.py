"""examples/send_to_kling.py: the JWT, the HTTP requests and the messages, with urllib's opener faked (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import io
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "send_to_kling.py"
ACCESS, SECRET = "ak-test-123", "sk-test-456"
BASE = "https://api.example.test"


def _load():
    spec = importlib.util.spec_from_file_location("send_to_kling", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


send = _load()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _verify(token: str, secret: str) -> dict:
    """Check the signature by recomputing the HMAC; returns the payload."""
    header_b64, payload_b64, sig_b64 = token.split(".")
    expected = hmac.new(secret.encode(), f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_unb64(sig_b64), expected), "signature does not verify with the secret key"
    assert json.loads(_unb64(header_b64)) == {"alg": "HS256", "typ": "JWT"}
    return json.loads(_unb64(payload_b64))


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FakeOpener:
    """Stands in for urllib's opener: records each Request, answers from a list (dicts or exceptions)."""

    def __init__(self, answers: list):
        self.answers = list(answers)
        self.requests: list[urllib.request.Request] = []

    def open(self, request, timeout=None):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return FakeResponse(json.dumps(answer).encode())


@pytest.fixture
def opener(monkeypatch):
    def install(*answers):
        fake = FakeOpener(list(answers))
        monkeypatch.setattr(urllib.request, "build_opener", lambda *handlers: fake)
        return fake

    return install


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("KLING_SECRET_KEY", SECRET)
    monkeypatch.delenv("KLING_API_BASE", raising=False)


@pytest.fixture
def export_dir(tmp_path) -> Path:
    body = {
        "model_name": "kling-v1",
        "mode": "std",
        "duration": "5",
        "image": base64.b64encode(b"\x89PNG fake").decode(),
        "static_mask": base64.b64encode(b"mask").decode(),
        "dynamic_masks": [{"mask": "bWFzaw==", "trajectories": [{"x": 10, "y": 300}, {"x": 200, "y": 280}]}],
        "prompt": "clouds drifting",
        "cfg_scale": 0.5,
    }
    (tmp_path / "request.json").write_text(json.dumps(body))
    return tmp_path


def envelope(**data) -> dict:
    return {"code": 0, "message": "SUCCEED", "request_id": "req-1", "data": data}


def test_jwt_is_hs256_signed_with_the_secret_and_has_the_right_claims():
    now = 1_790_000_000
    token = send.make_jwt(ACCESS, SECRET, now=now)
    assert "=" not in token  # base64url without padding
    payload = _verify(token, SECRET)
    assert payload == {"iss": ACCESS, "exp": now + 1800, "nbf": now - 5}
    with pytest.raises(AssertionError):
        _verify(token, "another-secret")


def test_jwt_defaults_to_the_current_time():
    before = int(time.time())
    payload = _verify(send.make_jwt(ACCESS, SECRET), SECRET)
    after = int(time.time())
    assert before + 1800 <= payload["exp"] <= after + 1800
    assert before - 5 <= payload["nbf"] <= after - 5


def test_submit_posts_request_json_with_bearer_token(keys, export_dir, opener, capsys):
    fake = opener(envelope(task_id="task-42", task_status="submitted"))
    assert send.main([str(export_dir), "--base-url", BASE + "/"]) == 0

    (request,) = fake.requests
    assert request.full_url == f"{BASE}/v1/videos/image2video"
    assert request.get_method() == "POST"
    assert request.get_header("Content-type") == "application/json"
    scheme, token = request.get_header("Authorization").split(" ")
    assert scheme == "Bearer"
    assert _verify(token, SECRET)["iss"] == ACCESS
    assert json.loads(request.data) == json.loads((export_dir / "request.json").read_text())
    out = capsys.readouterr().out
    assert "task-42" in out


def test_request_json_path_and_env_base_url_are_accepted(keys, export_dir, opener, monkeypatch):
    monkeypatch.setenv("KLING_API_BASE", "https://api.klingai.com")
    fake = opener(envelope(task_id="t", task_status="submitted"))
    assert send.main([str(export_dir / "request.json")]) == 0
    assert fake.requests[0].full_url == "https://api.klingai.com/v1/videos/image2video"


def test_poll_queries_the_task_until_it_succeeds_and_prints_the_video_url(keys, export_dir, opener, capsys):
    url = "https://cdn.example.test/video.mp4"
    result = {"videos": [{"id": "v", "url": url, "duration": "5"}]}
    fake = opener(
        envelope(task_id="t1", task_status="submitted"),
        envelope(task_id="t1", task_status="processing"),
        envelope(task_id="t1", task_status="succeed", task_result=result),
    )
    assert send.main([str(export_dir), "--poll", "--interval", "0", "--base-url", BASE]) == 0

    posts = [r for r in fake.requests if r.get_method() == "POST"]
    gets = [r for r in fake.requests if r.get_method() == "GET"]
    assert len(posts) == 1 and len(gets) == 2
    assert all(r.full_url == f"{BASE}/v1/videos/image2video/t1" for r in gets)
    assert all(r.data is None for r in gets)
    for r in gets:
        assert _verify(r.get_header("Authorization").removeprefix("Bearer "), SECRET)["iss"] == ACCESS
    assert capsys.readouterr().out.strip().splitlines()[-1] == url


def test_failed_task_reports_task_status_msg(keys, opener, capsys):
    opener(envelope(task_id="t9", task_status="failed", task_status_msg="Failure to pass the risk control system"))
    assert send.main(["--task", "t9", "--interval", "0", "--base-url", BASE]) == 1
    err = capsys.readouterr().err
    assert "t9 failed" in err
    assert "Failure to pass the risk control system" in err


def test_http_error_shows_kling_code_message_and_hint(keys, export_dir, opener, capsys):
    body = json.dumps({"code": 1002, "message": "Authorization is invalid", "request_id": "r-77"}).encode()
    error = urllib.error.HTTPError(f"{BASE}/v1/videos/image2video", 401, "Unauthorized", {}, io.BytesIO(body))
    opener(error)
    assert send.main([str(export_dir), "--base-url", BASE]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "1002" in err and "Authorization is invalid" in err
    assert "KLING_ACCESS_KEY" in err  # the hint for the 1000-1004 auth codes
    assert "r-77" in err


def test_refusal_with_http_200_is_an_error(keys, export_dir, opener, capsys):
    opener({"code": 1201, "message": "dynamic_masks invalid", "request_id": "r", "data": None})
    assert send.main([str(export_dir), "--base-url", BASE]) == 1
    err = capsys.readouterr().err
    assert "1201" in err and "dynamic_masks invalid" in err


def test_unreachable_host_is_one_clear_line(keys, export_dir, opener, capsys):
    opener(urllib.error.URLError("Name or service not known"))
    assert send.main([str(export_dir), "--base-url", BASE]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot reach") and "Name or service not known" in err  # and why
    assert len(err.splitlines()) == 1


def test_missing_keys_are_named(monkeypatch, export_dir, opener, capsys):
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
    monkeypatch.delenv("KLING_SECRET_KEY", raising=False)
    fake = opener()
    assert send.main([str(export_dir)]) == 2
    assert "KLING_SECRET_KEY" in capsys.readouterr().err
    assert fake.requests == []


def test_missing_request_json_is_a_usage_error(keys, tmp_path, opener, capsys):
    fake = opener()
    assert send.main([str(tmp_path)]) == 2
    assert "request.json not found" in capsys.readouterr().err
    assert fake.requests == []
