"""The URL a provider requested, which is what it signed.

Behind a tunnel or load balancer the request we see says http://10.0.0.5:8765/, while the
provider signed https://bot.example.com/. PUBLIC_URL names the public base outright; with
TRUSTED_PROXY=1 the X-Forwarded-Proto/Host headers are believed instead. Without either,
forwarded headers are ignored: anyone can send them, and a signature check that trusts
them can be steered to a URL of the attacker's choosing.
"""

from starlette.datastructures import URL, Headers

_TO_WS = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}
_TO_HTTP = {"wss": "https", "ws": "http", "https": "https", "http": "http"}


def _first(value: str | None) -> str | None:
    # Proxy chains append: "https, http" means the outermost hop spoke https.
    return value.split(",")[0].strip() if value else None


def public_base(
    url: URL, headers: Headers, *, public_url: str | None, trusted_proxy: bool, websocket: bool
) -> str:
    """Scheme and host (plus PUBLIC_URL's path, if any) as the provider sees them."""
    if public_url:
        scheme, _, rest = public_url.rstrip("/").partition("://")
    elif trusted_proxy:
        scheme = _first(headers.get("x-forwarded-proto")) or url.scheme
        rest = _first(headers.get("x-forwarded-host")) or headers.get("host") or url.netloc
    else:
        scheme, rest = url.scheme, headers.get("host") or url.netloc
    table = _TO_WS if websocket else _TO_HTTP
    return f"{table.get(scheme.lower(), scheme)}://{rest}"


def seen_url(
    url: URL, headers: Headers, *, public_url: str | None, trusted_proxy: bool, websocket: bool
) -> str:
    """The full URL (path and query included) the provider requested and signed."""
    base = public_base(
        url, headers, public_url=public_url, trusted_proxy=trusted_proxy, websocket=websocket
    )
    return f"{base}{url.path}" + (f"?{url.query}" if url.query else "")
