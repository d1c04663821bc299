"""The bearer token Kling expects: an HS256 JWT over {iss: access key, exp, nbf}, signed with the secret key.

A fresh token per request, so a long wait never outlives its token.
"""

from __future__ import annotations

import time
import warnings

import jwt

TOKEN_SECONDS = 1800
CLOCK_SKEW = 5  # nbf a little in the past, so a server clock slightly behind ours still accepts the token


def make_token(access_key: str, secret_key: str, now: float | None = None) -> str:
    """A signed token valid from `now - CLOCK_SKEW` to `now + TOKEN_SECONDS`."""
    moment = int(time.time() if now is None else now)
    payload = {"iss": access_key, "exp": moment + TOKEN_SECONDS, "nbf": moment - CLOCK_SKEW}
    with warnings.catch_warnings():  # the key's length is Kling's choice, not something the user can fix
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(payload, secret_key, algorithm="HS256", headers={"typ": "JWT"})
