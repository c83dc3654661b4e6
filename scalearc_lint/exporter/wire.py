"""One SOAP call whose answer comes back as the response's bytes, undecoded.

pyVmomi's stub both exchanges a request and decodes its answer into data objects;
for result pages the exporter wants the first half only, so ``exporter.decode`` can
read the bytes. This is that half of ``SoapStubAdapter.InvokeMethod``, on the
stub's own connection pool, cookie and headers: the session is the same one, the
request byte for byte what pyVmomi sends. A fault (HTTP 500) is decoded by pyVmomi
and raised as it would raise it, so faults, session loss included, mean what they
mean everywhere else.
"""

from __future__ import annotations

import gzip
import zlib
from http.client import HTTPException
from http.cookies import SimpleCookie
from typing import Any

from scalearc_lint.exporter._vmomi import SoapAdapter


class UnreadableResponse(Exception):
    """A response that is not a well-formed SOAP answer (truncated, garbled)."""


def invoke_raw(mo: Any, method: str, **args: Any) -> tuple[bytes, Any]:
    """Call ``method`` of managed object ``mo`` and return (the response body, the
    method's result type): the bytes of a successful (HTTP 200) answer."""
    stub = mo._stub
    info = mo._GetMethodInfo(method)
    # pyVmomi's InvokeMethod takes the arguments in the method's parameter order.
    values = [args.get(param.name) for param in info.params]
    request = stub.SerializeRequest(mo, info, values)
    for modifier in stub.requestModifierList:
        request = modifier(request)
    headers = {
        "Cookie": stub.cookie,
        "SOAPAction": stub.versionId,
        "Content-Type": f"text/xml; charset={SoapAdapter.XML_ENCODING}",
        "User-Agent": "scalearc-lint (pyVmomi session)",
        **(stub._customHeaders or {}),
    }
    conn = stub.GetConnection()
    try:
        conn.request("POST", stub.path, request, headers)
        response = conn.getresponse()
        body = response.read()
    except (OSError, HTTPException):
        # As pyVmomi does: the server is probably sick, drop every cached connection.
        conn.close()
        stub.DropConnections()
        raise
    cookie = response.getheader("Set-Cookie") or response.getheader("set-cookie")
    if cookie:
        stub.cookie = cookie
        session_cookie = SimpleCookie(cookie).get(SoapAdapter.COOKIE_NAME)
        if session_cookie:
            SoapAdapter.StubAdapterBase.SetSessionId(stub, session_cookie.value)
    if response.status not in (200, 500):
        conn.close()
        raise HTTPException(f"{response.status} {response.reason}")
    stub.ReturnConnection(conn)
    body = _decompressed(body, response.getheader("Content-Encoding", "identity").lower())
    if response.status == 500:
        fault = pyvmomi_decode(body, info.result, stub)
        if isinstance(fault, BaseException):
            raise fault
        raise UnreadableResponse("HTTP 500 without a SOAP fault")
    return body, info.result


def _decompressed(body: bytes, encoding: str) -> bytes:
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableResponse(f"a {encoding} body that does not decompress ({exc})") from None
    return body


def pyvmomi_decode(body: bytes, result_type: Any, stub: Any) -> Any:
    """pyVmomi's decoding of a response body, as ``InvokeMethod`` does it (a fault is
    returned, not raised); UnreadableResponse when it is not well-formed SOAP."""
    try:
        return SoapAdapter.SoapResponseDeserializer(stub).Deserialize(body, result_type)
    except SoapAdapter.ExpatError as exc:
        raise UnreadableResponse(f"not well-formed XML: {exc}") from None
    except (TypeError, KeyError, AttributeError, ValueError, IndexError) as exc:
        # pyVmomi's decoder fails this way on XML that is well-formed but not a
        # response it knows how to read (an element where none belongs).
        raise UnreadableResponse(f"not a SOAP response pyVmomi can read ({exc})") from None
