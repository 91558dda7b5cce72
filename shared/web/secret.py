"""The key that signs session cookies."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from shared.config import Settings


class SecretMissing(RuntimeError):
    pass


def session_secret(settings: Settings) -> str:
    """ADGEN_WEB_SECRET; in embedded mode, a random key generated once and kept (0600) in
    ADGEN_HOME/web_secret so that sessions survive a restart. Outside embedded mode there is no
    default: refusing to start beats signing cookies with a guessable key."""
    if settings.web_secret is not None:
        return settings.web_secret.get_secret_value()
    if not settings.embedded:
        raise SecretMissing(
            "set ADGEN_WEB_SECRET (32+ random characters) to run the web app against real services"
        )
    path: Path = settings.home / "web_secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race; use its key
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
