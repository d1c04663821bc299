"""`kling-preview send` / `status` against a Kling-compatible server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import keyring
import keyring.backend
import pytest
from conftest import arrow_project
from kling_server import HTTP_STATUS, Fault, KlingServer

from kling_preview import cli
from kling_preview.core.projectfile import save_project
from kling_preview.core.send.client import Backoff, KlingClient
from kling_preview.core.send.errors import CODE_LINES, KlingAPIError
from kling_preview.core.send.keys import Keys

ACCESS, SECRET = "ak-test-access-1234", "sk-SECRET-never-shown-9f8e7d6c5b4a3210"
VIDEO = bytes(range(256)) * 1200  # 300 KB: several chunks, so a cut transfer leaves a real partial file
FAST = ["--poll-interval", "0.01"]


@pytest.fixture
def server():
    srv = KlingServer(ACCESS, SECRET, video=VIDEO)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> str:
    """A small valid project (the bundled sample is large: encoding it would dominate these tests)."""
    path = tmp_path_factory.mktemp("small") / "small.klproj"
    save_project(arrow_project(3, (300, 120)), path)
    return str(path)


@pytest.fixture
def keys_in_env(monkeypatch):
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("KLING_SECRET_KEY", SECRET)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out and SECRET not in err
    return code, out, err


def assert_no_secret_under(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_send_wait_posts_the_export_request_and_downloads_the_video(small, server, keys_in_env, tmp_path, capsys):
    code, _, _ = run(capsys, "export", small, "-o", str(tmp_path / "bundle"))
    assert code == 0
    out_dir = tmp_path / "videos"
    code, out, err = run(capsys, "send", small, "--base-url", server.url, "--wait", "-o", str(out_dir), *FAST)
    assert code == 0, err
    task_id = out.splitlines()[0]
    assert task_id in server.tasks
    posted = [r for r in server.requests if r.method == "POST"]
    assert len(posted) == 1
    assert posted[0].body == (tmp_path / "bundle" / "request.json").read_bytes()
    video = out_dir / f"{task_id}.mp4"
    assert video.read_bytes() == VIDEO
    assert f"wrote {video}" in out
    assert "succeed" in err
    assert not list(out_dir.glob(".*part"))
    # every call carried its own token, signed with the secret, issued by the access key
    tokens = [r.headers["Authorization"] for r in server.requests if r.path.startswith("/v1/")]
    assert len(tokens) >= 4
    for claims in server.tokens:
        assert claims["iss"] == ACCESS and claims["exp"] - claims["nbf"] == 1805
    assert_no_secret_under(tmp_path)


def test_send_without_wait_prints_the_task_id_and_how_to_check(small, server, keys_in_env, capsys):
    code, out, err = run(capsys, "send", small, "--base-url", server.url)
    assert code == 0
    task_id = out.strip()
    assert task_id in server.tasks
    assert f"kling-preview status {task_id} --wait" in err
    code, out, _ = run(capsys, "status", task_id, "--base-url", server.url)
    assert code == 0 and out.strip() == f"{task_id}: submitted"


def test_failed_task_exits_1_with_kling_reason(small, server, keys_in_env, tmp_path, capsys):
    server.lifecycle = ("submitted", "processing", "failed")
    code, _, err = run(capsys, "send", small, "--base-url", server.url, "--wait", "-o", str(tmp_path), *FAST)
    assert code == 1
    assert "failed: Failure to pass the risk control system" in err
    assert not list(tmp_path.iterdir())


def test_every_documented_code_is_one_clear_line(server):
    with KlingClient(Keys(ACCESS, SECRET), server.url) as client:
        for code in sorted(CODE_LINES):
            server.faults.append(Fault("error", code))
            with pytest.raises(KlingAPIError) as caught:
                client.submit('{"image": "x"}')
            assert str(caught.value) == (
                f"{CODE_LINES[code]} (code {code}, HTTP {HTTP_STATUS[code]}: simulated error) [request_id req-test]"
            )
            assert caught.value.transient == (code in (1302, 1303, 5000, 5001, 5002))
    assert not server.tasks


def test_a_refusal_on_submit_is_one_line_and_exit_1(small, server, keys_in_env, capsys):
    server.faults.append(Fault("error", 1102))
    exit_code, out, err = run(capsys, "send", small, "--base-url", server.url)
    assert exit_code == 1 and out == ""
    assert err.strip().splitlines() == [
        f"error: {CODE_LINES[1102]} (code 1102, HTTP 429: simulated error) [request_id req-test]"
    ]


def test_rate_limit_line_says_when_to_retry(small, server, keys_in_env, capsys):
    server.faults.append(Fault("error", 1303))
    _, _, err = run(capsys, "send", small, "--base-url", server.url)
    assert "HTTP 429" in err and "try again" in err


def test_wrong_secret_is_refused_as_invalid_token(small, server, monkeypatch, capsys):
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("KLING_SECRET_KEY", "sk-not-the-right-one")
    code, _, err = run(capsys, "send", small, "--base-url", server.url)
    assert code == 1 and "code 1002" in err and "token is invalid" in err
    assert not server.tasks


def test_waiting_rides_out_rate_limits_server_errors_and_drops(small, server, keys_in_env, tmp_path, capsys):
    code, out, _ = run(capsys, "send", small, "--base-url", server.url)
    task_id = out.strip()
    server.faults += [Fault("error", 1303), Fault("drop"), Fault("error", 5000), Fault("error", 5001)]
    code, out, err = run(capsys, "status", task_id, "--base-url", server.url, "--wait", "-o", str(tmp_path), *FAST)
    assert code == 0, err
    assert (tmp_path / f"{task_id}.mp4").read_bytes() == VIDEO
    assert not server.faults


def test_waiting_gives_up_after_repeated_server_errors_with_a_resume_hint(server, keys_in_env, tmp_path, capsys):
    task_id = server.add_task({"image": "x"})
    server.faults += [Fault("error", 5000)] * 10
    code, _, err = run(capsys, "status", task_id, "--base-url", server.url, "--wait", "-o", str(tmp_path), *FAST)
    assert code == 1
    assert "Kling's server had an internal error" in err
    assert f"kling-preview status {task_id} --wait -o {tmp_path}" in err


def test_unknown_task_is_one_line(server, keys_in_env, capsys):
    code, _, err = run(capsys, "status", "nosuchtask", "--base-url", server.url)
    assert code == 1 and "code 1203" in err and len(err.strip().splitlines()) == 1


def test_slow_answer_times_out_and_is_retried_while_waiting(server):
    task_id = server.add_task({"image": "x"}, ["processing", "succeed"])
    server.faults.append(Fault("slow", seconds=1.0))
    with KlingClient(Keys(ACCESS, SECRET), server.url, timeout=0.2) as client:
        with pytest.raises(KlingAPIError) as caught:
            client.query(task_id)
        assert caught.value.transient and "did not answer in time" in str(caught.value)
        server.faults.append(Fault("slow", seconds=1.0))
        task = client.wait(task_id, Backoff(first=0.01, longest=0.01), sleep=lambda s: None)
    assert task.status == "succeed" and task.video_urls


def test_dropped_submit_is_not_retried(small, server, keys_in_env, capsys):
    server.faults.append(Fault("drop"))
    code, _, err = run(capsys, "send", small, "--base-url", server.url)
    assert code == 1 and "cannot reach" in err
    assert sum(r.method == "POST" for r in server.requests) == 1


def test_cut_download_resumes_with_a_range_request(server, keys_in_env, tmp_path, capsys):
    task_id = server.add_task({"image": "x"}, ["succeed"])
    server.faults.append(Fault("cut"))
    code, _, err = run(capsys, "status", task_id, "--base-url", server.url, "--wait", "-o", str(tmp_path), *FAST)
    assert code == 0, err
    assert (tmp_path / f"{task_id}.mp4").read_bytes() == VIDEO
    ranges = [r.headers.get("Range") for r in server.requests if r.path.startswith("/videos/")]
    assert len(ranges) == 2 and ranges[0] is None
    resumed_at = int(ranges[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= len(VIDEO) // 2


def test_a_partial_file_from_an_earlier_run_is_resumed(server, keys_in_env, tmp_path, capsys):
    task_id = server.add_task({"image": "x"}, ["succeed"])
    (tmp_path / f".{task_id}.mp4.part").write_bytes(VIDEO[:1000])
    code, _, _ = run(capsys, "status", task_id, "--base-url", server.url, "-o", str(tmp_path))
    assert code == 0
    assert (tmp_path / f"{task_id}.mp4").read_bytes() == VIDEO
    assert [r.headers.get("Range") for r in server.requests if r.path.startswith("/videos/")] == ["bytes=1000-"]


def test_ctrl_c_stops_waiting_without_cancelling_and_says_how_to_resume(server, keys_in_env, tmp_path, monkeypatch,
                                                                         capsys):  # fmt: skip
    task_id = server.add_task({"image": "x"}, ["processing"])

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("kling_preview.core.send.client.time.sleep", interrupt)
    code, _, err = run(capsys, "status", task_id, "--base-url", server.url, "--wait", "-o", str(tmp_path))
    assert code == 130
    assert f"hint: resume with: kling-preview status {task_id} --wait -o {tmp_path}" in err
    assert all(line.startswith(("error: ", "warning: ", "note: ", "hint: ")) for line in err.splitlines())
    assert {r.method for r in server.requests} == {"GET"}  # nothing asked the server to cancel


def test_missing_keys_is_a_usage_error_naming_the_variables(small, server, monkeypatch, capsys):
    monkeypatch.delenv("KLING_ACCESS_KEY", raising=False)
    monkeypatch.delenv("KLING_SECRET_KEY", raising=False)
    monkeypatch.setattr(keyring, "get_keyring", lambda: FailKeyring())
    code, _, err = run(capsys, "send", small, "--base-url", server.url)
    assert code == 2
    assert "the OS keyring is not available" in err
    assert "set KLING_ACCESS_KEY and KLING_SECRET_KEY" in err
    assert not server.requests


class FailKeyring(keyring.backend.KeyringBackend):
    priority = 0  # type: ignore[assignment]

    def get_password(self, service, username):
        raise AssertionError("a keyring without priority must not be asked")

    def set_password(self, service, username, password):
        raise NotImplementedError

    def delete_password(self, service, username):
        raise NotImplementedError


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self):
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


def test_keys_from_the_os_keyring(small, server, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("KLING_ACCESS_KEY", raising=False)
    monkeypatch.delenv("KLING_SECRET_KEY", raising=False)
    store = MemoryKeyring()
    store.set_password("kling-preview", "access_key", ACCESS)
    store.set_password("kling-preview", "secret_key", SECRET)
    monkeypatch.setattr(keyring, "get_keyring", lambda: store)
    monkeypatch.setattr(keyring, "get_password", store.get_password)
    code, out, _ = run(capsys, "send", small, "--base-url", server.url)
    assert code == 0 and out.strip() in server.tasks


def test_keys_repr_hides_them():
    assert ACCESS not in repr(Keys(ACCESS, SECRET)) and SECRET not in repr(Keys(ACCESS, SECRET))


def test_refused_project_sends_nothing(small, server, keys_in_env, tmp_path, capsys):
    request = tmp_path / "request.json"
    cli.main(["export", small, "-o", str(tmp_path / "b")])
    body = json.loads((tmp_path / "b" / "request.json").read_text())
    body["duration"] = "10"  # masks allow only 5 s
    request.write_text(json.dumps(body))
    capsys.readouterr()
    code, _, err = run(capsys, "send", str(request), "--base-url", server.url)
    assert code == 1 and "error:" in err
    assert not server.requests


def test_token_is_hs256_with_the_documented_claims():
    from kling_preview.core.send.auth import make_token

    token = make_token(ACCESS, SECRET, now=1_700_000_000)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False})
    assert claims == {"iss": ACCESS, "exp": 1_700_001_800, "nbf": 1_699_999_995}


def test_variants_change_only_prompt_and_cfg_scale(small):
    from kling_preview.core.errors import InvalidError
    from kling_preview.core.inputs import load_input
    from kling_preview.core.send.request import request_text, variants

    text, _ = request_text(load_input(small)[0])
    out = [json.loads(t) for t in variants(text, ["a", "b"], [0.2, 0.9])]
    assert [(b["prompt"], b["cfg_scale"]) for b in out] == [("a", 0.2), ("a", 0.9), ("b", 0.2), ("b", 0.9)]
    base = json.loads(text)
    for body in out:
        assert {k: v for k, v in body.items() if k not in ("prompt", "cfg_scale")} == {
            k: v for k, v in base.items() if k not in ("prompt", "cfg_scale")
        }
    assert [json.loads(t)["prompt"] for t in variants(text, cfg_scales=[0.1])] == [base["prompt"]]
    with pytest.raises(InvalidError, match="outside"):
        variants(text, cfg_scales=[1.5])
