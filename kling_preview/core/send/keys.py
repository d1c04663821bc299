"""Where the Kling keys come from: the environment first, then the OS keyring.

The keys live in memory only: they are never written to projects, settings, logs or crash reports, and
their repr hides them so a traceback or a debug print cannot leak the secret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import SendUsageError

ACCESS_ENV, SECRET_ENV = "KLING_ACCESS_KEY", "KLING_SECRET_KEY"
KEYRING_SERVICE = "kling-preview"
KEYRING_NAMES = ("access_key", "secret_key")


@dataclass(frozen=True)
class Keys:
    """The access key (a public identifier) and the secret key (never shown)."""

    access: str = field(repr=False)
    secret: str = field(repr=False)
    source: str = "environment"

    def __repr__(self) -> str:
        return f"Keys(source={self.source!r})"


def load_keys() -> Keys:
    """The keys from KLING_ACCESS_KEY / KLING_SECRET_KEY, else from the OS keyring; a usage error names both."""
    access = os.environ.get(ACCESS_ENV, "").strip()
    secret = os.environ.get(SECRET_ENV, "").strip()
    if access and secret:
        return Keys(access, secret, "environment")
    stored, why_not = _from_keyring()
    if stored is not None:
        return stored
    missing = [name for name, value in ((ACCESS_ENV, access), (SECRET_ENV, secret)) if not value]
    where = (
        f"the OS keyring is not available ({why_not})"
        if why_not
        else f"or store them in the OS keyring under service '{KEYRING_SERVICE}' as "
        f"'{KEYRING_NAMES[0]}' and '{KEYRING_NAMES[1]}'"
    )
    raise SendUsageError(f"no Kling keys: set {' and '.join(missing)} (from Kling's developer console); {where}")


def _from_keyring() -> tuple[Keys | None, str]:
    """Both keys from the keyring, or None and (when the keyring itself is unusable) the reason."""
    try:
        import keyring
    except ImportError as exc:
        return None, f"keyring is not installed: {exc.name or exc}"
    try:
        backend = keyring.get_keyring()
        if backend.priority <= 0:  # keyring's null/fail backends: no usable store on this system
            return None, f"no keyring backend ({type(backend).__name__})"
        access, secret = (keyring.get_password(KEYRING_SERVICE, name) for name in KEYRING_NAMES)
    except Exception as exc:  # a third-party backend may raise anything; the env vars still work
        return None, f"{type(exc).__name__} from the keyring"
    if access and secret:
        return Keys(access.strip(), secret.strip(), "keyring"), ""
    return None, ""
