"""Blob keys: "<area>/ab/cd/<id>" fan-out so no directory grows without bound."""

from __future__ import annotations


def _fan_out(area: str, ident: str) -> str:
    return f"{area}/{ident[0:2]}/{ident[2:4]}/{ident}"


def package_key(guid: str) -> str:
    return _fan_out("packages", guid)


def resource_key(sha1: str) -> str:
    return _fan_out("resources", sha1.lower())
