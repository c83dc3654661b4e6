"""Missing privileges, denied the way a real vCenter denies them (vcsim enforces none).

The launcher's test API makes a SOAP method answer with a ``NoPermission`` fault,
or makes ``RetrievePropertiesEx`` report chosen properties in ``missingSet``.
A fault that stops the export is one line and exit 2; a property the user may
not read becomes an ``unreadable`` entry, and the rules that need it say
``unknown`` where they would have said ``pass`` or ``fail``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import (
    OLD_SNAPSHOT,
    assert_untouched,
    export,
    one_error_line,
)
from tests.vcsim_support import Vcsim

#: The SOAP calls an export makes before it reads the inventory: the fault is on one of them.
#: A user without any role gets System.View on the root folder (group-d1) from Login.
DENIALS = [
    pytest.param("Login", "System.View", ("Folder", "group-d1"), id="login"),
    pytest.param("CreateContainerView", "System.View", ("Folder", "group-d1"), id="first-view"),
    pytest.param("RetrievePropertiesEx", "System.Read", None, id="first-retrieval"),
]


def _soap(calls: list[str]) -> list[str]:
    return [c.removeprefix("SOAP ") for c in calls if c.startswith("SOAP ")]


@pytest.mark.parametrize(("method", "privilege", "obj"), DENIALS)
def test_no_permission_is_one_line_and_leaves_the_old_snapshot(
    vcsim: Vcsim, tmp_path: Path, method: str, privilege: str, obj: tuple[str, str] | None
) -> None:
    out = tmp_path / "snap.json"
    out.write_bytes(OLD_SNAPSHOT)
    vcsim.deny(method, privilege, obj)

    run = export(vcsim, out)

    assert run.code == 2, run.stderr
    line = one_error_line(run.stderr)
    assert line.startswith(f"scalearc-lint: error: 127.0.0.1:{vcsim.port}: permission denied"), line
    assert f"privilege {privilege} missing" in line
    # The object the fault names: the one asked for, else the one the method was called on.
    assert f" on {obj[1] if obj else 'propertyCollector'};" in line
    assert "grant the user at least the Read-only role on the vCenter root, propagated" in line
    assert vcsim.password not in run.stderr
    assert run.stdout == ""
    assert_untouched(out)

    soap = _soap(vcsim.calls())
    assert soap.count(method) == 1, soap  # a missing privilege is not retried
    assert soap[-1] == (method if method == "Login" else "Logout"), soap
