"""Redirect targets that come from requests."""
from urllib.parse import urlsplit


def local_path(target: str | None, fallback: str) -> str:
    """`target` when it is a path on this site, else `fallback`: no open redirects to look-alike sites."""
    # Control characters (CR, LF) would split the Location header; a backslash reads as a slash in browsers.
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and target.isprintable()):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return fallback
