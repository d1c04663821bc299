"""Kling's documented error codes, each turned into one line that tells the user what to do.

The codes are Kling's (the envelope's `code`), not the HTTP status; see shared/kling-spec.md.
"""

from __future__ import annotations

from ..errors import KlingPreviewError

#: Code -> what it means for the user. Kling documents 1000-1004, 1100-1103, 1200-1203, 1300-1304, 5000-5002.
CODE_LINES: dict[int, str] = {
    1000: "authentication failed: check KLING_ACCESS_KEY / KLING_SECRET_KEY",
    1001: "authentication failed: the request carried no token",
    1002: "authentication failed: the token is invalid (check KLING_ACCESS_KEY / KLING_SECRET_KEY)",
    1003: "authentication failed: the token is not valid yet (check the computer's clock)",
    1004: "authentication failed: the token has expired (check the computer's clock)",
    1100: "account problem: check the account's settings on Kling's developer console",
    1101: "account in arrears: settle the balance on Kling's developer console",
    1102: "no balance: the resource pack is used up or has expired",
    1103: "no permission: this account cannot use the requested model or feature",
    1200: "invalid request: run `kling-preview validate` on the input",
    1201: "invalid parameter: run `kling-preview validate` on the input",
    1202: "invalid request method: check --base-url",
    1203: "unknown resource: check --base-url and the model name",
    1300: "refused by Kling's platform policy",
    1301: "refused by Kling's content policy (image or prompt)",
    1302: "rate limit: requests too fast; wait a minute and try again",
    1303: "concurrency limit: too many tasks at once for the resource pack; try again when one finishes",
    1304: "refused by Kling's IP allow-list policy: check the allowed addresses on the developer console",
    5000: "Kling's server had an internal error; try again later",
    5001: "Kling's server is unavailable (maintenance); try again later",
    5002: "Kling's server timed out; try again later",
}

#: Codes worth retrying while polling: rate/concurrency limits and server errors pass on their own.
TRANSIENT_CODES = frozenset({1302, 1303, 5000, 5001, 5002})


class KlingAPIError(KlingPreviewError):
    """Kling refused a request or could not be reached; the message is one line for the user (exit 1)."""

    exit_code = 1

    def __init__(self, message: str, *, code: int | None = None, transient: bool = False):
        super().__init__(message)
        self.code = code
        self.transient = transient


class SendUsageError(KlingPreviewError):
    """The command was called wrongly (no keys, a bad base URL); exit 2."""

    exit_code = 2


def describe_code(code: object, message: object, request_id: object, http_status: int | None) -> str:
    """One line for an error envelope: what to do first, then Kling's own code, message and request id."""
    known = CODE_LINES.get(code) if isinstance(code, int) else None
    if known is None:
        family = _family(code)
        known = family or "Kling refused the request"
    text = f"{known} (code {code}"
    if http_status is not None:
        text += f", HTTP {http_status}"
    text += f": {_one_line(message) or 'no message'})"
    if request_id:
        text += f" [request_id {_one_line(request_id)}]"
    return text


def _family(code: object) -> str | None:
    """An undocumented code still gets the meaning of its documented range."""
    if not isinstance(code, int):
        return None
    for start, line in ((1000, 1000), (1100, 1100), (1200, 1200), (1300, 1300), (5000, 5000)):
        if start <= code < start + 100:
            return CODE_LINES[line]
    return None


def _one_line(value: object) -> str:
    return " ".join(str(value or "").split())[:300]
