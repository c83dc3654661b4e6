"""A password in a server URL never reaches a message, whatever characters it holds."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from scalearc_lint.exporter.connection import parse_server, redact_server
from scalearc_lint.text import redact_urls
from tests.hardening.kit import run_in_process as run_cli

PASSWORDS = [
    "Zq9/S3cr3t#pw",
    "p@Ss@w0rd",
    "what?ever",
    "co:lo:ns",
    "50%off",
    "p%40ss",
    "sl/ash#hash?q@at:colon%",
    "#leading",
    "trailing@",
    "ünï©ødé",
    "with space",
    "a*b&c=d;e",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _leaks(password: str, text: str) -> bool:
    """Whether the password, or any long piece of it, shows in ``text``."""
    pieces = [p for p in (password, *password.replace("@", " ").split()) if len(p) >= 4]
    return any(piece in text for piece in pieces)


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize(
    "form",
    [
        "https://user:{pw}@vc.example:99999/sdk",  # invalid port
        "https://user:{pw}@vc.example/sdk",  # a password on the command line
        "https://user:{pw}@..:443/sdk",  # an invalid host name
        "http://user:{pw}@vc.example/sdk",  # not https
        "user:{pw}@vc.example",  # no scheme
    ],
)
def test_server_option_messages_never_show_the_password(
    password: str, form: str, tmp_path: Path
) -> None:
    url = form.format(pw=password)
    result = run_cli(["export", "--server", url, "--user", "u", "-o", tmp_path / "s.json"])
    assert result.code == 2
    assert not _leaks(password, result.stdout + result.stderr), result.stderr
    assert "***" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("password", PASSWORDS)
def test_govc_url_messages_never_show_the_password(password: str, tmp_path: Path) -> None:
    for url in (f"https://user:{password}@vc.example:99999/sdk", f"https://u:{password}@..:1/"):
        result = run_cli(["export", "-o", tmp_path / "s.json"], env={"GOVC_URL": url})
        assert result.code == 2
        assert not _leaks(password, result.stderr), result.stderr


@pytest.mark.parametrize("password", PASSWORDS[:6])
def test_a_connection_failure_with_govc_url_never_shows_the_password(
    password: str, tmp_path: Path
) -> None:
    url = f"https://user:{password}@127.0.0.1:{_free_port()}/sdk"
    result = run_cli(["export", "-o", tmp_path / "s.json"], env={"GOVC_URL": url})
    assert result.code == 2
    assert "connection refused" in result.stderr
    assert not _leaks(password, result.stderr)
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("password", PASSWORDS[:6])
def test_a_stray_url_argument_is_shown_without_its_password(password: str) -> None:
    result = run_cli(["export", f"https://user:{password}@vc.example/sdk", "-o", "x.json"])
    assert result.code == 2
    assert "unrecognized arguments" in result.stderr
    assert not _leaks(password, result.stderr)


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_password_in_a_servers_file_is_refused_without_showing_it(
    password: str, tmp_path: Path
) -> None:
    servers = tmp_path / "servers.txt"
    servers.write_text(f"https://user:{password}@vc.example/sdk\n")
    result = run_cli(["export", "--servers-file", servers, "--user", "u", "-o", tmp_path / "s"])
    assert result.code == 2
    assert not _leaks(password, result.stderr)


@pytest.mark.parametrize("password", [p for p in PASSWORDS if " " not in p])
def test_the_url_is_split_at_the_last_at_sign(password: str) -> None:
    server, user, parsed = parse_server(f"https://bob:{password}@vc.example:8443/sdk")
    assert (server.host, server.port, user) == ("vc.example", 8443, "bob")
    # Percent-escapes are decoded as govc decodes them, when all of them are valid.
    assert parsed == ("p@ss" if password == "p%40ss" else password)
    assert password not in redact_server(f"https://bob:{password}@vc.example:8443/sdk")


@pytest.mark.parametrize("password", [p for p in PASSWORDS if " " not in p])
def test_any_message_line_is_redacted(password: str) -> None:
    line = f"oops: https://bob:{password}@vc.example/sdk failed"
    redacted = redact_urls(line)
    assert password not in redacted
    assert redacted == "oops: https://bob:***@vc.example/sdk failed"
