"""pyVmomi, typed as ``Any``.

pyVmomi builds ``vim`` and ``vmodl`` at runtime and its partial annotations
make every constructor an untyped call under ``mypy --strict``; the exporter
treats the library as the dynamic thing it is.
"""

from typing import Any

import pyVim.connect
import pyVmomi

_pyvmomi: Any = pyVmomi
_connect: Any = pyVim.connect

vim: Any = _pyvmomi.vim
vmodl: Any = _pyvmomi.vmodl
SoapStubAdapter: Any = _pyvmomi.SoapStubAdapter
VmomiSupport: Any = _pyvmomi.VmomiSupport
GetServiceVersions: Any = _connect.GetServiceVersions
SoapAdapter: Any = _pyvmomi.SoapAdapter
