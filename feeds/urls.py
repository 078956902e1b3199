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
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"base URL {value!r} carries a user name or password; leave it out")
    return to_uri(text.rstrip("/"))


_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def to_uri(url: str) -> str:
    """``url`` as feed readers and HTTP clients need it: ASCII only (RFC 3986).

    A host in Chinese (电台.中国) becomes its IDNA form (xn--…), a path in Chinese
    (/热线) is percent-encoded; what is already encoded stays as it is.

    Raises:
        InvalidInput: a host IDNA cannot encode, or a port that is not a number.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise InvalidInput(f"base URL {url!r} has no usable host and port ({exc})") from exc
    if ":" in ascii_host:
        ascii_host = f"[{ascii_host}]"  # an IPv6 address
    netloc = ascii_host if port is None else f"{ascii_host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}{quote(parts.path, safe=_PATH_SAFE)}"


def public_url(base_url: str, relative: str) -> str:
    """The absolute URL of ``relative`` (a path under ``public/``), percent-encoded."""
    return f"{base_url}/{quote(relative.lstrip('/'), safe='/')}"


def podcast_guid(feed_url: str) -> str:
    """``podcast:guid``: UUIDv5 of the feed URL without its scheme and trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))
