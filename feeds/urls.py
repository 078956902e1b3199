"""Public URLs of the ``public/`` tree: the checked https base URL, file URLs, the show's guid."""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlsplit

from hotline.errors import InvalidInput

PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
"""The namespace the Podcasting 2.0 spec fixes for ``podcast:guid``."""


def check_base_url(value: str) -> str:
    """The base URL without a trailing slash, or ``InvalidInput`` saying why it cannot serve.

    Podcast apps (Apple first) refuse plain http, so only ``https://host[/path]`` passes.
    """
    text = (value or "").strip()
    parts = urlsplit(text)
    if parts.scheme.lower() != "https":
        raise InvalidInput(
            f"base URL {value!r} must start with https:// (podcast apps refuse plain http); "
            "set feeds.base_url in hotline.toml or pass --base-url"
        )
    if not parts.hostname:
        raise InvalidInput(f"base URL {value!r} has no host name")
    if parts.query or parts.fragment:
        raise InvalidInput(f"base URL {value!r} must not have a query (?…) or fragment (#…)")
    if any(ch.isspace() for ch in text):
        raise InvalidInput(f"base URL {value!r} contains white space")
    return text.rstrip("/")


def public_url(base_url: str, relative: str) -> str:
    """The absolute URL of ``relative`` (a path under ``public/``), percent-encoded."""
    return f"{base_url}/{quote(relative.lstrip('/'), safe='/')}"


def podcast_guid(feed_url: str) -> str:
    """``podcast:guid``: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))
