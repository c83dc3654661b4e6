"""Where export connects and as whom: server forms, govc variables, password sources."""

from __future__ import annotations

import pytest

from scalearc_lint.errors import InputError
from scalearc_lint.exporter.connection import (
    ConnectionRequest,
    Credentials,
    Server,
    parse_server,
    resolve_connections,
)


@pytest.mark.parametrize(
    ("text", "server"),
    [
        ("vc.example.com", Server("vc.example.com", 443)),
        ("vc.example.com:8443", Server("vc.example.com", 8443)),
        ("https://vc.example.com/sdk", Server("vc.example.com", 443)),
        ("https://10.0.0.5:9443/sdk", Server("10.0.0.5", 9443)),
        ("[::1]:8443", Server("::1", 8443)),
    ],
)
def test_server_forms(text: str, server: Server) -> None:
    assert parse_server(text)[0] == server


def test_plain_http_is_refused() -> None:
    with pytest.raises(InputError, match="only https"):
        parse_server("http://vc.example.com/sdk")


def test_label_omits_the_default_port() -> None:
    assert Server("vc", 443).label == "vc"
    assert Server("::1", 8443).label == "[::1]:8443"


def test_govc_variables_fill_what_options_leave_out() -> None:
    env = {"GOVC_URL": "https://bob:pw1@vc1/sdk", "GOVC_INSECURE": "true"}
    (conn,) = resolve_connections(ConnectionRequest(), env, prompt=None)
    assert conn.server == Server("vc1")
    assert conn.credentials == Credentials("bob", "pw1")
    assert conn.tls.insecure


def test_options_win_over_govc_variables() -> None:
    env = {
        "GOVC_URL": "vc1",
        "GOVC_USERNAME": "bob",
        "GOVC_PASSWORD": "pw1",
        "MY_PW": "pw2",
        "GOVC_INSECURE": "1",
        "GOVC_TLS_CA_CERTS": "/a.pem:/b.pem",
    }
    request = ConnectionRequest(
        servers=("vc2:444",), user="alice", password_env="MY_PW", ca_files=("/c.pem",)
    )
    (conn,) = resolve_connections(request, env, prompt=None)
    assert (conn.server, conn.credentials) == (Server("vc2", 444), Credentials("alice", "pw2"))
    assert (conn.tls.insecure, conn.tls.ca_files) == (False, ("/c.pem",))


def test_prompt_only_when_no_password_is_given() -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed"

    request = ConnectionRequest(servers=("vc",), user="bob")
    (conn,) = resolve_connections(request, {}, prompt)
    assert conn.credentials.password == "typed"
    assert asked == ["Password for bob: "]


def test_password_env_must_exist() -> None:
    request = ConnectionRequest(servers=("vc",), user="bob", password_env="NOPE")
    with pytest.raises(InputError, match="NOPE: that environment variable is not set"):
        resolve_connections(request, {}, prompt=None)


def test_password_is_not_in_repr() -> None:
    assert "s3cret" not in repr(Credentials("bob", "s3cret"))
